"""A decoder for PostgreSQL's built-in logical replication output (`pgoutput`, protocol version 1).

PostgreSQL hands these messages out of a logical replication slot, one per row of
`pg_logical_slot_peek_binary_changes(...)`. Only what the EventStream needs is decoded: transaction
boundaries (Begin, Commit), table descriptions (Relation) and row changes (Insert, Update). Everything
else is recognised and skipped. The layout of each message is the one the PostgreSQL documentation gives
under "Logical Replication Message Formats"; all integers are big-endian and strings end with a NUL byte.
"""

from __future__ import annotations

import datetime as dt
import struct
from dataclasses import dataclass, field

# pgoutput timestamps count microseconds from 2000-01-01 00:00 UTC (PostgreSQL's epoch).
_PG_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


class DecodeError(ValueError):
    """A message that does not follow the protocol (a bug or an unexpected server version)."""


@dataclass(frozen=True)
class Begin:
    final_lsn: int
    committed_at: dt.datetime
    xid: int


@dataclass(frozen=True)
class Commit:
    commit_lsn: int
    end_lsn: int  # the position after the commit record: where a slot may advance to
    committed_at: dt.datetime


@dataclass(frozen=True)
class Relation:
    relation_id: int
    namespace: str
    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class RowChange:
    """An INSERT or UPDATE of one row: the new values by column name (None: SQL NULL).

    Columns whose value did not change and lives out of line (TOAST) are absent from `values`; the
    EventStream never needs such columns (its columns are short strings and integers)."""

    operation: str  # "insert" | "update"
    relation_id: int
    values: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Other:
    """A message the EventStream ignores (Delete, Truncate, Type, Origin, logical messages)."""

    tag: str


Message = Begin | Commit | Relation | RowChange | Other


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0

    def take(self, size: int) -> bytes:
        end = self.position + size
        if end > len(self.data):
            raise DecodeError(f"message ends early (wanted {size} bytes at {self.position})")
        chunk = self.data[self.position : end]
        self.position = end
        return chunk

    def int8(self) -> int:
        return int(self.take(1)[0])

    def int16(self) -> int:
        return int(struct.unpack(">h", self.take(2))[0])

    def int32(self) -> int:
        return int(struct.unpack(">i", self.take(4))[0])

    def uint32(self) -> int:
        return int(struct.unpack(">I", self.take(4))[0])

    def int64(self) -> int:
        return int(struct.unpack(">q", self.take(8))[0])

    def string(self) -> str:
        end = self.data.find(b"\0", self.position)
        if end < 0:
            raise DecodeError("string without its terminating NUL")
        text = self.data[self.position : end].decode("utf-8")
        self.position = end + 1
        return text

    def timestamp(self) -> dt.datetime:
        return _PG_EPOCH + dt.timedelta(microseconds=self.int64())


def _tuple(reader: _Reader, columns: tuple[str, ...]) -> dict[str, str | None]:
    count = reader.int16()
    if count > len(columns):
        raise DecodeError(f"row has {count} columns but its relation describes {len(columns)}")
    values: dict[str, str | None] = {}
    for index in range(count):
        kind = chr(reader.int8())
        if kind == "n":
            values[columns[index]] = None
        elif kind == "u":  # unchanged TOASTed value: not sent
            continue
        elif kind == "t":
            values[columns[index]] = reader.take(reader.int32()).decode("utf-8")
        else:
            raise DecodeError(f"unknown column kind {kind!r}")
    return values


class Decoder:
    """Decodes one slot's messages in order; remembers the Relation messages it has seen, since row
    changes name their table only by its id."""

    def __init__(self) -> None:
        self.relations: dict[int, Relation] = {}

    def decode(self, data: bytes) -> Message:
        if not data:
            raise DecodeError("empty message")
        reader = _Reader(bytes(data))
        tag = chr(reader.int8())
        if tag == "B":
            return Begin(final_lsn=reader.int64(), committed_at=reader.timestamp(), xid=reader.uint32())
        if tag == "C":
            reader.int8()  # flags, unused
            return Commit(commit_lsn=reader.int64(), end_lsn=reader.int64(), committed_at=reader.timestamp())
        if tag == "R":
            return self._relation(reader)
        if tag == "I":
            relation = self._known(reader.uint32())
            if chr(reader.int8()) != "N":
                raise DecodeError("insert without its new tuple")
            return RowChange("insert", relation.relation_id, _tuple(reader, relation.columns))
        if tag == "U":
            relation = self._known(reader.uint32())
            marker = chr(reader.int8())
            if marker in ("K", "O"):  # the old key or old row (replica identity); not needed
                _tuple(reader, relation.columns)
                marker = chr(reader.int8())
            if marker != "N":
                raise DecodeError("update without its new tuple")
            return RowChange("update", relation.relation_id, _tuple(reader, relation.columns))
        return Other(tag)

    def _relation(self, reader: _Reader) -> Relation:
        relation_id = reader.uint32()
        namespace = reader.string()
        name = reader.string()
        reader.int8()  # replica identity setting
        columns: list[str] = []
        for _ in range(reader.int16()):
            reader.int8()  # flags (part of the key)
            columns.append(reader.string())
            reader.uint32()  # type oid
            reader.int32()  # type modifier
        relation = Relation(relation_id, namespace, name, tuple(columns))
        self.relations[relation_id] = relation
        return relation

    def _known(self, relation_id: int) -> Relation:
        try:
            return self.relations[relation_id]
        except KeyError:
            raise DecodeError(f"row change for relation {relation_id} before its Relation message") from None


def lsn_text(lsn: int) -> str:
    """An LSN as PostgreSQL writes it (`16/B374D848`)."""
    return f"{lsn >> 32:X}/{lsn & 0xFFFFFFFF:X}"


def parse_lsn(text: str) -> int:
    high, _, low = text.partition("/")
    return (int(high, 16) << 32) | int(low, 16)
