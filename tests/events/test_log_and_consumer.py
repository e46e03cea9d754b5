"""The SQLite event log and the consumer SDK (real SQLite files; no Airflow needed here)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from events_helpers import many, task_event

from airshift.errors import AirshiftError
from airshift.events.consumer import Consumer
from airshift.events.model import Event
from airshift.events.offsets import FileOffsetStore, open_offset_store
from airshift.events.stores import EventFilter
from airshift.events.stores.open import open_log
from airshift.events.stores.sqlite import SqliteEventLog


def test_offsets_are_gap_free_and_duplicates_ignored(tmp_path: Path) -> None:
    log = SqliteEventLog(tmp_path / "log.db")
    first = log.append([task_event("a", "queued"), task_event("a", "running")])
    again = log.append([task_event("a", "running"), task_event("a", "success")])
    assert (first.appended, again.appended, again.duplicates, again.last_offset) == (2, 1, 1, 3)
    assert [(e.offset, e.state) for e in log.read(0, 10)] == [(1, "queued"), (2, "running"), (3, "success")]
    assert [e.offset for e in log.read(1, 10, EventFilter(state="success"))] == [3]


def test_details_merge_before_and_after_the_event(tmp_path: Path) -> None:
    log = SqliteEventLog(tmp_path / "log.db")
    failed = task_event("a", "failed")
    log.annotate(failed.detail_key, {"error": "boom"})  # the listener was faster than the relay
    log.append([failed])
    log.annotate(failed.detail_key, {"hostname": "worker-1"})
    assert log.read(0, 10)[0].detail == {"error": "boom", "hostname": "worker-1"}


def test_open_log_refuses_a_missing_log_and_unknown_urls(tmp_path: Path) -> None:
    with pytest.raises(AirshiftError, match="does not exist"):
        open_log(tmp_path / "nope.db", create=False)
    with pytest.raises(AirshiftError, match="SQLite file path or a postgresql"):
        open_log("kafka://x")


def test_consumer_commits_after_the_handler_and_resumes(tmp_path: Path) -> None:
    log = SqliteEventLog(tmp_path / "log.db")
    log.append(many(25))
    offsets = FileOffsetStore(tmp_path / "offsets.json")
    seen: list[Event] = []

    def handler(event: Event) -> None:
        if event.offset == 13:
            raise RuntimeError("handler fails")
        seen.append(event)

    consumer = Consumer(log, offsets, "billing", batch_size=4)
    with pytest.raises(RuntimeError):
        consumer.run(handler, follow=False)
    assert [e.offset for e in seen] == list(range(1, 13)) and consumer.position == 12  # 13 not committed
    seen.clear()
    assert Consumer(log, offsets, "billing").run(seen.append, follow=False) == 13
    assert seen[0].offset == 13 and offsets.load("billing") == 25
    assert json.loads((tmp_path / "offsets.json").read_text()) == {"billing": 25}


def test_iterating_commits_when_the_next_event_is_asked_for(tmp_path: Path) -> None:
    log = SqliteEventLog(tmp_path / "log.db")
    log.append(many(5))
    offsets = open_offset_store(f"sqlite:///{tmp_path / 'offsets.db'}")
    consumer = Consumer(log, offsets, "portal")
    for event in consumer.events(follow=False):
        if event.offset == 3:
            break  # the body for 3 did not finish: 3 is not committed
    assert consumer.position == 2
    assert [e.offset for e in consumer.events(follow=False)] == [3, 4, 5]
    assert consumer.position == 5


def test_committing_every_n_events_redelivers_at_most_n_minus_one_and_never_skips(tmp_path: Path) -> None:
    log = SqliteEventLog(tmp_path / "log.db")
    log.append(many(25))
    offsets = FileOffsetStore(tmp_path / "offsets.json")
    commits: list[int] = []
    original_commit = offsets.commit

    def counting_commit(consumer: str, offset: int) -> None:
        commits.append(offset)
        original_commit(consumer, offset)

    offsets.commit = counting_commit  # type: ignore[method-assign]
    consumer = Consumer(log, offsets, "batched", batch_size=10, commit_every=4)
    handled: list[int] = []
    for event in consumer.events(follow=False):
        if event.offset == 13:
            break  # killed while handling 13: 11 and 12 were handled but not committed
        handled.append(event.offset)
    # every 4th event, and the last of each read batch of 10 (so an idle consumer is fully committed)
    assert commits == [4, 8, 10] and consumer.position == 10
    again = [e.offset for e in Consumer(log, offsets, "batched", commit_every=4).events(follow=False)]
    assert again == list(range(11, 26)) and offsets.load("batched") == 25
    assert set(handled) | set(again) == set(range(1, 26))  # nothing skipped; 11 and 12 seen twice
    with pytest.raises(AirshiftError, match="commit_every"):
        Consumer(log, offsets, "batched", commit_every=0)


def test_following_consumer_sees_events_appended_later_and_stops(tmp_path: Path) -> None:
    log = SqliteEventLog(tmp_path / "log.db")
    consumer = Consumer(log, FileOffsetStore(tmp_path / "o.json"), "c", poll_interval=0.02)
    stop = threading.Event()
    got: list[int] = []

    def handler(event: Event) -> None:
        got.append(event.offset)
        if len(got) == 3:
            stop.set()

    thread = threading.Thread(target=consumer.run, args=(handler,), kwargs={"stop": stop})
    thread.start()
    log.append(many(3))
    thread.join(timeout=30)
    assert not thread.is_alive() and got == [1, 2, 3]


def test_bad_offset_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "offsets.json"
    path.write_text("[1, 2]")
    with pytest.raises(AirshiftError, match=r"offsets.json is not a JSON object"):
        FileOffsetStore(path).load("x")


def test_a_cleared_runs_repeated_untried_states_are_new_events(tmp_path: Path) -> None:
    """A task that never starts (upstream_failed) keeps its try_number when its run is cleared and rerun;
    the run's clear number (run_attempt) keeps the rerun's transitions from being dropped as duplicates."""
    from airshift.events.runs import fold_run

    log = SqliteEventLog(tmp_path / "log.db")
    first = task_event("after", "upstream_failed", 0)
    cleared = task_event("after", "none", 0, previous="upstream_failed").model_copy(update={"run_attempt": 1})
    again = first.model_copy(update={"run_attempt": 1, "previous_state": "none"})
    assert log.append([first, cleared, again, again]).appended == 3
    view = fold_run("dag_a", "run_1", log.read(0, 10))
    assert [(t.run_attempt, t.states) for t in view.tasks[0].tries] == [
        (0, ["upstream_failed"]),
        (1, ["none", "upstream_failed"]),
    ]
