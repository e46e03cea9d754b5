"""Capture and relay on real Airflow metadata schemas (made by the real `airflow db migrate`) with real
Airflow writes (`airflow dags test` runs the showcase DAG): every transition of every task try reaches
the log, in order, with gap-free offsets, on Airflow 3.3.2 and 2.11.2, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from test_events_support import (  # noqa: F401 (fixture)
    SHOWCASE,
    MetadataDb,
    MetadataFactory,
    airshift,
    metadata_dbs_fixture,
    runtime_with_postgres,
)

from airshift.events.capture import install, status, uninstall
from airshift.events.model import NO_STATE, Event
from airshift.events.outbox import Outbox
from airshift.events.relay import Relay
from airshift.events.stores.sqlite import SqliteEventLog
from airshift.verify.runtimes import Runtime

pytestmark = pytest.mark.integration


def assert_complete_chains(events: list[Event]) -> None:
    """Per task instance / DAG run, every event starts where the previous one ended: none is missing."""
    assert [e.offset for e in events] == list(range(1, len(events) + 1)), "offsets must have no gaps"
    last_state: dict[tuple[str, str, str, int], str] = {}
    for event in events:
        key = (event.dag_id, event.run_id, event.task_id, event.map_index)
        if key in last_state:
            assert (event.previous_state or NO_STATE) == last_state[key], f"transition missing before {event}"
        last_state[key] = event.state


def _final_airflow_states(db: MetadataDb) -> dict[str, tuple[str, int]]:
    engine = create_engine(db.url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT task_id, state, try_number FROM task_instance")).all()
    engine.dispose()
    return {row[0]: (row[1] or NO_STATE, int(row[2])) for row in rows}


# Airflow 3.3.2 on PostgreSQL runs under a real scheduler in test_events_scheduler.py; these two cover
# the other schema family and the other database (kept to two: each costs a migration and a DAG run).
@pytest.mark.parametrize(("version", "backend"), [("3.3.2", "sqlite"), ("2.11.2", "postgres")])
def test_every_transition_of_a_real_dag_run_reaches_the_log(
    metadata_dbs: MetadataFactory, version: str, backend: str, tmp_path: object
) -> None:
    db = metadata_dbs.new(version, backend)
    engine = create_engine(db.url)
    tables_before = set(inspect(engine).get_table_names())

    installed = airshift("events", "install", "--db", db.url)
    assert installed.returncode == 0, installed.stderr
    state = status(engine)
    assert state.installed and state.backlog == 0

    run = db.airflow("dags", "test", SHOWCASE)
    assert "DagRun failed" in run.stdout + run.stderr or run.returncode in (0, 1)
    assert status(engine).backlog > 0

    log_path = tmp_path / "events.db"  # type: ignore[operator]
    relayed = airshift("events", "relay", "--db", db.url, "--log", str(log_path), "--once")
    assert relayed.returncode == 0, relayed.stderr
    assert status(engine).backlog == 0

    events = SqliteEventLog(log_path).read(0, 10_000)
    assert_complete_chains(events)
    by_task: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        by_task[event.task_id].append(event)
    tries = {(e.task_id, e.try_number, e.state) for e in events}
    assert ("flaky", 1, "up_for_retry") in tries and ("flaky", 2, "success") in tries
    assert ("broken", 1, "failed") in tries
    assert any(t == "after_broken" and s == "upstream_failed" for t, _, s in tries)
    assert any(t == "not_chosen" and s == "skipped" for t, _, s in tries)
    assert ("chosen", 1, "success") in tries and ("ok", 1, "success") in tries
    for task_id in ("ok", "broken", "flaky", "branch"):
        states = [e.state for e in by_task[task_id]]
        assert "queued" in states or version.startswith("2"), states
        # Airflow 2's `dags test` runs tasks in its own session and never commits RUNNING (the row goes
        # scheduled -> success in the database); Airflow 3 reports RUNNING through its API.
        assert "running" in states or version.startswith("2"), (task_id, states)
    # The log ends where Airflow's own table ends.
    for task_id, (final_state, final_try) in _final_airflow_states(db).items():
        last = by_task[task_id][-1]
        assert (last.state, last.try_number) == (final_state, final_try), task_id
    assert by_task[""][-1].kind == "dag_run" and by_task[""][-1].state == "failed"

    # Relaying again adds nothing; uninstall leaves Airflow's schema exactly as it was.
    again = airshift("events", "relay", "--db", db.url, "--log", str(log_path), "--once")
    assert "moved 0" in again.stdout
    removed = airshift("events", "uninstall", "--db", db.url)
    assert removed.returncode == 0, removed.stderr
    assert set(inspect(engine).get_table_names()) == tables_before
    assert not status(engine).triggers
    engine.dispose()


def test_rows_committed_late_are_not_skipped_postgres(
    metadata_dbs: MetadataFactory, tmp_path: object
) -> None:
    """Outbox ids are taken at insert but become visible at commit: a transaction that took an id early and
    commits late must still reach the log (an "id > last" cursor would skip it)."""
    db = metadata_dbs.new("3.3.2", "postgres", showcase_run=True)
    engine = create_engine(db.url)
    install(engine)
    log = SqliteEventLog(tmp_path / "events.db")  # type: ignore[operator]
    relay = Relay(Outbox(engine), log)
    relay.drain()

    late = engine.connect()
    late_txn = late.begin()
    late.execute(text("UPDATE task_instance SET state = 'queued' WHERE task_id = 'ok'"))  # takes the lower id
    with engine.begin() as early:
        early.execute(text("UPDATE task_instance SET state = 'queued' WHERE task_id = 'chosen'"))
    first = relay.drain()
    assert first.appended == 1
    late_txn.commit()
    late.close()
    second = relay.drain()
    assert second.appended == 1
    events = log.read(0, 1000)
    assert [(e.task_id, e.state) for e in events[-2:]] == [("chosen", "queued"), ("ok", "queued")]
    assert [e.offset for e in events] == list(range(1, len(events) + 1))

    # A rolled-back state change leaves no event.
    with engine.connect() as connection, connection.begin() as txn:
        connection.execute(text("UPDATE task_instance SET state = 'removed' WHERE task_id = 'ok'"))
        txn.rollback()
    assert relay.drain().moved == 0
    uninstall(engine)
    engine.dispose()


def test_mariadb_trigger_install_captures_a_real_dag_run(
    metadata_dbs: MetadataFactory, tmp_path: Path
) -> None:
    """MariaDB (Airflow 2.11.2, migrated by the real `airflow db migrate`): install, run, relay, uninstall."""
    db = metadata_dbs.new_mariadb("2.11.2")
    engine = create_engine(db.url)
    tables_before = set(inspect(engine).get_table_names())
    installed = airshift("events", "install", "--db", db.url)
    assert installed.returncode == 0, installed.stderr
    assert "mysql" in installed.stdout and status(engine).installed

    db.airflow("dags", "test", SHOWCASE)
    log_path = tmp_path / "events.db"
    relayed = airshift("events", "relay", "--db", db.url, "--log", str(log_path), "--once")
    assert relayed.returncode == 0, relayed.stderr
    events = SqliteEventLog(log_path).read(0, 10_000)
    assert_complete_chains(events)
    tries = {(e.task_id, e.try_number, e.state) for e in events}
    assert {("flaky", 1, "up_for_retry"), ("flaky", 2, "success"), ("broken", 1, "failed")} <= tries
    assert any(t == "after_broken" and s == "upstream_failed" for t, _, s in tries)
    for task_id, (final_state, final_try) in _final_airflow_states(db).items():
        last = [e for e in events if e.task_id == task_id][-1]
        assert (last.state, last.try_number) == (final_state, final_try), task_id

    removed = airshift("events", "uninstall", "--db", db.url)
    assert removed.returncode == 0, removed.stderr
    assert set(inspect(engine).get_table_names()) == tables_before and not status(engine).triggers
    engine.dispose()


def test_airflow_db_migrate_and_reset_with_the_capture_installed(metadata_dbs: MetadataFactory) -> None:
    """What docs/commands/events.md says: `airflow db migrate` runs with the capture installed and keeps
    it; `airflow db reset` drops Airflow's tables and our triggers with them, keeps the outbox and its
    backlog, and `install` puts the triggers back."""
    db = metadata_dbs.new("3.3.2", "sqlite", showcase_run=True)
    engine = create_engine(db.url)
    install(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE task_instance SET state = 'queued' WHERE task_id = 'ok'"))
    migrated = db.airflow("db", "migrate")
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    assert status(engine).installed and status(engine).backlog == 1

    reset = db.airflow("db", "reset", "--yes")
    assert reset.returncode == 0, reset.stderr[-2000:]
    after = status(engine)
    assert after.outbox_present and after.backlog == 1 and not after.triggers
    assert install(engine).installed
    engine.dispose()


def test_airflow_db_migrate_211_to_33_with_the_capture_installed_on_postgres(
    metadata_dbs: MetadataFactory,
) -> None:
    """The statement-level triggers stay in place while Airflow 3.3.2's `airflow db migrate` upgrades a
    2.11.2 database (renaming dag_run.execution_date to logical_date, adding columns, rewriting rows), and
    capture the first transition after it, with the renamed column read."""
    db = metadata_dbs.new("2.11.2", "postgres", showcase_run=True)
    engine = create_engine(db.url)
    install(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE task_instance SET state = 'queued' WHERE task_id = 'ok'"))
    newer = MetadataDb(runtime_with_postgres("3.3.2"), db.home, db.airflow_url, db.url, db.pg_name)
    migrated = newer.airflow("db", "migrate")
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    after = status(engine)
    assert after.installed, after
    assert after.backlog == 1  # the migration's own row rewrites changed no state: nothing captured
    with engine.begin() as connection:
        connection.execute(text("UPDATE task_instance SET state = 'success' WHERE task_id = 'ok'"))
        connection.execute(text("UPDATE dag_run SET state = 'running'"))
    log = SqliteEventLog(db.home / "events.db")
    Relay(Outbox(engine), log).drain()
    ok = [e for e in log.read(0, 100) if e.task_id == "ok"]
    assert [(e.previous_state, e.state) for e in ok] == [("success", "queued"), ("queued", "success")]
    run = [e for e in log.read(0, 100) if e.kind == "dag_run"]
    assert run[-1].state == "running" and run[-1].logical_date  # dag_run.logical_date, after the rename
    engine.dispose()


def test_airflow_110_schema_on_sqlite(runtime_110: Runtime, tmp_path: Path) -> None:
    """Airflow 1.10 keys task instances by execution_date (no run_id, no map_index): the triggers look the
    run id up in dag_run. Schema made by the real `airflow initdb` of 1.10.15; writes shaped like 1.10's."""
    path = tmp_path / "airflow.db"
    env = runtime_110.env()
    for name in [n for n in env if n.startswith("AIRFLOW")]:
        del env[name]
    env.update(
        AIRFLOW_HOME=str(tmp_path), AIRFLOW__CORE__SQL_ALCHEMY_CONN=f"sqlite:///{path}",
        AIRFLOW__CORE__LOAD_EXAMPLES="False", AIRFLOW__CORE__DAGS_FOLDER=str(tmp_path / "dags"),
    )  # fmt: skip
    done = subprocess.run(
        [str(runtime_110.bin_dir / "airflow"), "initdb"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    engine = create_engine(f"sqlite:///{path}")
    assert install(engine).schema_generation.startswith("Airflow 1.10")
    when = "2024-01-01 00:00:00.000000"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO dag_run (dag_id, run_id, execution_date, state) "
                "VALUES ('legacy', 'scheduled__2024-01-01T00:00:00+00:00', :when, 'running')"
            ),
            {"when": when},
        )
        connection.execute(
            text(
                "INSERT INTO task_instance (task_id, dag_id, execution_date, try_number, pool, pool_slots) "
                "VALUES ('extract', 'legacy', :when, 0, 'default_pool', 1)"
            ),
            {"when": when},
        )
    for state, attempt in (("scheduled", 0), ("queued", 0), ("running", 1), ("success", 1)):
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE task_instance SET state = :state, try_number = :try"),
                {"state": state, "try": attempt},
            )
    log = SqliteEventLog(tmp_path / "events.db")
    Relay(Outbox(engine), log).drain()
    events = [e for e in log.read(0, 100) if e.kind == "task_instance"]
    assert_complete_chains(log.read(0, 100))
    assert [(e.state, e.try_number) for e in events] == [
        ("none", 0), ("scheduled", 0), ("queued", 0), ("running", 1), ("success", 1)
    ]  # fmt: skip
    assert {e.run_id for e in events} == {"scheduled__2024-01-01T00:00:00+00:00"}
    assert all(e.logical_date and e.logical_date.startswith("2024-01-01") for e in events)
    uninstall(engine)
    engine.dispose()
