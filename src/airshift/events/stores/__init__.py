"""Event log stores. Each keeps events in offset order, assigns offsets 1, 2, 3... without gaps at
append time, and ignores an event whose deduplication key it already holds. Details (error text,
hostname, artifact payloads) live in a side table by deduplication key and are merged into reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from airshift.events.model import DetailKey, Event, NewEvent


@dataclass(frozen=True)
class EventFilter:
    dag_id: str | None = None
    run_id: str | None = None
    task_id: str | None = None
    state: str | None = None
    kind: str | None = None
    # Only events of these DAGs (the ones a user may read); None: no such restriction.
    dag_ids: frozenset[str] | None = None

    def matches(self, event: Event) -> bool:
        if self.dag_ids is not None and event.dag_id not in self.dag_ids:
            return False
        return all(
            wanted is None or getattr(event, name) == wanted
            for name, wanted in (
                ("dag_id", self.dag_id),
                ("run_id", self.run_id),
                ("task_id", self.task_id),
                ("state", self.state),
                ("kind", self.kind),
            )
        )


@dataclass(frozen=True)
class AppendResult:
    appended: int
    duplicates: int
    last_offset: int


class EventLog(Protocol):
    def append(self, events: Sequence[NewEvent]) -> AppendResult: ...

    def read(self, after: int, limit: int, where: EventFilter | None = None) -> list[Event]: ...

    def last_offset(self) -> int: ...

    def annotate(self, key: DetailKey, detail: dict[str, Any]) -> None:
        """Merge `detail` into what is known about the event with this key (it may not be logged yet)."""
        ...
