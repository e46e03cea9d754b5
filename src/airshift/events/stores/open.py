"""Open an event log from what a user types: a file path (SQLite, the default) or a postgresql:// URL."""

from __future__ import annotations

from pathlib import Path

from airshift.errors import AirshiftError
from airshift.events.stores import EventLog


def open_log(spec: str | Path, *, create: bool = True) -> EventLog:
    text = str(spec)
    if text.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        from airshift.events.stores.postgres import PostgresEventLog

        return PostgresEventLog.from_url(text.replace("postgres://", "postgresql://", 1), create=create)
    if "://" in text and not text.startswith("sqlite:///"):
        raise AirshiftError(f"event log {text!r}: use a SQLite file path or a postgresql:// URL")
    from airshift.events.stores.sqlite import SqliteEventLog

    return SqliteEventLog(text.removeprefix("sqlite:///"), create=create)
