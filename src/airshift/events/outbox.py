"""Reading and acknowledging captured transitions in the outbox table of the metadata database.

The relay reads committed rows in id order and deletes them only after the event log has durably
stored them. Nothing is read with "id > last seen": ids are handed out at insert but become visible at
commit, in another order, and such a cursor would skip a row whose transaction committed late. A row
stays in the outbox until acknowledged, so a late commit is simply picked up by a later batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Column, DateTime, Engine, Integer, MetaData, String, Table, delete, func, select
from sqlalchemy.exc import DBAPIError

from airshift.errors import AirshiftError
from airshift.events.capture.schema import OUTBOX
from airshift.events.database import mask
from airshift.events.model import NO_STATE, NewEvent


def outbox_table(schema: str | None) -> Table:
    return Table(
        OUTBOX,
        MetaData(schema=schema),
        Column("id", Integer, primary_key=True),
        Column("kind", String),
        Column("dag_id", String),
        Column("run_id", String),
        Column("task_id", String),
        Column("map_index", Integer),
        Column("try_number", Integer),
        Column("run_attempt", Integer),
        Column("state", String),
        Column("previous_state", String),
        Column("logical_date", String),
        Column("changed_at", String),
    )


def _iso(value: object) -> str:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)  # MySQL DATETIME holds UTC_TIMESTAMP values
        return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
    return str(value)


class Outbox:
    """The outbox of one metadata database."""

    def __init__(self, engine: Engine, schema: str | None = None) -> None:
        self.engine = engine
        self.table = outbox_table(schema)
        if engine.dialect.name == "postgresql":
            # Read timestamps as datetimes so they can be normalised to UTC ISO text.
            self.table.c.changed_at.type = DateTime(timezone=True)
        elif engine.dialect.name in ("mysql", "mariadb"):
            self.table.c.changed_at.type = DateTime()

    def fetch(self, limit: int) -> list[tuple[int, NewEvent]]:
        """Up to `limit` committed rows, oldest first, as (outbox id, event)."""
        query = select(self.table).order_by(self.table.c.id).limit(limit)
        try:
            with self.engine.connect() as connection:
                rows = connection.execute(query).all()
        except DBAPIError as error:
            raise AirshiftError(
                f"reading the outbox of {mask(self.engine.url)} failed: {error.orig}"
            ) from None
        return [(int(row.id), self._event(row)) for row in rows]

    def count(self) -> int:
        """Rows waiting for the relay."""
        try:
            with self.engine.connect() as connection:
                return int(connection.execute(select(func.count()).select_from(self.table)).scalar_one())
        except DBAPIError as error:
            raise AirshiftError(
                f"reading the outbox of {mask(self.engine.url)} failed: {error.orig}"
            ) from None

    @staticmethod
    def _event(row: object) -> NewEvent:
        get = row._mapping  # type: ignore[attr-defined]
        return NewEvent(
            kind=str(get["kind"]),
            dag_id=str(get["dag_id"]),
            run_id=str(get["run_id"] or ""),
            task_id=str(get["task_id"] or ""),
            map_index=int(get["map_index"]),
            try_number=int(get["try_number"]),
            run_attempt=int(get["run_attempt"] or 0),
            state=str(get["state"] or NO_STATE),
            previous_state=(str(get["previous_state"]) if get["previous_state"] is not None else None),
            logical_date=(_iso(get["logical_date"]) if get["logical_date"] is not None else None),
            changed_at=_iso(get["changed_at"]),
        )

    def acknowledge(self, ids: Sequence[int]) -> None:
        """Delete rows the log has stored."""
        if not ids:
            return
        try:
            with self.engine.begin() as connection:
                connection.execute(delete(self.table).where(self.table.c.id.in_(list(ids))))
        except DBAPIError as error:
            raise AirshiftError(
                f"acknowledging outbox rows in {mask(self.engine.url)} failed: {error.orig}"
            ) from None
