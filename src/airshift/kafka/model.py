"""The comparison's report: plain dataclasses (JSON via `to_dict`), and the verdict with its exit code.

Exit codes (documented in docs/commands/kafka.md, stable for CI):
0 in parity (warnings such as groups that would re-read records allowed);
1 integrity errors: missing, extra, duplicated, reordered or changed records, a topic or partition
  missing, a head gap, or a consumer group that would skip records;
2 the comparison could not run (bad option or config, unreachable cluster): airshift's usual error exit;
3 no errors so far, but the target is behind (records not replicated yet) or `--watch` timed out.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from airshift.kafka.diff import KINDS, Finding

EXIT_OK, EXIT_ERRORS, EXIT_BEHIND = 0, 1, 3


@dataclass
class SideRange:
    earliest: int
    latest: int
    records: int | None = None  # read while comparing (None when sampled)
    digest: str = ""


@dataclass
class PartitionReport:
    partition: int
    source: SideRange
    target: SideRange
    mode: str = "whole"  # whole | sampled
    source_start: int = 0
    target_start: int = 0
    compared: int = 0  # records matched
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    findings: list[Finding] = field(default_factory=list)
    lag: int = 0
    first_lag_offset: int | None = None
    newer_on_target: int = 0
    head_gap: int = 0  # source records before the target's copy starts
    target_older: int = 0  # target records older than the source's earliest (source retention)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def error_count(self) -> int:
        return sum(self.counts.values()) + len(self.errors)

    @property
    def in_sync(self) -> bool:
        return self.error_count == 0 and self.lag == 0


@dataclass
class TopicReport:
    topic: str
    target_topic: str
    source_partitions: int
    target_partitions: int | None
    partitions: list[PartitionReport] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class GroupPartition:
    group: str
    topic: str
    partition: int
    source_committed: int
    exact_target: int | None  # where the next unread record is on the target
    translated: int | None  # what consumers would start at on the target
    translated_from: str  # "target commit" | "checkpoint" | "none"
    verdict: str  # ok | skip | re-read | untranslated
    records: int = 0  # skipped or re-read


@dataclass
class CompareReport:
    source: str  # secret-free descriptions of the clusters
    target: str
    mode: str
    offset_syncs_topic: str | None
    checkpoints_topic: str | None
    topics: list[TopicReport] = field(default_factory=list)
    groups: list[GroupPartition] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    records_compared: int = 0  # records read on both sides

    def partitions(self) -> list[tuple[TopicReport, PartitionReport]]:
        return [(topic, p) for topic in self.topics for p in topic.partitions]

    @property
    def error_count(self) -> int:
        count = len(self.errors) + sum(len(t.errors) for t in self.topics)
        count += sum(p.error_count for _, p in self.partitions())
        return count + sum(1 for g in self.groups if g.verdict == "skip")

    @property
    def warning_count(self) -> int:
        count = len(self.warnings) + sum(len(p.warnings) for _, p in self.partitions())
        return count + sum(1 for g in self.groups if g.verdict in ("re-read", "untranslated"))

    @property
    def lag(self) -> int:
        return sum(p.lag for _, p in self.partitions())

    @property
    def verdict(self) -> str:
        if self.error_count:
            return "differences"
        return "behind" if self.lag else "in parity"

    @property
    def exit_code(self) -> int:
        if self.error_count:
            return EXIT_ERRORS
        return EXIT_BEHIND if self.lag else EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.update(
            verdict=self.verdict,
            exit_code=self.exit_code,
            error_count=self.error_count,
            warning_count=self.warning_count,
            lag=self.lag,
            schema_version=1,
        )
        return data
