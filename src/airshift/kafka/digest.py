"""Record fingerprints and sequence digests.

MirrorMaker 2 keeps a record's key, value, headers (in order) and timestamp and gives it a new offset,
so a record's identity across clusters is those four parts: the record's fingerprint (16 bytes) covers
all four, and each part also gets a cheap in-process hash so a difference can be named (`headers
differ`). A partition's sequence digest is SHA-256 over the fingerprints in order: equal digests mean
the same records in the same order (stable across runs of the same Python version). Only fingerprints
are ever kept, never record bodies.
"""

from __future__ import annotations

import hashlib
import marshal
import struct
from collections.abc import Sequence
from typing import NamedTuple

PARTS = ("key", "value", "headers", "timestamp")
Header = tuple[str, bytes | None]
_pack = struct.Struct(">iiiq").pack
_blake2b = hashlib.blake2b


class Record(NamedTuple):
    """One record as the comparison sees it: where it is and what it is (no body is kept).

    `key`, `value` and `headers` are this process's hashes of each part, enough to name the part that
    differs between two records read by the same process; `fingerprint` (16-byte BLAKE2b over all four
    parts, length-prefixed) is the record's identity and feeds the sequence digests."""

    offset: int
    timestamp: int
    key: int
    value: int
    headers: int
    fingerprint: bytes

    def differing_parts(self, other: Record) -> list[str]:
        mine = (self.key, self.value, self.headers, self.timestamp)
        theirs = (other.key, other.value, other.headers, other.timestamp)
        return [name for name, a, b in zip(PARTS, mine, theirs, strict=True) if a != b]


def make_record(
    offset: int, key: bytes | None, value: bytes | None, headers: Sequence[Header] | None, timestamp: int
) -> Record:
    # marshal: the fastest stable encoding of a list of (str, bytes) pairs (about 1.5 us here).
    encoded_headers = marshal.dumps(list(headers)) if headers else b""
    k = b"" if key is None else key
    v = b"" if value is None else value
    prefix = _pack(
        -1 if key is None else len(k), -1 if value is None else len(v), len(encoded_headers), timestamp
    )
    fingerprint = _blake2b(prefix + k + v + encoded_headers, digest_size=16).digest()
    return Record(offset, timestamp, hash(key), hash(value), hash(encoded_headers), fingerprint)


class SequenceDigest:
    """SHA-256 over record fingerprints in the order they were read, and their count."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.count = 0

    def add(self, record: Record) -> None:
        self.update(record.fingerprint)

    def update(self, fingerprint: bytes) -> None:
        self._hash.update(fingerprint)
        self.count += 1

    def hexdigest(self) -> str:
        return self._hash.hexdigest()
