"""MirrorMaker 2's bookkeeping records, decoded with `struct` (Kafka protocol types: big-endian ints,
strings as INT16 length + UTF-8), and its topic names.

- Offset syncs (`mm2-offset-syncs.<alias>.internal`, partition 0; on the source cluster by default,
  on the target with `offset-syncs.topic.location=target`): key = (topic STRING, partition INT32) of the
  source topic; value = (upstreamOffset INT64, offset INT64): the source record at `upstreamOffset` was
  written at target offset `offset`.
- Checkpoints (`<source alias>.checkpoints.internal` on the target, partition 0): key = (group STRING,
  topic STRING, partition INT32) with the topic already renamed for the target; value = version INT16
  (0) + (upstreamOffset INT64, offset INT64, metadata STRING): the group's source commit and MM2's
  translation of it, which is conservative (`sync.downstream + 1` unless the commit is exactly a sync).
Facts: apache/kafka connect/mirror (OffsetSync.java, Checkpoint.java, DefaultReplicationPolicy.java).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from airshift.errors import AirshiftError

OFFSET_SYNCS = re.compile(r"^mm2-offset-syncs\.(.+)\.internal$")
CHECKPOINTS = re.compile(r"^(.+)\.checkpoints\.internal$")
MAX_SYNCS_PER_PARTITION = 4096


def is_internal_topic(name: str) -> bool:
    """Topics MM2 never replicates (ReplicationPolicy.isInternalTopic), plus its heartbeats."""
    return (
        name.endswith((".internal", "-internal"))
        or name.startswith(("__", "."))
        or name == "heartbeats"
        or name.endswith(".heartbeats")
    )


@dataclass(frozen=True)
class OffsetSync:
    topic: str
    partition: int
    upstream: int
    downstream: int


@dataclass(frozen=True)
class Checkpoint:
    group: str
    topic: str  # as named on the target
    partition: int
    upstream: int
    downstream: int
    metadata: str


class _Reader:
    def __init__(self, data: bytes, what: str) -> None:
        self.data, self.position, self.what = data, 0, what

    def take(self, fmt: str) -> int:
        size = struct.calcsize(fmt)
        if self.position + size > len(self.data):
            raise AirshiftError(f"{self.what}: record too short")
        (value,) = struct.unpack_from(fmt, self.data, self.position)
        self.position += size
        return int(value)

    def string(self) -> str:
        length = self.take(">h")
        if length < 0 or self.position + length > len(self.data):
            raise AirshiftError(f"{self.what}: bad string length")
        text = self.data[self.position : self.position + length].decode("utf-8", errors="replace")
        self.position += length
        return text


def decode_offset_sync(key: bytes | None, value: bytes | None) -> OffsetSync:
    k, v = _Reader(key or b"", "offset-sync key"), _Reader(value or b"", "offset-sync value")
    topic, partition = k.string(), k.take(">i")
    return OffsetSync(topic, partition, v.take(">q"), v.take(">q"))


def decode_checkpoint(key: bytes | None, value: bytes | None) -> Checkpoint:
    k, v = _Reader(key or b"", "checkpoint key"), _Reader(value or b"", "checkpoint value")
    group, topic, partition = k.string(), k.string(), k.take(">i")
    version = v.take(">h")
    if version != 0:
        raise AirshiftError(f"checkpoint value version {version} is not known (0 is)")
    return Checkpoint(group, topic, partition, v.take(">q"), v.take(">q"), v.string())


def remote_topic(topic: str, source_alias: str | None, separator: str = ".") -> str:
    """The target's name for a source topic: DefaultReplicationPolicy prefixes the source cluster's
    alias; IdentityReplicationPolicy (no alias given) keeps the name."""
    return f"{source_alias}{separator}{topic}" if source_alias else topic


class SyncTable:
    """Offset syncs per (source topic, partition), kept bounded: past MAX_SYNCS_PER_PARTITION, every
    other older sync is dropped (the newest is always kept), which keeps syncs spread over the topic."""

    def __init__(self) -> None:
        self._syncs: dict[tuple[str, int], list[tuple[int, int]]] = {}

    def add(self, sync: OffsetSync) -> None:
        syncs = self._syncs.setdefault((sync.topic, sync.partition), [])
        if syncs and sync.upstream < syncs[-1][0]:
            # MM2 restarted from an earlier position: the newer syncs supersede the later ones.
            while syncs and syncs[-1][0] >= sync.upstream:
                syncs.pop()
        syncs.append((sync.upstream, sync.downstream))
        if len(syncs) > MAX_SYNCS_PER_PARTITION:
            syncs[:] = syncs[:-1:2] + syncs[-1:]

    def for_partition(self, topic: str, partition: int) -> list[tuple[int, int]]:
        return self._syncs.get((topic, partition), [])

    def __bool__(self) -> bool:
        return bool(self._syncs)

    def target_estimate(self, topic: str, partition: int, upstream: int) -> int | None:
        """Where the source offset `upstream` should be on the target: the newest sync at or before it,
        plus the distance (exact at a sync; a guess, refined by content, in between)."""
        best = None
        for u, d in self.for_partition(topic, partition):
            if u <= upstream:
                best = (u, d)
            else:
                break
        return None if best is None else best[1] + (upstream - best[0])

    def source_estimate(self, topic: str, partition: int, downstream: int) -> int | None:
        best = None
        for u, d in self.for_partition(topic, partition):
            if d <= downstream:
                best = (u, d)
            else:
                break
        return None if best is None else best[0] + (downstream - best[1])


def latest_checkpoints(checkpoints: Iterable[Checkpoint]) -> dict[tuple[str, str, int], Checkpoint]:
    """The newest checkpoint per (group, target topic, partition)."""
    latest: dict[tuple[str, str, int], Checkpoint] = {}
    for checkpoint in checkpoints:
        latest[(checkpoint.group, checkpoint.topic, checkpoint.partition)] = checkpoint
    return latest
