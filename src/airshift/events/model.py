"""The event: one state transition of a task try or a DAG run, at a position (offset) in the log."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

# Airflow's "no status" (a task instance just created, or cleared) is NULL in the database; in the log it
# is this string, so the deduplication key never holds a NULL (NULLs never compare equal in SQL).
NO_STATE = "none"
TASK_INSTANCE = "task_instance"
DAG_RUN = "dag_run"
ARTIFACT = "artifact"  # a task try published a payload / URI / file manifest (state "published")
TERMINAL_TASK_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})
TERMINAL_RUN_STATES = frozenset({"success", "failed"})

DetailKey = tuple[str, str, str, int, int, str]  # a task try's (or run attempt's) state
DedupKey = tuple[str, str, str, int, int, str, int]  # ... and the DAG run's clear number


class NewEvent(BaseModel):
    """A transition as captured, before the log gives it an offset."""

    model_config = ConfigDict(frozen=True)

    kind: str
    dag_id: str
    run_id: str
    task_id: str = ""  # "" for DAG-run events
    map_index: int = -1
    try_number: int = 0  # task try; for DAG runs the clear number (a rerun after a clear is a new try)
    # The DAG run's clear number when the change happened. A cleared run reruns tasks that never start
    # (upstream_failed, skipped) with an unchanged try_number; this keeps their new states new events.
    run_attempt: int = 0
    state: str
    previous_state: str | None = None
    logical_date: str | None = None
    changed_at: str  # when the database recorded the change (UTC, ISO 8601)
    source: str = "trigger"  # trigger (the database), listener (the task process), api (a publisher)
    # What only the task process knows (error text, hostname) or an artifact (payload, payload_uri,
    # manifest). Kept beside the event by its key, so a supplement may arrive before or after it.
    detail: dict[str, Any] | None = None

    @property
    def dedup_key(self) -> DedupKey:
        return (*self.detail_key, self.run_attempt)

    @property
    def detail_key(self) -> DetailKey:
        """What supplements (error text, hostname) are attached by: the listener knows no clear number."""
        return (self.dag_id, self.run_id, self.task_id, self.map_index, self.try_number, self.state)


class Event(NewEvent):
    """A transition in the log. Offsets start at 1 and have no gaps."""

    offset: int
    logged_at: str  # when the relay appended it (UTC, ISO 8601)
