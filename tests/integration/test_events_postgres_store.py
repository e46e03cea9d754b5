"""The PostgreSQL event log and offset store on the real local PostgreSQL: gap-free offsets under
concurrent appends, readers that never skip a late commit, details, a consumer keeping its offset
in PostgreSQL, and the relay lock."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from airshift.errors import AirshiftError
from airshift.events.consumer import Consumer
from airshift.events.model import NewEvent
from airshift.events.offsets import open_offset_store
from airshift.events.relay import single_relay
from airshift.events.stores import EventFilter
from airshift.events.stores.open import open_log
from airshift.events.stores.postgres import PostgresEventLog
from tests.support.retention import exercise_retention

pytestmark = pytest.mark.integration
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


@pytest.fixture
def pg_url() -> Iterator[str]:
    name = f"airshift_evlog_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


def _event(writer: int, number: int, state: str = "running") -> NewEvent:
    return NewEvent(
        kind="task_instance", dag_id=f"dag_{writer}", run_id="r", task_id="t", try_number=number, state=state,
        changed_at="2026-01-01T00:00:00Z",
    )  # fmt: skip


def test_concurrent_appends_get_gap_free_offsets_in_visibility_order(pg_url: str) -> None:
    log = open_log(pg_url)
    assert isinstance(log, PostgresEventLog)
    seen: list[int] = []
    done = threading.Event()

    def reader() -> None:
        # A reader that only asks for "offset > last": it must see every offset, in order, none skipped.
        after = 0
        while not done.is_set() or after < log.last_offset():
            for event in log.read(after, 100):
                seen.append(event.offset)
                after = event.offset

    def writer(index: int) -> None:
        for batch in range(20):
            log.append([_event(index, batch * 5 + i) for i in range(5)])

    read_thread = threading.Thread(target=reader)
    read_thread.start()
    writers = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    read_thread.join(timeout=60)
    assert log.last_offset() == 400
    assert seen == list(range(1, 401))
    again = log.append([_event(0, 0), _event(0, 999)])
    assert (again.appended, again.duplicates, again.last_offset) == (1, 1, 401)


def test_details_and_a_consumer_with_postgres_offsets(pg_url: str) -> None:
    log = open_log(pg_url)
    failed = _event(1, 1, "failed")
    log.annotate(failed.detail_key, {"error": "boom"})
    log.append([_event(1, 1, "queued"), failed])
    log.annotate(failed.detail_key, {"hostname": "w1"})
    assert log.read(1, 10)[0].detail == {"error": "boom", "hostname": "w1"}

    offsets = open_offset_store(pg_url)
    handled: list[int] = []
    assert Consumer(log, offsets, "ingest").run(lambda e: handled.append(e.offset), follow=False) == 2
    log.append([_event(1, 2)])
    Consumer(log, offsets, "ingest").run(lambda e: handled.append(e.offset), follow=False)
    assert handled == [1, 2, 3] and offsets.load("ingest") == 3 and offsets.load("other") == 0


def test_one_relay_per_postgres_log(pg_url: str) -> None:
    log = open_log(pg_url)
    with (
        single_relay(log),
        pytest.raises(AirshiftError, match="another relay"),
        single_relay(open_log(pg_url)),
    ):
        pass
    with single_relay(open_log(pg_url)):
        pass


def test_opening_a_missing_postgres_log_is_a_clear_error(pg_url: str) -> None:
    with pytest.raises(AirshiftError, match="holds no event log"):
        open_log(pg_url, create=False)


def test_reads_restricted_to_readable_dags(pg_url: str) -> None:
    """The per-DAG access filter of the API, in SQL: only the listed DAGs; an empty list reads nothing."""
    log = open_log(pg_url)
    log.append([_event(writer, 1) for writer in range(4)])
    allowed = EventFilter(dag_ids=frozenset({"dag_1", "dag_3"}))
    assert [event.dag_id for event in log.read(0, 100, allowed)] == ["dag_1", "dag_3"]
    assert [event.offset for event in log.read(2, 100, allowed)] == [4]
    assert log.read(0, 100, EventFilter(dag_ids=frozenset())) == []
    assert log.read(0, 100, EventFilter(dag_id="dag_1", dag_ids=frozenset({"dag_3"}))) == []


def test_retention_on_postgres(pg_url: str, tmp_path: Path) -> None:
    """The same retention behaviour as the SQLite log (tests/events/test_retention.py)."""
    log = open_log(pg_url)
    assert isinstance(log, PostgresEventLog)
    log.append([_event(1, number) for number in range(100)])
    exercise_retention(log, tmp_path / "offsets.json")
    assert log.append([_event(2, 1)]).last_offset == 101  # offsets go on after compaction
