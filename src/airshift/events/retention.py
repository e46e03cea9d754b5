"""Retention: how much of the event log to keep, and compaction that never outruns a consumer.

A policy belongs to the log (stored in it): keep events logged in the last N days, and/or the last N
events. `compact` deletes what falls outside, with two limits that protect readers:
- never past the slowest registered consumer's committed offset (consumers register their position in
  the log as they commit), unless told to (`force`);
- never the newest event, since the next offset is the newest one plus one.
Offsets never change: after compaction the log starts at a later offset, and a consumer whose committed
offset lies before it gets a clear error naming the first available offset (see `check_position`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from airshift.errors import AirshiftError


class RetentionPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    keep_days: float | None = Field(default=None, gt=0)
    keep_events: int | None = Field(default=None, ge=1)

    @property
    def empty(self) -> bool:
        return self.keep_days is None and self.keep_events is None

    def describe(self) -> str:
        parts = []
        if self.keep_days is not None:
            parts.append(f"events of the last {self.keep_days:g} day(s)")
        if self.keep_events is not None:
            parts.append(f"the last {self.keep_events:,} event(s)")
        return "keep " + " and ".join(parts) if parts else "keep everything (no policy)"


class RetainingLog(Protocol):
    """What a store offers for retention (SQLite and PostgreSQL logs)."""

    def first_offset(self) -> int: ...

    def last_offset(self) -> int: ...

    def last_offset_logged_before(self, moment: str) -> int: ...

    def delete_through(self, offset: int) -> int: ...

    def consumer_positions(self) -> dict[str, int]: ...

    def register_consumer(self, name: str, offset: int) -> None: ...

    def forget_consumer(self, name: str) -> bool: ...

    def retention_policy(self) -> RetentionPolicy: ...

    def set_retention_policy(self, policy: RetentionPolicy) -> None: ...


@dataclass(frozen=True)
class CompactionPlan:
    first_offset: int  # before compaction
    last_offset: int
    policy_through: int  # what the policy alone would delete (0: nothing)
    delete_through: int  # what will be deleted, after the protections (0: nothing)
    blocking: dict[str, int]  # consumers that hold it back, with their committed offsets

    @property
    def deletes(self) -> int:
        return max(0, self.delete_through - self.first_offset + 1) if self.delete_through else 0


def plan_compaction(log: RetainingLog, now: dt.datetime | None = None, force: bool = False) -> CompactionPlan:
    policy = log.retention_policy()
    first, last = log.first_offset(), log.last_offset()
    through = 0
    if not policy.empty and last:
        limits = []
        if policy.keep_events is not None:
            limits.append(last - policy.keep_events)
        if policy.keep_days is not None:
            moment = (now or dt.datetime.now(dt.timezone.utc)) - dt.timedelta(days=policy.keep_days)
            limits.append(log.last_offset_logged_before(moment.isoformat().replace("+00:00", "Z")))
        # Both given: keep what either one keeps (delete only what both allow).
        through = max(0, min(limits))
    through = min(through, last - 1)  # the newest event stays: it carries the next offset
    consumers = log.consumer_positions()
    blocking = {name: offset for name, offset in consumers.items() if offset < through}
    allowed = through if force or not blocking else min(blocking.values())
    allowed = allowed if allowed >= first else 0
    return CompactionPlan(first, last, through, allowed, dict(sorted(blocking.items())))


def compact(
    log: RetainingLog, now: dt.datetime | None = None, force: bool = False
) -> tuple[CompactionPlan, int]:
    plan = plan_compaction(log, now, force)
    deleted = log.delete_through(plan.delete_through) if plan.delete_through else 0
    return plan, deleted


def check_position(log: object, consumer: str, position: int) -> None:
    """A consumer whose committed offset lies before the retained range would skip events silently:
    refuse, and say where the log starts now."""
    first_offset = getattr(log, "first_offset", None)
    if not callable(first_offset):
        return
    first = int(first_offset())
    if first > 1 and position < first - 1:
        raise AirshiftError(
            f"consumer {consumer!r} has handled events up to offset {position}, but the log now starts at "
            f"offset {first} (events {position + 1}-{first - 1} were removed by compaction); to go on from "
            f"the first available event, commit offset {first - 1} for it deliberately"
        )
