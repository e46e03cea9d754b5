"""The whole thing on a real Airflow 3.3.2 deployment: api-server, scheduler and dag-processor
(LocalExecutor, metadata on the local PostgreSQL) run the showcase DAG, then a clear of `broken` and
its downstream reruns them. The log holds every transition of every task try and of the DAG run, in
order, none missing: the scheduler's bulk UPDATEs (scheduled, queued, upstream_failed, skipped) and
the clear (None, a new DAG-run attempt) included."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from test_events_capture import assert_complete_chains
from test_events_support import SHOWCASE, MetadataDb, MetadataFactory, airshift, metadata_dbs_fixture  # noqa: F401

from airshift.events.capture import install
from airshift.events.model import NO_STATE, Event
from airshift.events.stores.sqlite import SqliteEventLog
from tests.state.airflow_envs import free_port

pytestmark = pytest.mark.integration
WAIT_SECONDS = 420


def _wait(engine: Engine, sql: str, what: str, processes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        with engine.connect() as connection:
            if connection.execute(text(sql)).scalar():
                return
        for process in processes:
            assert process.poll() is None, f"an Airflow component exited while waiting for {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(1)


@contextmanager
def airflow3_deployment(db: MetadataDb, folder: Path) -> Iterator[dict[str, str]]:
    """api-server, dag-processor and scheduler (LocalExecutor) on `db`; yields their environment."""
    port = free_port()
    env = {
        **db.env(),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
        "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
    }
    commands = (
        ["api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
        ["dag-processor"],
        ["scheduler"],
    )
    processes = []
    try:
        for command in commands:
            output = open(folder / f"{command[0]}.log", "wb")  # noqa: SIM115 (kept open for the process)
            process = subprocess.Popen(
                [str(db.runtime.bin_dir / "airflow"), *command], env=env, cwd=db.home,
                stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
            processes.append(process)
        yield env
        for process in processes:
            assert process.poll() is None, "an Airflow component died during the test"
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)


@pytest.fixture
def deployment(metadata_dbs: MetadataFactory, tmp_path: Path) -> Iterator[tuple[MetadataDb, dict[str, str]]]:
    db = metadata_dbs.new("3.3.2", "postgres")
    with airflow3_deployment(db, tmp_path) as env:
        yield db, env


def run_showcase_then_clear(db: MetadataDb, env: dict[str, str], engine: Engine) -> None:
    """Trigger the showcase DAG under the scheduler, wait for it, clear `broken` (and downstream) and wait
    for the rerun: every kind of transition, the scheduler's bulk UPDATEs and a clear included."""
    airflow = str(db.runtime.bin_dir / "airflow")
    running: list[subprocess.Popen[bytes]] = []

    def cli(*args: str) -> None:
        done = subprocess.run(
            [airflow, *args], env=env, cwd=db.home, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr[-2000:]

    _wait(
        engine,
        f"SELECT COUNT(*) FROM serialized_dag WHERE dag_id = '{SHOWCASE}'",
        "the DAG to be parsed",
        running,
    )
    cli("dags", "trigger", SHOWCASE)
    finished = f"SELECT COUNT(*) FROM dag_run WHERE dag_id = '{SHOWCASE}' AND state IN ('success', 'failed')"
    _wait(engine, finished, "the DAG run to finish", running)
    # Clears broken and (downstream) after_broken; the pattern is searched, so no anchors are needed
    # (3.3.2 matched nothing with "^broken$").
    cli("tasks", "clear", SHOWCASE, "--task-regex", "broken", "--downstream", "--yes")
    _wait(engine, finished + " AND clear_number = 1", "the rerun DAG run to finish", running)


def assert_showcase_history(events: list[Event], engine: Engine) -> None:
    """The log of run_showcase_then_clear holds every transition, as the DAG defines them."""
    assert_complete_chains(events)

    def states(task_id: str, try_number: int, attempt: int = 0) -> list[str]:
        return [
            e.state
            for e in events
            if (e.task_id, e.try_number, e.run_attempt) == (task_id, try_number, attempt)
        ]

    # Every try goes through the scheduler's states; terminal states as the DAG defines them.
    assert states("ok", 1) == ["scheduled", "queued", "running", "success"]
    assert states("flaky", 1)[-1] == "up_for_retry" and states("flaky", 2)[-1] == "success"
    # A failing try may end from queued too (the executor reports a task process that died early on a
    # loaded machine); whatever path it took, the log holds it, and the chains above are complete.
    assert states("broken", 1)[:2] == ["scheduled", "queued"] and states("broken", 1)[-1] == "failed"
    assert [e.state for e in events if e.task_id == "not_chosen"][-1] == "skipped"
    assert states("chosen", 1)[-1] == "success"
    after_broken = [(e.run_attempt, e.try_number, e.state) for e in events if e.task_id == "after_broken"]
    assert after_broken[-1][0] == 1 and after_broken[-1][2] == "upstream_failed"  # rerun, never tried
    assert (0, after_broken[-1][1], "upstream_failed") in after_broken  # the first run's, kept too
    # The clear: broken goes back to no state, then runs a second try, in the run's second attempt.
    assert states("broken", 1, 1)[:1] == [NO_STATE]
    assert states("broken", 2, 1)[:2] == ["scheduled", "queued"] and states("broken", 2, 1)[-1] == "failed"
    run = [(e.try_number, e.state) for e in events if e.kind == "dag_run"]
    assert run[:3] == [(0, "queued"), (0, "running"), (0, "failed")]
    assert (1, "queued") in run and (1, "running") in run and run[-1] == (1, "failed")
    # The log ends where Airflow's tables end.
    with engine.connect() as connection:
        final = connection.execute(text("SELECT task_id, state, try_number FROM task_instance")).all()
    for task_id, state, try_number in final:
        last = [e for e in events if e.task_id == task_id][-1]
        assert (last.state, last.try_number) == (state or NO_STATE, try_number), task_id


def test_scheduler_run_then_clear_and_rerun(
    deployment: tuple[MetadataDb, dict[str, str]], tmp_path: Path
) -> None:
    db, env = deployment
    engine = create_engine(db.url)
    install(engine)
    run_showcase_then_clear(db, env, engine)

    log_path = tmp_path / "events.db"
    relayed = airshift("events", "relay", "--db", db.url, "--log", str(log_path), "--once")
    assert relayed.returncode == 0, relayed.stderr
    assert_showcase_history(SqliteEventLog(log_path).read(0, 10_000), engine)
    engine.dispose()
