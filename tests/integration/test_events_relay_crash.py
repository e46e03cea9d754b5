"""Crash safety of the relay, with the real CLI in a subprocess: SIGKILL it mid-stream, again and again,
while Airflow's task_instance rows keep changing state on a real (PostgreSQL) Airflow 3.3.2 schema; the
log ends with every captured transition exactly once, offsets 1..N without a gap."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from test_events_support import MetadataFactory, metadata_dbs_fixture  # noqa: F401 (fixture)

from airshift.events.capture import install, status
from airshift.events.outbox import Outbox
from airshift.events.relay import Relay
from airshift.events.stores.sqlite import SqliteEventLog

pytestmark = pytest.mark.integration

RELAY_OPTIONS = ("--batch-size", "40", "--poll-interval", "0.05")
KILLS = 4


def _churn(url: str, stop: threading.Event, max_rounds: int = 10_000) -> tuple[int, int]:
    """Airflow-like writes until `stop`: every task instance of the run starts a new try and runs it (3
    transitions per row per round, each in its own transaction, like the scheduler and the API server).
    Returns (rounds, transitions written)."""
    engine = create_engine(url)
    written = rounds = 0
    with engine.connect() as connection:
        rows = int(connection.execute(text("SELECT COUNT(*) FROM task_instance")).scalar_one())
        connection.commit()
        while not stop.is_set() and rounds < max_rounds:
            for statement in (
                "UPDATE task_instance SET try_number = try_number + 1, state = 'scheduled'",
                "UPDATE task_instance SET state = 'queued'",
                "UPDATE task_instance SET state = 'running'",
            ):
                with connection.begin():
                    connection.execute(text(statement))
                written += rows
            rounds += 1
            stop.wait(0.005)  # a steady stream, so every relay below is killed with work in flight
    engine.dispose()
    return rounds, written


def _start_relay(url: str, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "airshift", "events", "relay", "--db", url, "--log", str(log), *RELAY_OPTIONS],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _kill(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def test_sigkill_mid_stream_loses_nothing_and_duplicates_nothing(
    metadata_dbs: MetadataFactory, tmp_path: Path
) -> None:
    db = metadata_dbs.new("3.3.2", "postgres", showcase_run=True)
    engine = create_engine(db.url)
    install(engine)
    log_path = tmp_path / "events.db"
    log = SqliteEventLog(log_path)

    stop = threading.Event()
    result: list[tuple[int, int]] = []
    writer = threading.Thread(target=lambda: result.append(_churn(db.url, stop)))
    writer.start()
    try:
        for kill in range(KILLS):
            relay = _start_relay(db.url, log_path)
            target = log.last_offset() + 100 + kill * 37
            deadline = time.monotonic() + 120
            while log.last_offset() < target and time.monotonic() < deadline and relay.poll() is None:
                time.sleep(0.005)
            assert relay.poll() is None, relay.stderr.read().decode() if relay.stderr else ""
            assert log.last_offset() >= target, "the relay made no progress"
            _kill(relay)  # mid-stream: the writer keeps writing, the outbox is not empty
    finally:
        stop.set()
        writer.join()
    rounds, written = result[0]

    # A last relay drains what is left.
    Relay(Outbox(engine), log).drain()
    assert status(engine).backlog == 0

    # The triggers were installed after the showcase run: the churn wrote every captured transition.
    events = log.read(0, 1_000_000)
    assert [e.offset for e in events] == list(range(1, len(events) + 1))
    assert len(events) == written
    assert len({e.dedup_key for e in events}) == len(events)
    per_task: dict[str, list[tuple[int, str]]] = {}
    for event in events:
        per_task.setdefault(event.task_id, []).append((event.try_number, event.state))
    for sequence in per_task.values():
        tries = sorted({t for t, _ in sequence})
        assert len(tries) == rounds
        assert sequence == [(t, s) for t in tries for s in ("scheduled", "queued", "running")]
    engine.dispose()


def test_replayed_batch_after_a_crash_between_append_and_acknowledge(
    metadata_dbs: MetadataFactory, tmp_path: Path
) -> None:
    """The window a SIGKILL can hit: the log committed a batch but the outbox rows were not deleted yet.
    The next relay re-reads them and the log ignores every one."""
    db = metadata_dbs.new("3.3.2", "postgres", showcase_run=True)
    engine = create_engine(db.url)
    install(engine)
    _churn(db.url, threading.Event(), max_rounds=2)
    log = SqliteEventLog(tmp_path / "events.db")
    outbox = Outbox(engine)
    rows = outbox.fetch(10)
    log.append([event for _, event in rows])  # ...and the relay dies before acknowledging
    step = Relay(outbox, log, batch_size=10).step()
    assert (step.moved, step.appended, step.duplicates) == (10, 0, 10)
    total = Relay(outbox, log).drain()
    assert total.duplicates == 0
    assert [e.offset for e in log.read(0, 10_000)] == list(range(1, log.last_offset() + 1))
    engine.dispose()
