"""Per-run status, folded from the log: the four questions a downstream system asks.

Is it complete? (the DAG run reached success/failed) What is pending? (tasks not in a terminal state)
Where is it stuck, and for how long? (time since each pending task's last transition) Was anything
rerun? (every try of every task, in order; a cleared DAG run shows a new attempt)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from pydantic import BaseModel

from airshift.events.model import (
    ARTIFACT,
    DAG_RUN,
    NO_STATE,
    TERMINAL_RUN_STATES,
    TERMINAL_TASK_STATES,
    Event,
)


class TryView(BaseModel):
    try_number: int
    run_attempt: int  # the DAG run's clear number: a task that never started repeats its try in a rerun
    states: list[str]
    final_state: str
    started_at: str
    last_change_at: str


class TaskView(BaseModel):
    task_id: str
    map_index: int
    state: str
    try_number: int
    terminal: bool
    last_change_at: str
    pending_for_seconds: float | None  # how long it has sat in a non-terminal state
    tries: list[TryView]
    artifact: dict[str, object] | None = None


class RunView(BaseModel):
    dag_id: str
    run_id: str
    state: str
    attempt: int  # DAG-run clears (a cleared run that runs again is a new attempt)
    complete: bool
    last_change_at: str | None
    stuck_for_seconds: float | None  # not complete: time since the last transition of anything in the run
    pending: list[str]
    tasks: list[TaskView]
    last_offset: int


def _parse(moment: str) -> dt.datetime:
    return dt.datetime.fromisoformat(moment.replace("Z", "+00:00"))


def _age(moment: str, now: dt.datetime) -> float:
    return round(max(0.0, (now - _parse(moment)).total_seconds()), 3)


def fold_run(dag_id: str, run_id: str, events: Iterable[Event], now: dt.datetime | None = None) -> RunView:
    """The status of one run from its events (in offset order)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    run_state, attempt, last_change, last_offset = NO_STATE, 0, None, 0
    # (task, map index) -> (try, run attempt) -> the try, in the order the log first saw them
    tries: dict[tuple[str, int], dict[tuple[int, int], TryView]] = {}
    artifacts: dict[tuple[str, int], dict[str, object]] = {}
    for event in events:
        last_offset = max(last_offset, event.offset)
        if last_change is None or event.changed_at > last_change:
            last_change = event.changed_at
        if event.kind == DAG_RUN:
            if event.try_number >= attempt:
                run_state, attempt = event.state, event.try_number
            continue
        key = (event.task_id, event.map_index)
        if event.kind == ARTIFACT:
            artifacts[key] = {"try_number": event.try_number, "offset": event.offset, **(event.detail or {})}
            continue
        task_tries = tries.setdefault(key, {})
        view = task_tries.get((event.try_number, event.run_attempt))
        if view is None:
            task_tries[(event.try_number, event.run_attempt)] = TryView(
                try_number=event.try_number,
                run_attempt=event.run_attempt,
                states=[event.state],
                final_state=event.state,
                started_at=event.changed_at,
                last_change_at=event.changed_at,
            )
        else:
            view.states.append(event.state)
            view.final_state = event.state
            view.last_change_at = event.changed_at
    tasks = []
    for (task_id, map_index), by_try in sorted(tries.items()):
        ordered = list(by_try.values())
        current = ordered[-1]
        terminal = current.final_state in TERMINAL_TASK_STATES
        tasks.append(
            TaskView(
                task_id=task_id,
                map_index=map_index,
                state=current.final_state,
                try_number=current.try_number,
                terminal=terminal,
                last_change_at=current.last_change_at,
                pending_for_seconds=None if terminal else _age(current.last_change_at, now),
                tries=ordered,
                artifact=artifacts.get((task_id, map_index)),
            )
        )
    complete = run_state in TERMINAL_RUN_STATES
    return RunView(
        dag_id=dag_id,
        run_id=run_id,
        state=run_state,
        attempt=attempt,
        complete=complete,
        last_change_at=last_change,
        stuck_for_seconds=None if complete or last_change is None else _age(last_change, now),
        pending=[
            t.task_id if t.map_index < 0 else f"{t.task_id}[{t.map_index}]" for t in tasks if not t.terminal
        ],
        tasks=tasks,
        last_offset=last_offset,
    )
