"""Where a source record's copy is on the target (and back): offsets differ across clusters, so a
position is found by content. An estimate comes from MM2's offset syncs when there are any (exact at a
sync) or from the record's timestamp (`offsets_for_times`); the neighbourhood of the estimate is then
read and the record found by its fingerprint. Bounded: at most `window` records are read per lookup."""

from __future__ import annotations

from dataclasses import dataclass

from airshift.kafka.cluster import Cluster
from airshift.kafka.digest import Record
from airshift.kafka.mm2 import SyncTable


@dataclass(frozen=True)
class Side:
    cluster: Cluster
    topic: str
    partition: int
    low: int
    high: int


def find_copy(record: Record, side: Side, estimate: int | None, window: int) -> int | None:
    """The offset on `side` of the record with `record`'s fingerprint near `estimate`, or None."""
    if estimate is None:
        estimate = side.cluster.offset_for_time(side.topic, side.partition, record.timestamp)
        if estimate is None:
            return None
    start = max(side.low, estimate - window // 4)
    for candidate in side.cluster.read(side.topic, side.partition, start, limit=window):
        if candidate.fingerprint == record.fingerprint:
            return candidate.offset
    return None


def first_record(side: Side, at: int | None = None) -> Record | None:
    for record in side.cluster.read(side.topic, side.partition, side.low if at is None else at, limit=1):
        return record
    return None


@dataclass(frozen=True)
class Start:
    source: int
    target: int
    head_gap: int = 0  # source records (from its earliest) that are not on the target
    target_older: int = 0  # target records from before the source's earliest


def align_start(source: Side, target: Side, syncs: SyncTable, window: int) -> Start:
    """Where the comparison starts on both sides: the source's earliest record's copy on the target;
    failing that, the source's copy of the target's earliest record; failing both, both earliest."""
    if source.high <= source.low or target.high <= target.low:
        return Start(source.low, target.low)
    first_source = first_record(source)
    if first_source is None:
        return Start(source.low, target.low)
    estimate = syncs.target_estimate(source.topic, source.partition, first_source.offset)
    found = find_copy(first_source, target, estimate, window)
    if found is not None:
        return Start(first_source.offset, found, target_older=max(0, found - target.low))
    first_target = first_record(target)
    if first_target is None:
        return Start(source.low, target.low)
    estimate = syncs.source_estimate(source.topic, source.partition, first_target.offset)
    found = find_copy(first_target, source, estimate, window)
    if found is not None:
        return Start(found, first_target.offset, head_gap=max(0, found - first_source.offset))
    return Start(first_source.offset, first_target.offset)
