"""Failures the machine or a server causes read as a clear one-line error, never as "internal error"."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import create_engine, text

from airshift.errors import environment_failure
from tests.state.airflow_envs import free_port


def test_file_system_errors_name_the_path() -> None:
    with pytest.raises(OSError) as raised:
        open("/nonexistent-folder/x.txt", "w")  # noqa: SIM115
    assert environment_failure(raised.value) == "/nonexistent-folder/x.txt: No such file or directory"


def test_an_unreachable_database_is_named_without_its_password() -> None:
    engine = create_engine(f"postgresql+psycopg://postgres:pw-Xy12@127.0.0.1:{free_port()}/airflow")
    with pytest.raises(Exception) as raised, engine.connect() as connection:
        connection.execute(text("select 1"))
    message = environment_failure(raised.value)
    assert message is not None and message.startswith("database: connection failed")
    assert "pw-Xy12" not in message


def test_an_unreachable_server() -> None:
    with pytest.raises(httpx.TransportError) as raised:
        httpx.get(f"http://127.0.0.1:{free_port()}/", timeout=5)
    assert (environment_failure(raised.value) or "").startswith("cannot reach the server")


def test_anything_else_stays_a_bug() -> None:
    assert environment_failure(ValueError("x")) is None
    assert environment_failure(KeyError("x")) is None
