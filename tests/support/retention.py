"""Retention behaviour every retaining event-log store must show (SQLite and PostgreSQL tests call it)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from airshift.errors import AirshiftError
from airshift.events.consumer import Consumer
from airshift.events.offsets import FileOffsetStore
from airshift.events.retention import RetainingLog, RetentionPolicy, compact, plan_compaction


def exercise_retention(log: RetainingLog, offsets_path: Path) -> None:
    """The behaviour every retaining store must show; `log` holds 100 events."""
    assert (log.first_offset(), log.last_offset()) == (1, 100)
    assert plan_compaction(log).delete_through == 0  # no policy: keep everything

    # A consumer that has handled 30 events registers its position once per batch.
    slow = Consumer(log, FileOffsetStore(offsets_path), "slow", batch_size=10)  # type: ignore[arg-type]
    for handled, _event in enumerate(slow.events(follow=False), start=1):
        if handled == 31:  # event 30 is committed when the loop asks for event 31
            break
    assert log.consumer_positions()["slow"] == 30

    log.set_retention_policy(RetentionPolicy(keep_events=20))
    plan, deleted = compact(log)
    assert plan.policy_through == 80 and plan.blocking == {"slow": 30}
    assert deleted == 30 and log.first_offset() == 31  # only what the slow consumer has read

    # Forced past it: the consumer gets a clear error with the first available offset, not a silent skip.
    plan, deleted = compact(log, force=True)
    assert deleted == 50 and log.first_offset() == 81 and log.last_offset() == 100
    with pytest.raises(AirshiftError, match=r"up to offset 30.*starts at offset 81"):
        next(Consumer(log, FileOffsetStore(offsets_path), "slow").events(follow=False))  # type: ignore[arg-type]
    assert log.forget_consumer("slow")

    # Offsets continue where they were; the newest event is never deleted, whatever the policy says.
    log.set_retention_policy(RetentionPolicy(keep_days=1))
    tomorrow = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)
    _, deleted = compact(log, now=tomorrow)
    assert deleted == 19 and (log.first_offset(), log.last_offset()) == (100, 100)
