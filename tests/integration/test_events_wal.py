"""WAL capture on a real PostgreSQL cluster with `wal_level = logical` (started by the tests) and real
Airflow 3.3.2 writes: the same transitions as the row triggers, in commit order, with nothing lost and
nothing doubled when the relay is SIGKILLed mid-stream and restarted."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_logical_cluster import LogicalCluster, logical_cluster
from sqlalchemy import create_engine, text
from test_events_scheduler import airflow3_deployment, assert_showcase_history, run_showcase_then_clear
from test_events_support import SHOWCASE, MetadataDb, airshift, runtime_with_postgres

from airshift.events.capture import install as install_triggers
from airshift.events.capture import wal
from airshift.events.capture.source import last_state_reader
from airshift.events.model import Event
from airshift.events.outbox import Outbox
from airshift.events.relay import Relay
from airshift.events.stores.sqlite import SqliteEventLog

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cluster() -> Iterator[LogicalCluster]:
    with logical_cluster() as started:
        yield started


@pytest.fixture(scope="module")
def template(cluster: LogicalCluster, tmp_path_factory: pytest.TempPathFactory) -> MetadataDb:
    """Airflow 3.3.2's schema, migrated once into a template database of the logical cluster."""
    name = "airflow_template"
    cluster.execute(f'CREATE DATABASE "{name}"')
    home = tmp_path_factory.mktemp("wal-template")
    db = MetadataDb(
        runtime_with_postgres("3.3.2"), home, cluster.url(name, "psycopg2"), cluster.url(name), name
    )
    migrated = db.airflow("db", "migrate")
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    return db


def _copy(cluster: LogicalCluster, template: MetadataDb, folder: Path) -> MetadataDb:
    name = f"airflow_{uuid.uuid4().hex[:10]}"
    cluster.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template.pg_name}"')
    home = folder / name
    home.mkdir()
    return MetadataDb(template.runtime, home, cluster.url(name, "psycopg2"), cluster.url(name), name)


def _histories(events: list[Event]) -> dict[tuple[str, str, str, str, int], list[tuple[object, ...]]]:
    """Per row (task instance or DAG run), its transitions in log order."""
    found: dict[tuple[str, str, str, str, int], list[tuple[object, ...]]] = defaultdict(list)
    for e in events:
        found[(e.kind, e.dag_id, e.run_id, e.task_id, e.map_index)].append(
            (e.try_number, e.run_attempt, e.state, e.previous_state, e.logical_date)
        )
    return dict(found)


def _trigger_log(engine: object, path: Path) -> list[Event]:
    log = SqliteEventLog(path)
    Relay(Outbox(engine), log).drain()  # type: ignore[arg-type]
    return log.read(0, 100_000)


class KillingRelay:
    """Runs `airshift events relay` (WAL mode, one event per batch) and SIGKILLs it again and again while
    the workload runs: each time some events have gone through, at whatever step it happens to be."""

    def __init__(self, url: str, log_path: Path) -> None:
        self.command = [
            sys.executable, "-m", "airshift", "events", "relay", "--db", url, "--log", str(log_path),
            "--batch-size", "1", "--poll-interval", "0.05",
        ]  # fmt: skip
        self.log_path = log_path
        self.kills = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _offset(self) -> int:
        return SqliteEventLog(self.log_path).last_offset() if self.log_path.exists() else 0

    def _loop(self) -> None:
        while not self.stop.is_set():
            before = self._offset()
            process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 30
            while not self.stop.is_set() and time.monotonic() < deadline and self._offset() < before + 5:
                time.sleep(0.05)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            self.kills += 1

    def __enter__(self) -> KillingRelay:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=60)


def test_wal_capture_equals_the_triggers_under_a_real_scheduler_with_relay_kills(
    cluster: LogicalCluster, template: MetadataDb, tmp_path: Path
) -> None:
    db = _copy(cluster, template, tmp_path)
    engine = create_engine(db.url)
    installed = airshift("events", "install", "--db", db.url, "--mode", "wal")
    assert installed.returncode == 0, installed.stderr
    assert "wal" in installed.stdout and wal.status(engine, "public").installed
    # The triggers too, through the library (the command refuses two captures on one database): the same
    # workload captured both ways is the comparison.
    install_triggers(engine)

    wal_log = tmp_path / "wal-events.db"
    with airflow3_deployment(db, tmp_path) as env, KillingRelay(db.url, wal_log) as relay:
        run_showcase_then_clear(db, env, engine)
    assert relay.kills >= 2, "the relay should have been killed mid-stream at least twice"
    finished = airshift("events", "relay", "--db", db.url, "--log", str(wal_log), "--once")
    assert finished.returncode == 0, finished.stderr

    wal_events = SqliteEventLog(wal_log).read(0, 100_000)
    trigger_events = _trigger_log(engine, tmp_path / "trigger-events.db")
    assert_showcase_history(wal_events, engine)
    assert {e.source for e in wal_events} == {"wal"}
    # The same transitions of every task instance and DAG run, in the same order, with the same previous
    # states (WAL text and to_jsonb text of dates agree too); the logs differ only in how rows interleave
    # (commit order here, outbox id order there).
    assert _histories(wal_events) == _histories(trigger_events)
    assert len(wal_events) == len(trigger_events)
    # Nothing left behind: the slot is at the end of what Airflow wrote.
    state = wal.status(engine, "public")
    assert state.pending_events == 0
    engine.dispose()


def test_crash_between_log_append_and_slot_advance_replays_without_doubling(
    cluster: LogicalCluster, template: MetadataDb, tmp_path: Path
) -> None:
    db = _copy(cluster, template, tmp_path)
    engine = create_engine(db.url)
    wal.install(engine, "public")
    install_triggers(engine)
    db.airflow("dags", "test", SHOWCASE)

    log = SqliteEventLog(tmp_path / "events.db")
    first = wal.WalSource(engine, "public", last_state_in_log=last_state_reader(log))
    batch = first.fetch(10)
    assert batch
    log.append([event for _, event in batch])  # ... and the relay dies before acknowledging
    # A new relay (fresh memory) starts from the slot's last confirmed position: the batch comes again.
    again = Relay(wal.WalSource(engine, "public", last_state_in_log=last_state_reader(log)), log).drain()
    assert again.duplicates == len(batch)
    events = log.read(0, 100_000)
    assert [e.offset for e in events] == list(range(1, len(events) + 1))
    assert _histories(events) == _histories(_trigger_log(engine, tmp_path / "trigger.db"))

    # Status and uninstall through the command line: the slot and publication go, the tables stay.
    shown = airshift("events", "status", "--db", db.url)
    assert shown.returncode == 0 and "airshift_events_" in shown.stdout and "lag" in shown.stdout
    # The trigger capture is there too: the command refuses to pile a second capture on top.
    refused = airshift("events", "install", "--db", db.url, "--mode", "trigger")
    assert refused.returncode == 2 and "already has the wal capture" in refused.stderr
    removed = airshift("events", "uninstall", "--db", db.url)
    assert removed.returncode == 0, removed.stderr
    with engine.connect() as connection:
        slots = (
            "SELECT 1 FROM pg_replication_slots WHERE database = current_database()"  # slots are cluster-wide
        )
        assert not connection.execute(text(slots)).first()
        assert not connection.execute(text("SELECT 1 FROM pg_publication")).first()
    engine.dispose()


def test_install_explains_what_the_database_lacks(cluster: LogicalCluster, tmp_path: Path) -> None:
    # The machine's shared server runs with wal_level = replica.
    shared = airshift(
        "events", "install", "--db", "postgresql://postgres@127.0.0.1:5432/test", "--mode", "wal"
    )
    assert shared.returncode == 2
    assert "wal_level is 'replica'" in shared.stderr and "--mode trigger" in shared.stderr
    assert "Traceback" not in shared.stderr
    # A role without REPLICATION on the logical cluster.
    cluster.execute("CREATE DATABASE plain_target")
    cluster.execute("CREATE ROLE plain LOGIN")
    url = f"postgresql://plain@127.0.0.1:{cluster.port}/plain_target"
    lacking = airshift("events", "install", "--db", url, "--mode", "wal")
    assert lacking.returncode == 2 and "REPLICATION" in lacking.stderr, lacking.stderr
    # SQLite cannot do WAL capture.
    sqlite = airshift("events", "install", "--db", f"sqlite:///{tmp_path / 'x.db'}", "--mode", "wal")
    assert sqlite.returncode == 2 and "needs PostgreSQL" in sqlite.stderr
