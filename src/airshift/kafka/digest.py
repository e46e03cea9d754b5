"""Record fingerprints and sequence digests.

MirrorMaker 2 keeps a record's key, value, headers (in order) and timestamp and gives it a new offset,
so a record's identity across clusters is those four parts. Each part is hashed on its own (8 bytes)
so a difference can be named (`headers changed`); the record's fingerprint (16 bytes) covers all four.
A partition's sequence digest is SHA-256 over the fingerprints in order: equal digests mean the same
records in the same order. Only fingerprints are ever kept, never record bodies.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass

PARTS = ("key", "value", "headers", "timestamp")
_NONE = b"\xff" * 8  # a null key/value is not the empty one
Header = tuple[str, bytes | None]


def _part(data: bytes | None) -> bytes:
    if data is None:
        return _NONE
    return hashlib.blake2b(data, digest_size=8).digest()


def _headers(headers: Sequence[Header] | None) -> bytes:
    if not headers:
        return b"\x00" * 8
    h = hashlib.blake2b(digest_size=8)
    for name, value in headers:
        encoded = name.encode()
        h.update(struct.pack(">I", len(encoded)) + encoded)
        h.update(b"\xff\xff\xff\xff" if value is None else struct.pack(">I", len(value)) + value)
    return h.digest()


@dataclass(frozen=True, slots=True)
class Record:
    """One record as the comparison sees it: where it is and what it is (hashes, no body)."""

    offset: int
    timestamp: int
    key: bytes  # 8-byte hash of each part
    value: bytes
    headers: bytes
    fingerprint: bytes  # 16-byte hash of the four parts

    def differing_parts(self, other: Record) -> list[str]:
        mine = (self.key, self.value, self.headers, self.timestamp)
        theirs = (other.key, other.value, other.headers, other.timestamp)
        return [name for name, a, b in zip(PARTS, mine, theirs, strict=True) if a != b]


def make_record(
    offset: int, key: bytes | None, value: bytes | None, headers: Sequence[Header] | None, timestamp: int
) -> Record:
    k, v, h = _part(key), _part(value), _headers(headers)
    fingerprint = hashlib.blake2b(k + v + h + struct.pack(">q", timestamp), digest_size=16).digest()
    return Record(offset, timestamp, k, v, h, fingerprint)


class SequenceDigest:
    """SHA-256 over record fingerprints in the order they were read, and their count."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.count = 0

    def add(self, record: Record) -> None:
        self._hash.update(record.fingerprint)
        self.count += 1

    def hexdigest(self) -> str:
        return self._hash.hexdigest()
