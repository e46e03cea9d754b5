"""Synthetic events for tests that exercise the log, consumers and the API without Airflow."""

from __future__ import annotations

from airshift.events.model import NewEvent


def task_event(
    task_id: str, state: str, try_number: int = 1, *, run_id: str = "run_1", dag_id: str = "dag_a",
    previous: str | None = None, changed_at: str = "2026-01-01T00:00:00Z",
) -> NewEvent:  # fmt: skip
    return NewEvent(
        kind="task_instance", dag_id=dag_id, run_id=run_id, task_id=task_id, try_number=try_number,
        state=state, previous_state=previous, changed_at=changed_at,
    )  # fmt: skip


def many(count: int, dag_id: str = "dag_a") -> list[NewEvent]:
    """`count` distinct task events (one state per try)."""
    return [task_event(f"t{i % 10}", "running", try_number=i // 10 + 1, dag_id=dag_id) for i in range(count)]
