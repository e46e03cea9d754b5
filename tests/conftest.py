"""Settings every test shares."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airshift import redaction


@pytest.fixture(autouse=True)
def _each_test_starts_with_no_remembered_secrets() -> Iterator[None]:
    """A command remembers the secrets it reads for the life of its process; tests run many commands in one
    process, so each starts as a fresh command would."""
    redaction.forget_all()
    yield
    redaction.forget_all()
