"""`airshift transfer` into a real Airflow 2.11.2 webserver (`/api/v1`, basic auth, metadata on
PostgreSQL), from real 2.11.2 (PostgreSQL) and 1.10.15 (SQLite) metadata DBs. Everything is read back
through Airflow 2.11's own models: values equal, passwords decrypt under the target's Fernet key, paused
flags applied, a second run writes nothing, and copied history is what 2.11's DagRun/TaskInstance see."""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from airshift.cli import app
from tests.state import shared_sources as shared
from tests.state.airflow2_webserver import Webserver, airflow2_webserver
from tests.state.airflow_envs import AirflowEnv
from tests.state.source_fixtures import CONNECTIONS, HISTORY_CONF, PAUSED, POOLS, VARIABLES

pytestmark = pytest.mark.integration

SECRETS = [password for (_t, _h, _l, password, *_rest) in CONNECTIONS.values()] + [VARIABLES["db_password"]]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Webserver]:
    with airflow2_webserver(tmp_path_factory.mktemp("af211web")) as started:
        yield started


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ledger2") / "ledger.sqlite"


def transfer(target: Webserver, ledger: Path, *args: str, password_file: Path | None = None) -> Result:
    password_file = password_file or target.password_file
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["transfer", "--to", target.base_url, "--to-user", target.user, "--to-password-file",
         str(password_file), "--ledger", str(ledger), *args],
        env={"COLUMNS": "250"},
    )  # fmt: skip
    shown = result.output + (str(result.exception) if result.exception else "")
    for secret in [*SECRETS, target.password_file.read_text().strip(), *target.env.fernet_keys]:
        assert secret not in shown
    return result


def assert_connections_equal(state: dict[str, object]) -> None:
    connections = state["connections"]
    assert isinstance(connections, dict)
    for conn_id, (conn_type, host, login, password, port, schema, extra) in CONNECTIONS.items():
        got = connections[conn_id]
        assert got[:6] == [conn_type, host, login, password, port, schema], conn_id
        assert json.loads(got[6]) == extra


def stored_connections(target: Webserver) -> list[tuple[str, bool]]:
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:5432/{target.db_name}")
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT password, is_encrypted FROM connection")).all()
    engine.dispose()
    return [(str(password), bool(flag)) for password, flag in rows]


def ledger_bytes(ledger: Path) -> bytes:
    wal = Path(f"{ledger}-wal")
    return ledger.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_211_database_to_airflow2(target: Webserver, ledger: Path, tmp_path: Path) -> None:
    source = shared.source_211()
    args = ["--from", source.db_url.replace("+psycopg2", ""), "--from-fernet-key-file",
            str(shared.key_file(source, tmp_path))]  # fmt: skip

    planned = transfer(target, ledger, *args, "--dry-run")
    assert planned.exit_code == 0, planned.output
    assert "Airflow 2.11.2 webserver (/api/v1)" in planned.output
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
    stored = stored_connections(target)
    assert stored and all(flag and password not in SECRETS for password, flag in stored)
    assert not any(secret.encode() in ledger_bytes(ledger) for secret in SECRETS)

    # The 2.x API never returns passwords: the ledger proves they are the ones written.
    again = transfer(target, ledger, *args, "--on-conflict", "fail")
    assert again.exit_code == 0, again.output
    assert (
        "wrote 0 object(s)" in again.output and "unchanged (written by an earlier transfer)" in again.output
    )
    assert target.state() == state


def test_110_database_conflicts_then_overwrite(target: Webserver, ledger: Path, tmp_path: Path) -> None:
    source: AirflowEnv = shared.source_110()
    args = ["--from", source.db_url, "--from-fernet-key-file", str(shared.key_file(source, tmp_path))]
    before = target.state()

    refused = transfer(target, ledger, *args, "--on-conflict", "fail")
    assert refused.exit_code != 0
    assert "nothing was written" in str(refused.exception)
    assert target.state() == before

    # Without the ledger, a connection's password cannot be compared (write-only): a conflict, not a
    # guess; with --on-conflict skip it is left as it is.
    unknown = transfer(target, tmp_path / "other-ledger.sqlite", *args, "--what", "connections", "--dry-run")
    assert unknown.exit_code == 0, unknown.output
    assert unknown.output.count("the API hides its secret fields") == len(CONNECTIONS)

    # 1.10 variables have no description: they differ from what the 2.11 transfer wrote.
    done = transfer(target, ledger, *args, "--on-conflict", "overwrite")
    assert done.exit_code == 0, done.output
    state = target.state()
    assert state["variables"] == {key: [value, None] for key, value in VARIABLES.items()}
    assert_connections_equal(state)
    assert state["paused"] == PAUSED

    again = transfer(target, ledger, *args, "--on-conflict", "fail")
    assert again.exit_code == 0, again.output
    assert "wrote 0 object(s)" in again.output


def test_overwrite_writes_every_field(target: Webserver, ledger: Path, tmp_path: Path) -> None:
    """A connection changed on the target is a conflict; an overwrite (PATCH of every field) restores
    the source's connection whole, its password included."""
    target.env.cli_batch([["connections", "delete", "api_http"],
                          ["connections", "add", "api_http", "--conn-type", "http", "--conn-host", "other.invalid",
                           "--conn-password", "changed"]])  # fmt: skip
    source = shared.source_110()
    args = ["--from", source.db_url, "--from-fernet-key-file", str(shared.key_file(source, tmp_path)),
            "--what", "connections"]  # fmt: skip
    refused = transfer(target, ledger, *args, "--on-conflict", "fail")
    assert refused.exit_code != 0 and "connections 'api_http'" in str(refused.exception)
    done = transfer(target, ledger, *args, "--on-conflict", "overwrite")
    assert done.exit_code == 0, done.output
    assert_connections_equal(target.state())


def test_refused_object_is_named_without_its_values(target: Webserver, tmp_path: Path) -> None:
    """Airflow 2 refuses a connection id it cannot store; the others of the batch are still written,
    and the error names the refused one with Airflow's reason, never the values sent."""
    secret = "very-secret-pw-9f3"
    export = tmp_path / "connections.json"
    export.write_text(json.dumps({
        "bad id!": {"conn_type": "http", "host": "h.invalid", "password": secret, "extra": {"token": secret}},
        "good_after_bad": {"conn_type": "http", "host": "g.invalid", "password": secret},
    }), encoding="utf-8")  # fmt: skip
    result = transfer(target, tmp_path / "ledger.sqlite", "--from", str(export))
    assert result.exit_code != 0
    message = str(result.exception)
    assert "refused 1 of 2 connections" in message and "creating connection 'bad id!': HTTP 400" in message
    assert secret not in message and secret not in result.output
    connections = target.state()["connections"]
    assert isinstance(connections, dict)
    assert connections["good_after_bad"][3] == secret and "bad id!" not in connections


def test_wrong_password_is_refused_clearly(target: Webserver, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.password"
    wrong.write_text("not-the-password", encoding="utf-8")
    source = shared.source_211()
    result = transfer(
        target, tmp_path / "ledger.sqlite", "--from", source.db_url.replace("+psycopg2", ""),
        "--from-fernet-key-file", str(shared.key_file(source, tmp_path)), "--what", "pools",
        password_file=wrong,
    )  # fmt: skip
    assert result.exit_code != 0
    message = str(result.exception)
    assert "HTTP 40" in message and "basic auth" in message and "not-the-password" not in message


def _source_history(url: str) -> dict[str, list[list[object]]]:
    """Runs and task instances as the 2.11 source holds them, in the shape Webserver.history() returns."""
    engine = create_engine(url)
    with engine.connect() as connection:
        runs = connection.execute(text(
            "SELECT dag_id, run_id, run_type, state, execution_date, data_interval_start, external_trigger, conf "
            "FROM dag_run"
        )).all()  # fmt: skip
        tis = connection.execute(
            text(
                "SELECT t.dag_id, t.task_id, t.run_id, t.map_index, t.state, t.try_number, r.execution_date "
                "FROM task_instance t JOIN dag_run r ON r.dag_id = t.dag_id AND r.run_id = t.run_id"
            )
        ).all()
    engine.dispose()
    return {
        "runs": sorted(
            [d, r, t, s, e.isoformat(), i.isoformat(), x, pickle.loads(c) if c else None]
            for d, r, t, s, e, i, x, c in runs
        ),
        "tis": sorted([*row[:6], row[6].isoformat()] for row in tis),
    }


def _history_args(source_url: str, target: Webserver) -> list[str]:
    return ["--from", source_url, "--to-db", target.db_url, "--what", "history"]


def test_history_from_211_and_110(target: Webserver, ledger: Path) -> None:
    source_url = shared.source_211().db_url.replace("+psycopg2", "")
    expected = _source_history(source_url)
    assert expected["runs"] and expected["tis"]
    assert any(run[7] == HISTORY_CONF for run in expected["runs"])

    planned = transfer(target, ledger, *_history_args(source_url, target), "--dry-run")
    assert planned.exit_code == 0 and "3 finished dag run(s) and 5 task" in planned.output, planned.output
    assert target.history()["runs"] == []

    done = transfer(target, ledger, *_history_args(source_url, target))
    assert done.exit_code == 0, done.output
    assert "3 of 3 dag run(s)" in done.output and "5 of 5 task instance(s)" in done.output
    assert target.history() == expected  # states, dates, intervals, external_trigger, conf (pickled)
    again = transfer(target, ledger, *_history_args(source_url, target))
    assert "0 of 0 dag run(s)" in again.output and target.history() == expected

    engine = create_engine(target.db_url)
    with engine.connect() as connection:
        links = connection.execute(
            text(
                "SELECT count(*) FROM dag_run r JOIN serialized_dag s ON s.dag_id = r.dag_id "
                "AND s.dag_hash = r.dag_hash WHERE r.log_template_id = (SELECT max(id) FROM log_template)"
            )
        ).scalar_one()
    assert links == 3  # the target's serialized DAG hash and newest log template

    # The 1.10 backfill runs share execution dates with the 2.11 runs: the target keeps its own runs.
    source_110 = shared.source_110().db_url
    clash = transfer(target, ledger, *_history_args(source_110, target))
    assert clash.exit_code == 0, clash.output
    assert "0 of 3 dag run(s)" in clash.output and "5 task instance(s) skipped" in clash.output
    assert target.history() == expected

    # On an empty history the 1.10 runs arrive, translated (run type from the run id, task instances
    # keyed by run id instead of execution date).
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM task_instance"))
        connection.execute(text("DELETE FROM dag_run"))
    engine.dispose()
    copied = transfer(target, ledger.with_name("ledger-110.sqlite"), *_history_args(source_110, target))
    assert copied.exit_code == 0, copied.output
    history = target.history()
    assert [run[:5] + run[6:] for run in history["runs"]] == [
        ["etl_daily", "backfill_2024-01-01T00:00:00+00:00", "backfill", "success", "2024-01-01T00:00:00+00:00",
         False, None],
        ["etl_daily", "backfill_2024-01-02T00:00:00+00:00", "backfill", "success", "2024-01-02T00:00:00+00:00",
         False, None],
        ["reports_hourly", "backfill_2024-01-01T00:00:00+00:00", "backfill", "success",
         "2024-01-01T00:00:00+00:00", False, None],
    ]  # fmt: skip
    # 1.10 stored no data interval: it comes from the source's schedule (start = the execution date).
    assert all(run[5] == run[4] for run in history["runs"])
    assert len(history["tis"]) == 5
    assert all(ti[4] == "success" and ti[2].startswith("backfill_") for ti in history["tis"])
    assert all(ti[6] == ti[2].removeprefix("backfill_") for ti in history["tis"])
