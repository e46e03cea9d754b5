"""Session-wide real Airflow runtimes (cached venvs built with uv; the first run takes a minute or so).

The cache is the normal one (`$AIRSHIFT_RUNTIME_DIR` or `~/.cache/airshift/runtimes`), so later test
sessions and the CLI reuse the same venvs.
"""

from __future__ import annotations

import pytest

from airshift.errors import AirshiftError
from airshift.verify.runtimes import Runtime, ensure_runtime


def _ensure(version: str) -> Runtime:
    try:
        return ensure_runtime(version)
    except AirshiftError as error:
        if "No Python interpreter found" in str(error):
            pytest.skip(str(error))
        raise


@pytest.fixture(scope="session")
def runtime_110() -> Runtime:
    """Airflow 1.10.15 on Python 3.8 (pinned)."""
    return _ensure("1.10.15")


@pytest.fixture(scope="session")
def runtime_211() -> Runtime:
    """Airflow 2.11.2 on Python 3.12 (pinned)."""
    return _ensure("2.11.2")


@pytest.fixture(scope="session")
def runtime_33() -> Runtime:
    """Airflow 3.3.2 on Python 3.12 (pinned)."""
    return _ensure("3.3.2")
