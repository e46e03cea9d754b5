"""`airshift kafka compare`: per topic and partition, both clusters' offsets and record counts, the
record sequences compared in a bounded window (whole topic or sampled ranges), MM2's offset syncs
checked, and consumer groups' translated offsets judged. The one entry point is `run_compare`."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from airshift.errors import AirshiftError
from airshift.kafka import groups as group_rules
from airshift.kafka.align import Side, align_start, find_copy, first_record
from airshift.kafka.cluster import Cluster
from airshift.kafka.config import ClientConfig
from airshift.kafka.diff import WINDOW, compare_sequences
from airshift.kafka.mm2 import (
    CHECKPOINTS,
    OFFSET_SYNCS,
    Checkpoint,
    SyncTable,
    decode_checkpoint,
    decode_offset_sync,
    is_internal_topic,
    remote_topic,
)
from airshift.kafka.model import CompareReport, PartitionReport, SideRange, TopicReport

Progress = Callable[[str], None]
MAX_SYNC_CHECKS = 20  # offset-sync disagreements listed per partition


@dataclass(frozen=True)
class CompareRequest:
    source: ClientConfig
    target: ClientConfig
    topics: str | None = None  # regular expression over source topic names (whole name)
    groups: list[str] = field(default_factory=list)
    sample: int | None = None  # records per sampled range; None compares every record
    sample_ranges: int = 3
    source_alias: str | None = None  # DefaultReplicationPolicy: target topic = "<alias>.<topic>"
    offset_syncs_topic: str | None = None
    checkpoints_topic: str | None = None
    overlap_only: bool = False  # a target that starts later than the source is not an error
    window: int = WINDOW
    timeout: float = 30.0


@dataclass
class Mm2:
    syncs: SyncTable
    checkpoints: dict[tuple[str, str, int], Checkpoint]
    syncs_topic: str | None
    checkpoints_topic: str | None
    warnings: list[str] = field(default_factory=list)


def run_compare(request: CompareRequest, progress: Progress | None = None) -> CompareReport:
    say = progress or (lambda _message: None)
    started = time.monotonic()
    source = Cluster(request.source, "source", request.timeout)
    target = Cluster(request.target, "target", request.timeout)
    source_topics, target_topics = source.topics(), target.topics()
    selected = select_topics(source_topics, request.topics)
    mm2 = read_mm2(request, source, target, source_topics, target_topics, say)
    report = CompareReport(
        request.source.describe(),
        request.target.describe(),
        "sampled" if request.sample else "whole",
        mm2.syncs_topic,
        mm2.checkpoints_topic,
        warnings=list(mm2.warnings),
    )
    group_names = list(dict.fromkeys(request.groups))
    for group, topic_name, _ in mm2.checkpoints:
        if group not in group_names and any(
            remote_topic(t, request.source_alias) == topic_name for t in selected
        ):
            group_names.append(group)
    for topic in selected:
        target_topic = remote_topic(topic, request.source_alias)
        say(f"comparing {topic} -> {target_topic}")
        report.topics.append(
            _compare_topic(
                request,
                source,
                target,
                topic,
                target_topic,
                source_topics,
                target_topics,
                mm2,
                group_names,
                report,
            )
        )
    report.seconds = time.monotonic() - started
    return report


def select_topics(topics: dict[str, int], pattern: str | None) -> list[str]:
    candidates = sorted(name for name in topics if not is_internal_topic(name))
    if pattern is None:
        if not candidates:
            raise AirshiftError("the source cluster has no topics to compare")
        return candidates
    try:
        regex = re.compile(pattern)
    except re.error as error:
        raise AirshiftError(f"--topics {pattern!r} is not a valid regular expression: {error}") from None
    chosen = [name for name in candidates if regex.fullmatch(name)]
    if not chosen:
        raise AirshiftError(f"--topics {pattern!r} matches no topic on the source cluster")
    return chosen


def read_mm2(
    request: CompareRequest,
    source: Cluster,
    target: Cluster,
    source_topics: dict[str, int],
    target_topics: dict[str, int],
    say: Progress,
) -> Mm2:
    syncs = SyncTable()
    syncs_topic, syncs_cluster = _find_topic(
        request.offset_syncs_topic, OFFSET_SYNCS, [(source, source_topics), (target, target_topics)],
        "--offset-syncs-topic",
    )  # fmt: skip
    warnings: list[str] = []
    if syncs_topic and syncs_cluster:
        say(f"reading MM2 offset syncs from {syncs_topic}")
        try:
            for message in syncs_cluster.raw(syncs_topic, 0):
                syncs.add(decode_offset_sync(message.key(), message.value()))
        except AirshiftError as error:  # e.g. no ACL to read it: compare by content instead
            warnings.append(f"offset syncs not used: {error}")
            syncs = SyncTable()
    preferred = f"{request.source_alias}.checkpoints.internal" if request.source_alias else None
    checkpoints_topic, checkpoints_cluster = _find_topic(
        request.checkpoints_topic or (preferred if preferred in target_topics else None), CHECKPOINTS,
        [(target, target_topics)], "--checkpoints-topic",
    )  # fmt: skip
    checkpoints: dict[tuple[str, str, int], Checkpoint] = {}
    if checkpoints_topic and checkpoints_cluster:
        say(f"reading MM2 checkpoints from {checkpoints_topic}")
        try:
            for message in checkpoints_cluster.raw(checkpoints_topic, 0):
                checkpoint = decode_checkpoint(message.key(), message.value())
                checkpoints[(checkpoint.group, checkpoint.topic, checkpoint.partition)] = checkpoint
        except AirshiftError as error:
            warnings.append(f"checkpoints not used: {error}")
            checkpoints = {}
    return Mm2(syncs, checkpoints, syncs_topic, checkpoints_topic, warnings)


def _find_topic(
    name: str | None, pattern: re.Pattern[str], places: list[tuple[Cluster, dict[str, int]]], option: str
) -> tuple[str | None, Cluster | None]:
    if name:
        for cluster, topics in places:
            if name in topics:
                return name, cluster
        raise AirshiftError(f"{option} {name}: no such topic")
    for cluster, topics in places:
        found = sorted(t for t in topics if pattern.match(t))
        if found:
            return found[0], cluster
    return None, None


def _compare_topic(
    request: CompareRequest,
    source: Cluster,
    target: Cluster,
    topic: str,
    target_topic: str,
    source_topics: dict[str, int],
    target_topics: dict[str, int],
    mm2: Mm2,
    group_names: list[str],
    report: CompareReport,
) -> TopicReport:
    count = source_topics[topic]
    result = TopicReport(topic, target_topic, count, target_topics.get(target_topic))
    if target_topic not in target_topics:
        result.errors.append(f"topic {target_topic} is missing on the target")
        return result
    if target_topics[target_topic] != count:
        result.errors.append(
            f"partition counts differ: source {count}, target {target_topics[target_topic]} "
            "(MM2 keeps the partition of every record, so the counts must be equal)"
        )
    commits: dict[str, dict[int, int]] = {}
    target_commits: dict[str, dict[int, int]] = {}
    for group in group_names:
        try:  # a group the credentials may not describe is a warning, not the end of the comparison
            commits[group] = source.committed(group, topic, count)
            target_commits[group] = target.committed(group, target_topic, target_topics[target_topic])
        except AirshiftError as error:
            report.warnings.append(f"group {group} not judged on {topic}: {error}")
    source_marks = source.watermarks(topic, count)
    target_marks = target.watermarks(target_topic, target_topics[target_topic])
    for partition in range(min(count, target_topics[target_topic])):
        s_side = Side(source, topic, partition, *source_marks[partition])
        t_side = Side(target, target_topic, partition, *target_marks[partition])
        watch = [c[partition] for c in commits.values() if partition in c]
        part, points, last_match, start = _compare_partition(request, s_side, t_side, mm2.syncs, watch)
        result.partitions.append(part)
        report.records_compared += (part.source.records or 0) + (part.target.records or 0)
        for group in commits:
            committed = commits[group].get(partition)
            if committed is None:
                continue
            if request.sample:
                exact = _exact_by_lookup(s_side, t_side, mm2.syncs, committed, request.window)
            else:
                exact = group_rules.exact_target(committed, points, last_match, start)
            checkpoint = mm2.checkpoints.get((group, target_topic, partition))
            report.groups.append(
                group_rules.judge(
                    group,
                    topic,
                    partition,
                    committed,
                    exact,
                    target_commits[group].get(partition),
                    checkpoint.downstream if checkpoint else None,
                )
            )
    return result


def _compare_partition(
    request: CompareRequest, source: Side, target: Side, syncs: SyncTable, watch: list[int]
) -> tuple[PartitionReport, dict[int, tuple[int, int]], tuple[int, int] | None, tuple[int, int]]:
    part = PartitionReport(
        source.partition, SideRange(source.low, source.high), SideRange(target.low, target.high)
    )
    start = align_start(source, target, syncs, request.window)
    part.source_start, part.target_start = start.source, start.target
    part.head_gap, part.target_older = start.head_gap, start.target_older
    if start.head_gap:
        message = (
            f"the target's copy starts at source offset {start.source}: {start.head_gap} earlier source "
            f"record(s) (offsets {start.source - start.head_gap}..{start.source - 1}) are not on the target"
        )
        (part.warnings if request.overlap_only else part.errors).append(message)
    if start.target_older:
        part.warnings.append(
            f"the target holds {start.target_older} record(s) older than the source's earliest "
            "(removed from the source by retention, presumably)"
        )
    sync_list = [(u, d) for u, d in syncs.for_partition(source.topic, source.partition) if u >= start.source]
    if request.sample:
        _compare_sampled(request, source, target, syncs, part)
        return part, {}, None, (start.source, start.target)
    result = compare_sequences(
        source.cluster.read(source.topic, source.partition, start.source),
        target.cluster.read(target.topic, target.partition, start.target),
        window=request.window,
        watch=watch + [u for u, _ in sync_list],
    )
    part.compared = result.matched
    part.counts, part.findings = result.counts, result.findings
    part.lag, part.first_lag_offset, part.newer_on_target = (
        result.lag,
        result.first_lag_offset,
        result.newer_on_target,
    )
    part.source.records, part.source.digest = result.source_records, result.source_digest
    part.target.records, part.target.digest = result.target_records, result.target_digest
    _check_syncs(sync_list, result.points, part)
    return part, result.points, result.last_match, (start.source, start.target)


def _check_syncs(
    syncs: list[tuple[int, int]], points: dict[int, tuple[int, int]], part: PartitionReport
) -> None:
    """MM2's offset syncs say where a source record was written; they must agree with the content."""
    disagreements = 0
    for upstream, downstream in syncs:
        seen = points.get(upstream)
        if seen is None or seen[0] != upstream or seen[1] == downstream:
            continue
        disagreements += 1
        if disagreements <= MAX_SYNC_CHECKS:
            part.warnings.append(
                f"MM2 offset sync says source offset {upstream} is at target offset {downstream}, "
                f"but its copy was found at {seen[1]}"
            )
    if disagreements > MAX_SYNC_CHECKS:
        part.warnings.append(f"... {disagreements - MAX_SYNC_CHECKS} more offset-sync disagreements")


def _compare_sampled(
    request: CompareRequest, source: Side, target: Side, syncs: SyncTable, part: PartitionReport
) -> None:
    """Compare `sample` records at `sample_ranges` points spread over the partition."""
    assert request.sample is not None
    part.mode = "sampled"
    size, ranges = request.sample, max(1, request.sample_ranges)
    begin, end = part.source_start, source.high
    span = max(0, end - begin - size)
    starts = sorted({begin + (span * i) // max(1, ranges - 1) for i in range(ranges)}) if end > begin else []
    source_records = target_records = 0
    source_digests, target_digests = hashlib.sha256(), hashlib.sha256()
    for offset in starts:
        anchor = _anchor(source, target, syncs, offset, request.window)
        if anchor is None:
            part.errors.append(
                f"sampled range at source offset {offset}: none of its first records is on the target"
            )
            continue
        s_at, t_at = anchor
        result = compare_sequences(
            source.cluster.read(source.topic, source.partition, s_at, limit=size),
            target.cluster.read(target.topic, target.partition, t_at, limit=size + request.window),
            window=request.window,
            target_tail="ignore",
        )
        part.compared += result.matched
        for kind, n in result.counts.items():
            part.counts[kind] += n
        part.findings.extend(result.findings)
        part.lag += result.lag
        if part.first_lag_offset is None:
            part.first_lag_offset = result.first_lag_offset
        source_records += result.source_records
        target_records += result.target_records
        source_digests.update(result.source_digest.encode())
        target_digests.update(result.target_digest.encode())
    part.source.records, part.target.records = source_records, target_records
    # The digest of the sampled ranges: SHA-256 over the ranges' digests, in order.
    part.source.digest, part.target.digest = source_digests.hexdigest(), target_digests.hexdigest()


def _anchor(source: Side, target: Side, syncs: SyncTable, offset: int, window: int) -> tuple[int, int] | None:
    """A (source, target) pair of offsets holding the same record, at or just after `offset`."""
    for candidate in source.cluster.read(source.topic, source.partition, offset, limit=8):
        estimate = syncs.target_estimate(source.topic, source.partition, candidate.offset)
        found = find_copy(candidate, target, estimate, window)
        if found is not None:
            return candidate.offset, found
    return None


def _exact_by_lookup(source: Side, target: Side, syncs: SyncTable, committed: int, window: int) -> int | None:
    """The target position of the record at `committed` (sampled mode, where the whole partition is not read)."""
    if committed >= source.high:
        last = first_record(source, source.high - 1) if source.high > source.low else None
        if last is None:
            return target.low
        found = find_copy(
            last, target, syncs.target_estimate(source.topic, source.partition, last.offset), window
        )
        return None if found is None else found + 1 + (committed - source.high)
    # The copy of the record at the commit (or of the next one present): what the group reads next.
    anchor = _anchor(source, target, syncs, committed, window)
    return None if anchor is None else anchor[1]
