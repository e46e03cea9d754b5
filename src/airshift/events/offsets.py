"""Where a consumer keeps its offset: the offset of the last event its handler finished.

Each consumer (one per DAG or downstream system, by name) owns its offset, so the log never needs to
know who reads it and either side can stop for maintenance. Three homes: a local file (atomic replace,
fsync'd), or a table in SQLite or PostgreSQL (one row per consumer name; handy when the consumer's own
results live in the same database).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Protocol

from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, create_engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from airshift.errors import AirshiftError
from airshift.events.database import mask, parse_url

OFFSETS_TABLE = "airshift_consumer_offsets"


class OffsetStore(Protocol):
    def load(self, consumer: str) -> int:
        """The committed offset (0 when the consumer never committed)."""
        ...

    def commit(self, consumer: str, offset: int) -> None: ...


class FileOffsetStore:
    """Offsets in a small JSON file {consumer: offset}; every commit replaces the file atomically."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    def _read(self) -> dict[str, int]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            raise AirshiftError(f"offset file {self.path} is unreadable: {error}") from None
        if not isinstance(data, dict) or not all(isinstance(v, int) for v in data.values()):
            raise AirshiftError(f"offset file {self.path} is not a JSON object of consumer -> offset")
        return data

    def load(self, consumer: str) -> int:
        return int(self._read().get(consumer, 0))

    def commit(self, consumer: str, offset: int) -> None:
        data = self._read()
        data[consumer] = offset
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Write a temp file, fsync it, rename over the old one: a crash leaves the old or the new file.
        fd, temp = tempfile.mkstemp(prefix=self.path.name, suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


class SqlOffsetStore:
    """Offsets in a table of a SQLite or PostgreSQL database (upsert per commit)."""

    def __init__(self, engine: Engine) -> None:
        if engine.dialect.name not in ("sqlite", "postgresql"):
            raise AirshiftError(f"offsets can be kept in SQLite or PostgreSQL, not {engine.dialect.name}")
        self.engine = engine
        self.table = Table(
            OFFSETS_TABLE,
            MetaData(),
            Column("consumer", String(250), primary_key=True),
            Column("offset_value", Integer, nullable=False),
        )
        try:
            self.table.create(engine, checkfirst=True)
        except DBAPIError as error:
            raise AirshiftError(
                f"cannot create {OFFSETS_TABLE} in {mask(engine.url)}: {error.orig}"
            ) from None

    def load(self, consumer: str) -> int:
        query = select(self.table.c.offset_value).where(self.table.c.consumer == consumer)
        try:
            with self.engine.connect() as connection:
                value = connection.execute(query).scalar()
        except DBAPIError as error:
            raise AirshiftError(f"reading offsets in {mask(self.engine.url)} failed: {error.orig}") from None
        return int(value or 0)

    def commit(self, consumer: str, offset: int) -> None:
        insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        statement = insert(self.table).values(consumer=consumer, offset_value=offset)
        statement = statement.on_conflict_do_update(
            index_elements=[self.table.c.consumer], set_={"offset_value": offset}
        )
        try:
            with self.engine.begin() as connection:
                connection.execute(statement)
        except DBAPIError as error:
            raise AirshiftError(
                f"committing an offset in {mask(self.engine.url)} failed: {error.orig}"
            ) from None


def open_offset_store(spec: str | Path) -> OffsetStore:
    """A file path, or a sqlite:/// or postgresql:// URL."""
    text = str(spec)
    if "://" not in text:
        return FileOffsetStore(Path(text))
    url = parse_url(text, from_cli=False)
    try:
        return SqlOffsetStore(create_engine(url))
    except ImportError as error:
        raise AirshiftError(f"no database driver for {mask(url)}: {error}") from None
