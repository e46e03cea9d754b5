"""The embedded event log: one SQLite file (WAL, synchronous=FULL).

The offset is the table's rowid: SQLite hands out max(rowid)+1, and an insert ignored as a duplicate or
rolled back by a crash consumes nothing, so offsets have no gaps. Compaction deletes only from the start
and never the newest row, so max(rowid)+1 stays the next offset. A batch is
one transaction: after a SIGKILL it is either entirely in the log or not at all.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from airshift.errors import AirshiftError
from airshift.events.model import DetailKey, Event, NewEvent
from airshift.events.retention import RetentionPolicy
from airshift.events.stores import AppendResult, EventFilter

SCHEMA_VERSION = 1
_COLUMNS = (
    "kind", "dag_id", "run_id", "task_id", "map_index", "try_number", "run_attempt", "state",
    "previous_state", "logical_date", "changed_at", "source", "logged_at",
)  # fmt: skip
_FILTER_COLUMNS = ("dag_id", "run_id", "task_id", "state", "kind")
_KEY_COLUMNS = ("dag_id", "run_id", "task_id", "map_index", "try_number", "state")
_KEY = ", ".join(_KEY_COLUMNS)


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


class SqliteEventLog:
    def __init__(self, path: Path | str, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise AirshiftError(f"event log {self.path} does not exist (run `airshift events relay` first)")
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            self._ensure_schema(connection)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            connection = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        except sqlite3.Error as error:
            raise AirshiftError(f"cannot open the event log {self.path}: {error}") from None
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed batch survives power loss too; the relay deletes outbox rows after it.
            connection.execute("PRAGMA synchronous=FULL")
            yield connection
        except sqlite3.DatabaseError as error:
            raise AirshiftError(f"event log {self.path}: {error}") from None
        finally:
            connection.close()

    def _ensure_schema(self, connection: sqlite3.Connection) -> None:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, SCHEMA_VERSION):
            raise AirshiftError(
                f"event log {self.path} has schema version {version}; this airshift reads {SCHEMA_VERSION}"
            )
        connection.execute(
            """CREATE TABLE IF NOT EXISTS events (
                seq INTEGER PRIMARY KEY,
                kind TEXT NOT NULL,
                dag_id TEXT NOT NULL,
                run_id TEXT NOT NULL,
                task_id TEXT NOT NULL,
                map_index INTEGER NOT NULL,
                try_number INTEGER NOT NULL,
                run_attempt INTEGER NOT NULL,
                state TEXT NOT NULL,
                previous_state TEXT,
                logical_date TEXT,
                changed_at TEXT NOT NULL,
                source TEXT NOT NULL,
                logged_at TEXT NOT NULL,
                UNIQUE (dag_id, run_id, task_id, map_index, try_number, state, run_attempt)
            )"""
        )
        connection.execute("CREATE INDEX IF NOT EXISTS events_run ON events (dag_id, run_id, seq)")
        connection.execute(
            """CREATE TABLE IF NOT EXISTS details (
                dag_id TEXT NOT NULL,
                run_id TEXT NOT NULL,
                task_id TEXT NOT NULL,
                map_index INTEGER NOT NULL,
                try_number INTEGER NOT NULL,
                state TEXT NOT NULL,
                detail TEXT NOT NULL,
                PRIMARY KEY (dag_id, run_id, task_id, map_index, try_number, state)
            )"""
        )
        # Retention (see airshift.events.retention): consumers' registered positions and the policy.
        connection.execute(
            "CREATE TABLE IF NOT EXISTS consumers (name TEXT PRIMARY KEY, offset_value INTEGER NOT NULL, "
            "updated_at TEXT NOT NULL)"
        )
        connection.execute("CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def append(self, events: Sequence[NewEvent]) -> AppendResult:
        logged_at = utc_now()
        placeholders = ", ".join("?" for _ in _COLUMNS)
        sql = f"INSERT OR IGNORE INTO events ({', '.join(_COLUMNS)}) VALUES ({placeholders})"
        appended = 0
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                for event in events:
                    values = (
                        event.kind, event.dag_id, event.run_id, event.task_id, event.map_index,
                        event.try_number, event.run_attempt, event.state, event.previous_state, event.logical_date,
                        event.changed_at, event.source, logged_at,
                    )  # fmt: skip
                    added = connection.execute(sql, values).rowcount
                    appended += added
                    if added and event.detail:
                        _merge_detail(connection, event.detail_key, event.detail)
                last = connection.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        return AppendResult(appended=appended, duplicates=len(events) - appended, last_offset=int(last))

    def read(self, after: int, limit: int, where: EventFilter | None = None) -> list[Event]:
        clauses = ["seq > ?"]
        params: list[object] = [after]
        if where is not None:
            for name in _FILTER_COLUMNS:
                value = getattr(where, name)
                if value is not None:
                    clauses.append(f"{name} = ?")
                    params.append(value)
            if where.dag_ids is not None:
                if not where.dag_ids:
                    return []
                clauses.append(f"dag_id IN ({', '.join('?' * len(where.dag_ids))})")
                params.extend(sorted(where.dag_ids))
        params.append(limit)
        columns = ", ".join(f"e.{name}" for name in _COLUMNS)
        sql = (
            f"SELECT e.seq, {columns}, d.detail FROM events AS e LEFT JOIN details AS d USING ({_KEY}) "
            f"WHERE {' AND '.join('e.' + clause for clause in clauses)} ORDER BY e.seq LIMIT ?"
        )
        with self._connect() as connection:
            rows = connection.execute(sql, params).fetchall()
        return [_event(row) for row in rows]

    def last_offset(self) -> int:
        with self._connect() as connection:
            return int(connection.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])

    def annotate(self, key: DetailKey, detail: dict[str, Any]) -> None:
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                _merge_detail(connection, key, detail)
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise

    # Retention -----------------------------------------------------------------------------------

    def first_offset(self) -> int:
        with self._connect() as connection:
            return int(connection.execute("SELECT COALESCE(MIN(seq), 0) FROM events").fetchone()[0])

    def last_offset_logged_before(self, moment: str) -> int:
        with self._connect() as connection:
            row = connection.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM events WHERE logged_at < ?", (moment,)
            )
            return int(row.fetchone()[0])

    def delete_through(self, offset: int) -> int:
        """Delete events up to `offset` (never the newest) and the details no event refers to any more."""
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                newest = connection.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]
                deleted = connection.execute(
                    "DELETE FROM events WHERE seq <= ? AND seq < ?", (offset, newest)
                ).rowcount
                connection.execute(
                    f"DELETE FROM details WHERE NOT EXISTS (SELECT 1 FROM events AS e WHERE "
                    f"{' AND '.join(f'e.{c} = details.{c}' for c in _KEY_COLUMNS)})"
                )
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        return int(deleted)

    def consumer_positions(self) -> dict[str, int]:
        with self._connect() as connection:
            rows = connection.execute("SELECT name, offset_value FROM consumers").fetchall()
        return {str(name): int(offset) for name, offset in rows}

    def register_consumer(self, name: str, offset: int) -> None:
        with self._connect() as connection:
            connection.execute(
                "INSERT INTO consumers (name, offset_value, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) "
                "DO UPDATE SET offset_value = excluded.offset_value, updated_at = excluded.updated_at",
                (name, offset, utc_now()),
            )

    def forget_consumer(self, name: str) -> bool:
        with self._connect() as connection:
            return bool(connection.execute("DELETE FROM consumers WHERE name = ?", (name,)).rowcount)

    def retention_policy(self) -> RetentionPolicy:
        with self._connect() as connection:
            row = connection.execute("SELECT value FROM settings WHERE key = 'retention'").fetchone()
        return RetentionPolicy.model_validate_json(row[0]) if row else RetentionPolicy()

    def set_retention_policy(self, policy: RetentionPolicy) -> None:
        with self._connect() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO settings (key, value) VALUES ('retention', ?)",
                (policy.model_dump_json(),),
            )


def _merge_detail(connection: sqlite3.Connection, key: DetailKey, detail: dict[str, Any]) -> None:
    """Merge into the details row of `key` (inside the caller's write transaction)."""
    where = " AND ".join(f"{name} = ?" for name in _KEY_COLUMNS)
    row = connection.execute(f"SELECT detail FROM details WHERE {where}", key).fetchone()
    merged = {**(json.loads(row[0]) if row else {}), **detail}
    connection.execute(
        f"INSERT OR REPLACE INTO details ({_KEY}, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (*key, json.dumps(merged, sort_keys=True)),
    )


def _event(row: tuple[object, ...]) -> Event:
    values = dict(zip(("offset", *_COLUMNS, "detail"), row, strict=True))
    if values["detail"] is not None:
        values["detail"] = json.loads(str(values["detail"]))
    return Event.model_validate(values)
