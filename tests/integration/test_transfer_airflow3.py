"""`airshift transfer` into a real Airflow 3.3.2 api-server (metadata on PostgreSQL), from real 2.11.2
(PostgreSQL) and 1.10.15 (SQLite) metadata DBs and from 2.11's export files. Everything is read back
through Airflow 3's own models: values equal, passwords decrypt under the target's Fernet key, and a
second run writes nothing."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from airshift.cli import app
from tests.state import shared_sources as shared
from tests.state.airflow3_target import Target, airflow3_target
from tests.state.airflow_envs import PG_ADMIN_URL, AirflowEnv, postgres_database
from tests.state.source_fixtures import CONNECTIONS, HISTORY_CONF, PAUSED, POOLS, VARIABLES
from tests.state.synthetic_history import SYNTHETIC_DAG, grow_history

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
    source.cli_batch([[kind, "export", str(path)] for kind, path in files.items()])
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


def test_inventory_checks_generation_and_arrivals(target: Target, ledger: Path, tmp_path: Path) -> None:
    """`transfer --inventory`: the inventory of the 2.11 source (read by `airshift inventory`) is checked
    against what arrived; an inventory claiming more, or another generation, is refused by name."""
    source = shared.source_211()
    url = source.db_url.replace("+psycopg2", "")
    inventory = tmp_path / "inventory.json"
    made = CliRunner().invoke(app, ["inventory", url, "-o", str(inventory), "--quiet"])
    assert made.exit_code == 0, made.output
    args = ["--from", url, "--from-fernet-key-file", str(shared.key_file(source, tmp_path)),
            "--on-conflict", "overwrite", "--inventory", str(inventory)]  # fmt: skip

    done = transfer(target, ledger, *args)
    assert done.exit_code == 0, done.output
    n_vars, n_conns = len(VARIABLES), len(CONNECTIONS)
    n_pools = len(POOLS) + 1  # and default_pool
    assert (
        f"variables: inventory {n_vars}, read from the source {n_vars}, on the target {n_vars}" in done.output
    )
    assert f"connections: inventory {n_conns}, read from the source {n_conns}, on the target {n_conns}" in (
        done.output
    )
    assert (
        f"pools: inventory {n_pools}, read from the source {n_pools}, on the target {n_pools}" in done.output
    )

    data = json.loads(inventory.read_text())
    data["databases"][0]["variables"] = n_vars + 1  # a variable deleted on the source since the inventory
    inventory.write_text(json.dumps(data))
    short = transfer(target, ledger, *args)
    assert short.exit_code == 1, short.output
    assert f"counted {n_vars + 1}, but only {n_vars} arrived" in short.output.replace("\n", " ")

    data["airflow_version"] = data["databases"][0]["airflow_version"] = "3.x"
    inventory.write_text(json.dumps(data))
    other = transfer(target, ledger, *args)
    assert other.exit_code != 0
    message = str(other.exception) + other.output
    assert f"inventory {inventory} records Airflow 3, but --from" in message and "is Airflow 2" in message


def _source_history(
    url: str, dag_id: str | None = None, has_version: bool = True
) -> dict[str, list[list[object]]]:
    """Runs and task instances as the 2.11 source holds them, in the shape Target.history() returns."""
    engine = create_engine(url)
    where = "" if dag_id is None else f" WHERE dag_id = '{dag_id}'"
    with engine.connect() as connection:
        runs = connection.execute(text(
            "SELECT dag_id, run_id, run_type, state, execution_date, data_interval_start, external_trigger, conf "
            f"FROM dag_run{where}"
        )).all()  # fmt: skip
        tis = connection.execute(
            text(f"SELECT dag_id, task_id, run_id, map_index, state, try_number FROM task_instance{where}")
        ).all()
    engine.dispose()
    return {
        "runs": sorted(
            [
                d,
                r,
                t,
                s,
                e.isoformat(),
                i.isoformat(),
                "cli" if t == "manual" else "timetable",
                pickle.loads(c) if c else None,
            ]
            for d, r, t, s, e, i, _x, c in runs
        ),
        "tis": sorted([*row, has_version, 7] for row in tis),
    }


def _history_args(source_url: str, target: Target) -> list[str]:
    return ["--from", source_url, "--to-db", target.db_url, "--what", "history"]


def test_history_from_211_and_110(target: Target, ledger: Path) -> None:
    source_url = shared.source_211().db_url.replace("+psycopg2", "")
    expected = _source_history(source_url)
    assert expected["runs"] and expected["tis"]
    assert any(run[7] == HISTORY_CONF for run in expected["runs"])

    planned = transfer(target, ledger, *_history_args(source_url, target), "--dry-run")
    assert planned.exit_code == 0 and "3 finished dag run(s) and 5 task" in planned.output, planned.output
    assert target.history()["runs"] == []

    done = transfer(target, ledger, *_history_args(source_url, target))
    assert done.exit_code == 0, done.output
    assert target.history() == expected  # states, dates, data intervals, conf, UUIDv7 ids, DAG versions
    again = transfer(target, ledger, *_history_args(source_url, target))
    assert "0 of 0 dag run(s)" in again.output and target.history() == expected

    # The 1.10 backfill runs share logical dates with the 2.11 runs: the target keeps its own runs.
    source_110 = shared.source_110().db_url
    clash = transfer(target, ledger, *_history_args(source_110, target))
    assert clash.exit_code == 0, clash.output
    assert "0 of 3 dag run(s)" in clash.output and "5 task instance(s) skipped" in clash.output
    assert target.history() == expected

    # On an empty history the 1.10 runs arrive, translated (run type and trigger from the run id).
    engine = create_engine(target.db_url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM task_instance"))
        connection.execute(text("DELETE FROM dag_run"))
    engine.dispose()
    copied = transfer(target, ledger.with_name("ledger-110.sqlite"), *_history_args(source_110, target))
    assert copied.exit_code == 0, copied.output
    history = target.history()
    assert [[*run[:5], run[6]] for run in history["runs"]] == [
        ["etl_daily", "backfill_2024-01-01T00:00:00+00:00", "backfill", "success", "2024-01-01T00:00:00+00:00",
         "backfill"],
        ["etl_daily", "backfill_2024-01-02T00:00:00+00:00", "backfill", "success", "2024-01-02T00:00:00+00:00",
         "backfill"],
        ["reports_hourly", "backfill_2024-01-01T00:00:00+00:00", "backfill", "success",
         "2024-01-01T00:00:00+00:00", "backfill"],
    ]  # fmt: skip
    assert len(history["tis"]) == 5 and all(ti[4] == "success" and ti[7] == 7 for ti in history["tis"])
    # 1.10 stored no data intervals: each run gets the one its schedule gave it (starting at its date).
    assert all(run[5] == run[4] for run in history["runs"]), history["runs"]

    # The same 1.10 history kept on MariaDB (as Composer 1 kept it on MySQL) arrives the same way.
    engine = create_engine(target.db_url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM task_instance"))
        connection.execute(text("DELETE FROM dag_run"))
    engine.dispose()
    source_mariadb = shared.source_110_mariadb().db_url
    from_mariadb = transfer(
        target, ledger.with_name("ledger-110-mariadb.sqlite"), *_history_args(source_mariadb, target)
    )
    assert from_mariadb.exit_code == 0, from_mariadb.output
    assert "3 of 3 dag run(s) and 5 of 5 task instance(s) written" in from_mariadb.output
    assert target.history() == history


def test_history_killed_midway_then_rerun(target: Target, tmp_path: Path) -> None:
    """SIGKILL the copy while it streams, run it again: every source row exactly once on the target."""
    source = shared.source_211()
    with postgres_database("airshift_big") as name:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}"'))
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source.db_url.rsplit("/", 1)[1]}"'))
        admin.dispose()
        source_url = f"postgresql://postgres@127.0.0.1:5432/{name}"
        grow_history(source_url, runs=200, tasks_per_run=10)
        expected = _source_history(source_url, SYNTHETIC_DAG, has_version=False)
        ledger = tmp_path / "ledger.sqlite"
        command = [sys.executable, "-m", "airshift", "transfer", *_history_args(source_url, target),
                   "--dags", SYNTHETIC_DAG, "--batch-size", "5", "--ledger", str(ledger)]  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        engine = create_engine(target.db_url)
        copied = 0
        with engine.connect() as connection:
            while process.poll() is None and copied < 100:
                copied = connection.execute(
                    text("SELECT count(*) FROM task_instance WHERE dag_id = :d"), {"d": SYNTHETIC_DAG}
                ).scalar_one()
                connection.rollback()
        process.kill()
        process.wait()
        with engine.connect() as connection:
            after_kill = connection.execute(
                text("SELECT count(*) FROM task_instance WHERE dag_id = :d"), {"d": SYNTHETIC_DAG}
            ).scalar_one()
        engine.dispose()
        assert 0 < after_kill < len(expected["tis"]), "the copy was not interrupted midway"

        rerun = subprocess.run(command, capture_output=True, text=True, check=False)
        assert rerun.returncode == 0, rerun.stderr
        assert target.history(SYNTHETIC_DAG) == expected
