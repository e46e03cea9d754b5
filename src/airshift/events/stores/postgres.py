"""The event log in PostgreSQL (for teams that want it next to their other data, or many readers).

Offsets are assigned by the appending transaction itself, as max(offset)+1, under a table lock in
EXCLUSIVE mode (readers are not blocked): appends are serialized, so offsets are gap-free AND become
visible in offset order; a reader with "offset > last" never skips a row committed late (the trap of
plain sequences, whose values are taken at insert but become visible at commit in another order).
A crash mid-append rolls the whole batch back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from airshift.errors import AirshiftError
from airshift.events.database import connect, mask, parse_url
from airshift.events.model import DetailKey, Event, NewEvent
from airshift.events.retention import RetentionPolicy
from airshift.events.stores import AppendResult, EventFilter
from airshift.events.stores.sqlite import utc_now

TABLE = "airshift_events"
_COLUMNS = (
    "kind", "dag_id", "run_id", "task_id", "map_index", "try_number", "run_attempt", "state",
    "previous_state", "logical_date", "changed_at", "source", "logged_at",
)  # fmt: skip
_FILTER_COLUMNS = ("dag_id", "run_id", "task_id", "state", "kind")
_SCHEMA = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    seq BIGINT PRIMARY KEY,
    kind VARCHAR(20) NOT NULL,
    dag_id VARCHAR(250) NOT NULL,
    run_id VARCHAR(250) NOT NULL,
    task_id VARCHAR(250) NOT NULL,
    map_index INTEGER NOT NULL,
    try_number INTEGER NOT NULL,
    run_attempt INTEGER NOT NULL,
    state VARCHAR(50) NOT NULL,
    previous_state VARCHAR(50),
    logical_date VARCHAR(64),
    changed_at VARCHAR(64) NOT NULL,
    source VARCHAR(20) NOT NULL,
    logged_at VARCHAR(64) NOT NULL,
    UNIQUE (dag_id, run_id, task_id, map_index, try_number, state, run_attempt)
)"""
_KEY_COLUMNS = ("dag_id", "run_id", "task_id", "map_index", "try_number", "state")
_KEY = ", ".join(_KEY_COLUMNS)
_DETAILS = f"""CREATE TABLE IF NOT EXISTS {TABLE}_details (
    dag_id VARCHAR(250) NOT NULL,
    run_id VARCHAR(250) NOT NULL,
    task_id VARCHAR(250) NOT NULL,
    map_index INTEGER NOT NULL,
    try_number INTEGER NOT NULL,
    state VARCHAR(50) NOT NULL,
    detail JSONB NOT NULL,
    PRIMARY KEY ({_KEY})
)"""
# Retention (see airshift.events.retention): consumers' registered positions and the policy.
_CONSUMERS = (
    f"CREATE TABLE IF NOT EXISTS {TABLE}_consumers (name VARCHAR(250) PRIMARY KEY, "
    "offset_value BIGINT NOT NULL, updated_at VARCHAR(64) NOT NULL)"
)
_SETTINGS = f"CREATE TABLE IF NOT EXISTS {TABLE}_settings (key VARCHAR(100) PRIMARY KEY, value TEXT NOT NULL)"
_MERGE = text(
    f"INSERT INTO {TABLE}_details ({_KEY}, detail) "
    "VALUES (:dag_id, :run_id, :task_id, :map_index, :try_number, :state, CAST(:detail AS JSONB)) "
    f"ON CONFLICT ({_KEY}) DO UPDATE SET detail = {TABLE}_details.detail || EXCLUDED.detail"
)


class PostgresEventLog:
    def __init__(self, engine: Engine, *, create: bool = True) -> None:
        if engine.dialect.name != "postgresql":
            raise AirshiftError(f"{mask(engine.url)} is not a PostgreSQL database")
        self.engine = engine
        self.path = mask(engine.url)
        try:
            with engine.begin() as connection:
                if create:
                    connection.exec_driver_sql(_SCHEMA)
                    connection.exec_driver_sql(_DETAILS)
                    connection.exec_driver_sql(
                        f"CREATE INDEX IF NOT EXISTS {TABLE}_run ON {TABLE} (dag_id, run_id, seq)"
                    )
                    connection.exec_driver_sql(_CONSUMERS)
                    connection.exec_driver_sql(_SETTINGS)
                elif connection.exec_driver_sql(f"SELECT to_regclass('{TABLE}')").scalar() is None:
                    raise AirshiftError(f"{self.path} holds no event log (run `airshift events relay` first)")
        except DBAPIError as error:
            raise AirshiftError(f"cannot open the event log in {self.path}: {error.orig}") from None

    @classmethod
    def from_url(cls, url: str, *, create: bool = True) -> PostgresEventLog:
        return cls(connect(parse_url(url, from_cli=False)), create=create)

    def append(self, events: Sequence[NewEvent]) -> AppendResult:
        logged_at = utc_now()
        names = ", ".join(_COLUMNS)
        params = ", ".join(f":{name}" for name in _COLUMNS)
        insert = text(
            f"INSERT INTO {TABLE} (seq, {names}) SELECT COALESCE(MAX(seq), 0) + 1, {params} FROM {TABLE} "
            "ON CONFLICT (dag_id, run_id, task_id, map_index, try_number, state, run_attempt) DO NOTHING"
        )
        appended = 0
        try:
            with self.engine.begin() as connection:
                connection.exec_driver_sql(f"LOCK TABLE {TABLE} IN EXCLUSIVE MODE")
                for event in events:
                    values = event.model_dump(include=set(_COLUMNS))
                    values["logged_at"] = logged_at
                    added = connection.execute(insert, values).rowcount
                    appended += added
                    if added and event.detail:
                        connection.execute(_MERGE, _merge_params(event.detail_key, event.detail))
                last = connection.exec_driver_sql(f"SELECT COALESCE(MAX(seq), 0) FROM {TABLE}").scalar()
        except DBAPIError as error:
            raise AirshiftError(f"appending to the event log in {self.path} failed: {error.orig}") from None
        return AppendResult(appended=appended, duplicates=len(events) - appended, last_offset=int(last or 0))

    def read(self, after: int, limit: int, where: EventFilter | None = None) -> list[Event]:
        clauses = ["seq > :after"]
        params: dict[str, object] = {"after": after, "limit": limit}
        if where is not None:
            for name in _FILTER_COLUMNS:
                value = getattr(where, name)
                if value is not None:
                    clauses.append(f"{name} = :{name}")
                    params[name] = value
            if where.dag_ids is not None:
                if not where.dag_ids:
                    return []
                clauses.append("dag_id = ANY(:dag_ids)")
                params["dag_ids"] = sorted(where.dag_ids)
        sql = (
            f"SELECT e.seq AS offset, {', '.join('e.' + name for name in _COLUMNS)}, d.detail "
            f"FROM {TABLE} AS e LEFT JOIN {TABLE}_details AS d USING ({_KEY}) "
            f"WHERE {' AND '.join('e.' + clause for clause in clauses)} ORDER BY e.seq LIMIT :limit"
        )
        try:
            with self.engine.connect() as connection:
                rows = connection.execute(text(sql), params).mappings().all()
        except DBAPIError as error:
            raise AirshiftError(f"reading the event log in {self.path} failed: {error.orig}") from None
        return [Event.model_validate(dict(row)) for row in rows]

    def last_offset(self) -> int:
        try:
            with self.engine.connect() as connection:
                return int(
                    connection.exec_driver_sql(f"SELECT COALESCE(MAX(seq), 0) FROM {TABLE}").scalar() or 0
                )
        except DBAPIError as error:
            raise AirshiftError(f"reading the event log in {self.path} failed: {error.orig}") from None

    def annotate(self, key: DetailKey, detail: dict[str, Any]) -> None:
        try:
            with self.engine.begin() as connection:
                connection.execute(_MERGE, _merge_params(key, detail))
        except DBAPIError as error:
            raise AirshiftError(f"writing event details in {self.path} failed: {error.orig}") from None

    # Retention -----------------------------------------------------------------------------------

    def _scalar(self, sql: str, params: dict[str, object] | None = None) -> int:
        try:
            with self.engine.connect() as connection:
                return int(connection.execute(text(sql), params or {}).scalar() or 0)
        except DBAPIError as error:
            raise AirshiftError(f"reading the event log in {self.path} failed: {error.orig}") from None

    def first_offset(self) -> int:
        return self._scalar(f"SELECT COALESCE(MIN(seq), 0) FROM {TABLE}")

    def last_offset_logged_before(self, moment: str) -> int:
        return self._scalar(
            f"SELECT COALESCE(MAX(seq), 0) FROM {TABLE} WHERE logged_at < :moment", {"moment": moment}
        )

    def delete_through(self, offset: int) -> int:
        """Delete events up to `offset` (never the newest) and the details no event refers to any more."""
        matches = " AND ".join(f"e.{c} = d.{c}" for c in _KEY_COLUMNS)
        try:
            with self.engine.begin() as connection:
                # The appenders' lock: no append computes max(seq)+1 while rows go.
                connection.exec_driver_sql(f"LOCK TABLE {TABLE} IN EXCLUSIVE MODE")
                deleted = connection.execute(
                    text(
                        f"DELETE FROM {TABLE} WHERE seq <= :offset AND seq < (SELECT MAX(seq) FROM {TABLE})"
                    ),
                    {"offset": offset},
                ).rowcount
                connection.exec_driver_sql(
                    f"DELETE FROM {TABLE}_details AS d WHERE NOT EXISTS (SELECT 1 FROM {TABLE} AS e WHERE {matches})"
                )
        except DBAPIError as error:
            raise AirshiftError(f"compacting the event log in {self.path} failed: {error.orig}") from None
        return int(deleted)

    def consumer_positions(self) -> dict[str, int]:
        try:
            with self.engine.connect() as connection:
                rows = connection.exec_driver_sql(f"SELECT name, offset_value FROM {TABLE}_consumers").all()
        except DBAPIError as error:
            raise AirshiftError(f"reading the event log in {self.path} failed: {error.orig}") from None
        return {str(name): int(offset) for name, offset in rows}

    def _write(self, sql: str, params: dict[str, object]) -> int:
        try:
            with self.engine.begin() as connection:
                return int(connection.execute(text(sql), params).rowcount)
        except DBAPIError as error:
            raise AirshiftError(f"writing the event log in {self.path} failed: {error.orig}") from None

    def register_consumer(self, name: str, offset: int) -> None:
        self._write(
            f"INSERT INTO {TABLE}_consumers (name, offset_value, updated_at) VALUES (:name, :offset, :now) "
            "ON CONFLICT (name) DO UPDATE SET offset_value = EXCLUDED.offset_value, updated_at = EXCLUDED.updated_at",
            {"name": name, "offset": offset, "now": utc_now()},
        )

    def forget_consumer(self, name: str) -> bool:
        return bool(self._write(f"DELETE FROM {TABLE}_consumers WHERE name = :name", {"name": name}))

    def retention_policy(self) -> RetentionPolicy:
        try:
            with self.engine.connect() as connection:
                value = connection.exec_driver_sql(
                    f"SELECT value FROM {TABLE}_settings WHERE key = 'retention'"
                ).scalar()
        except DBAPIError as error:
            raise AirshiftError(f"reading the event log in {self.path} failed: {error.orig}") from None
        return RetentionPolicy.model_validate_json(value) if value else RetentionPolicy()

    def set_retention_policy(self, policy: RetentionPolicy) -> None:
        self._write(
            f"INSERT INTO {TABLE}_settings (key, value) VALUES ('retention', :value) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            {"value": policy.model_dump_json()},
        )


def _merge_params(key: DetailKey, detail: dict[str, Any]) -> dict[str, object]:
    return {**dict(zip(_KEY_COLUMNS, key, strict=True)), "detail": json.dumps(detail, sort_keys=True)}
