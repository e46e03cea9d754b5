"""The relay's source of captured transitions: the outbox (trigger mode) or the replication slot (WAL
mode), whichever the database has installed. Both offer fetch(limit) / acknowledge(ids) / count()."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from sqlalchemy import Engine

from airshift.errors import AirshiftError
from airshift.events.capture import installed_mode, outbox_name, pg_schema
from airshift.events.capture.wal import RowKey
from airshift.events.database import mask
from airshift.events.model import NO_STATE, NewEvent
from airshift.events.stores import EventFilter, EventLog


class CaptureSource(Protocol):
    def fetch(self, limit: int) -> list[tuple[int, NewEvent]]: ...

    def acknowledge(self, ids: Sequence[int]) -> None: ...

    def count(self) -> int: ...


def last_state_reader(log: EventLog) -> Callable[[str, str], dict[RowKey, tuple[str, int]]]:
    """For WAL mode after a restart: the last state and attempt of every row of one DAG run, as the log
    has them (one read per run, not per row)."""

    def run_states(dag_id: str, run_id: str) -> dict[RowKey, tuple[str, int]]:
        found: dict[RowKey, tuple[str, int]] = {}
        after = 0
        where = EventFilter(dag_id=dag_id, run_id=run_id)
        while True:
            batch = log.read(after, 1000, where)
            for event in batch:
                if event.kind in ("task_instance", "dag_run"):
                    key = (dag_id, run_id, event.task_id, event.map_index)
                    found[key] = (event.state or NO_STATE, event.try_number)
            if len(batch) < 1000:
                return found
            after = batch[-1].offset

    return run_states


def open_source(engine: Engine, schema: str | None, log: EventLog) -> tuple[str, CaptureSource]:
    """(mode, source) for the relay; a clear error when nothing is installed."""
    mode = installed_mode(engine)
    if mode == "wal":
        from airshift.events.capture.wal import WalSource

        return mode, WalSource(engine, pg_schema(engine, schema), last_state_in_log=last_state_reader(log))
    if mode is None:
        raise AirshiftError(
            f"no event capture is installed in {mask(engine.url)}: run `airshift events install` first"
        )
    from airshift.events.outbox import Outbox

    outbox_schema, _ = outbox_name(engine, schema)
    return mode, Outbox(engine, outbox_schema)
