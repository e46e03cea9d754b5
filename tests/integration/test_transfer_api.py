"""`airshift transfer` into a real Airflow 3.3.2 api-server (metadata on PostgreSQL), from real 2.11.2
(PostgreSQL) and 1.10.15 (SQLite) metadata DBs and from 2.11's export files. Everything is read back
through Airflow 3's own models: values equal, passwords decrypt under the target's Fernet key, and a
second run writes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from airshift.cli import app
from tests.state import shared_sources as shared
from tests.state.airflow3_target import Target, airflow3_target
from tests.state.airflow_envs import AirflowEnv
from tests.state.source_fixtures import CONNECTIONS, PAUSED, POOLS, VARIABLES

pytestmark = pytest.mark.integration

SECRETS = [password for (_t, _h, _l, password, *_rest) in CONNECTIONS.values()] + [VARIABLES["db_password"]]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with airflow3_target(tmp_path_factory.mktemp("af33")) as started:
        yield started


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ledger") / "ledger.sqlite"


def transfer(target: Target, ledger: Path, *args: str) -> Result:
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["transfer", "--to", target.base_url, "--to-user", "admin", "--to-password-file",
         str(target.password_file), "--ledger", str(ledger), *args],
        env={"COLUMNS": "250"},
    )  # fmt: skip
    for secret in [*SECRETS, target.password_file.read_text()]:
        assert secret not in result.output
    return result


def assert_connections_equal(state: dict[str, object]) -> None:
    connections = state["connections"]
    assert isinstance(connections, dict)
    for conn_id, (conn_type, host, login, password, port, schema, extra) in CONNECTIONS.items():
        got = connections[conn_id]
        assert got[:6] == [conn_type, host, login, password, port, schema], conn_id
        assert json.loads(got[6]) == extra


def test_211_database_to_airflow3(target: Target, ledger: Path, tmp_path: Path) -> None:
    source = shared.source_211()
    args = ["--from", source.db_url.replace("+psycopg2", ""), "--from-fernet-key-file",
            str(shared.key_file(source, tmp_path))]  # fmt: skip

    planned = transfer(target, ledger, *args, "--dry-run")
    assert planned.exit_code == 0, planned.output
    assert "unpause" in planned.output and "create" in planned.output
    before = target.state()
    assert before["variables"] == {} and not ledger.exists()

    done = transfer(target, ledger, *args)
    assert done.exit_code == 0, done.output
    state = target.state()
    assert state["variables"] == {
        key: [value, None if key == "early_var" else f"about {key}"] for key, value in VARIABLES.items()
    }
    assert_connections_equal(state)
    pools = state["pools"]
    assert isinstance(pools, dict)
    assert {name: tuple(pools[name]) for name in POOLS} == POOLS
    assert state["paused"] == PAUSED

    # Stored encrypted under the target's key (the read above decrypted it with that key).
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:5432/{target.db_name}")
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT password, is_encrypted FROM connection")).all()
    engine.dispose()
    assert stored and all(flag and password not in SECRETS for password, flag in stored)
    ledger_bytes = (
        ledger.read_bytes() + Path(f"{ledger}-wal").read_bytes() if Path(f"{ledger}-wal").exists() else b""
    )
    assert not any(secret.encode() in ledger_bytes for secret in SECRETS)

    again = transfer(target, ledger, *args)
    assert again.exit_code == 0, again.output
    assert "wrote 0 object(s)" in again.output
    assert target.state() == state


def test_110_database_conflicts_then_overwrite(target: Target, ledger: Path, tmp_path: Path) -> None:
    source: AirflowEnv = shared.source_110()
    args = ["--from", source.db_url, "--from-fernet-key-file", str(shared.key_file(source, tmp_path))]
    before = target.state()

    refused = transfer(target, ledger, *args, "--on-conflict", "fail")
    assert refused.exit_code != 0
    assert "nothing was written" in str(refused.exception)
    assert target.state() == before

    # 1.10 variables have no description: they differ from what the 2.11 transfer wrote.
    done = transfer(target, ledger, *args, "--on-conflict", "overwrite")
    assert done.exit_code == 0, done.output
    state = target.state()
    assert state["variables"] == {key: [value, None] for key, value in VARIABLES.items()}
    assert_connections_equal(state)

    again = transfer(target, ledger, *args, "--on-conflict", "fail")
    assert again.exit_code == 0, again.output
    assert "wrote 0 object(s)" in again.output


def test_export_files_to_airflow3(target: Target, tmp_path: Path) -> None:
    source = shared.source_211()
    files = {kind: tmp_path / f"{kind}.json" for kind in ("variables", "pools", "connections")}
    for kind, path in files.items():
        source.cli(kind, "export", str(path))
    args = [item for path in files.values() for item in ("--from", str(path))]
    done = transfer(target, tmp_path / "ledger.sqlite", *args, "--on-conflict", "overwrite")
    assert done.exit_code == 0, done.output
    state = target.state()
    variables = state["variables"]
    assert isinstance(variables, dict)
    # `variables export` decodes JSON values; they come back as equal JSON, not byte-equal text.
    assert {
        key: json.loads(value) if key == "json_cfg" else value for key, (value, _d) in variables.items()
    } == {key: json.loads(value) if key == "json_cfg" else value for key, value in VARIABLES.items()}
    assert_connections_equal(state)
