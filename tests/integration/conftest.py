"""Session-wide real Airflow runtimes (cached venvs built with uv; the first run takes a minute or so).

The cache is the normal one (`$AIRSHIFT_RUNTIME_DIR` or `~/.cache/airshift/runtimes`), so later test
sessions and the CLI reuse the same venvs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import TYPE_CHECKING

import pytest

from airshift.errors import AirshiftError
from airshift.verify.runtimes import Runtime, ensure_runtime

if TYPE_CHECKING:
    from tests.state.airflow3_target import Target


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


@pytest.fixture(scope="session")
def cutover_new_side(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """One running Airflow 3.3.2 (api-server, dag-processor, scheduler, on PostgreSQL) shared by the
    cutover tests: starting it is a minute of CPU. Each test adds its own DAG file with its own DAG ids
    (`Target.add_dag_file`), so the tests stay independent."""
    from tests.integration.test_cutover import _env_for_scheduling, background
    from tests.state.airflow3_target import airflow3_target

    with ExitStack() as stack:
        new = stack.enter_context(airflow3_target(tmp_path_factory.mktemp("cutover-new"), dags=""))
        _env_for_scheduling(new.env, 3)
        stack.enter_context(background(new.env, "dag-processor"))
        stack.enter_context(background(new.env, "scheduler"))
        yield new
