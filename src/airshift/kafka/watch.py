"""`kafka compare --watch`: follow the replication until the target has caught up, showing each
partition's lag over time, then let the full comparison give the verdict. Bounded by a timeout.

A partition's lag is the number of source records after the one whose copy is the target's last
record (found by content near the estimate from MM2's offset syncs or the record's timestamp), so it
is correct whatever the target's offsets are. Only the clusters' secret-free descriptions are shown.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from rich.table import Table

from airshift.kafka.align import Side, find_copy
from airshift.kafka.cluster import Cluster
from airshift.kafka.compare import CompareRequest, read_mm2, select_topics
from airshift.kafka.mm2 import SyncTable, remote_topic

_BARS = "▁▂▃▄▅▆▇█"
HISTORY = 40


@dataclass
class PartitionLag:
    topic: str
    partition: int
    source_end: int = 0
    replicated: int = 0  # source offset after the last record copied
    lag: int = 0
    missing_topic: bool = False
    history: deque[int] = field(default_factory=lambda: deque(maxlen=HISTORY))


@dataclass
class WatchState:
    source: str
    target: str
    started: float = field(default_factory=time.monotonic)
    partitions: dict[tuple[str, int], PartitionLag] = field(default_factory=dict)
    rounds: int = 0

    @property
    def total_lag(self) -> int:
        return sum(p.lag for p in self.partitions.values())

    @property
    def converged(self) -> bool:
        return bool(self.partitions) and all(
            p.lag == 0 and not p.missing_topic for p in self.partitions.values()
        )


def measure(
    request: CompareRequest, source: Cluster, target: Cluster, syncs: SyncTable, state: WatchState
) -> None:
    """One round: every selected partition's source end and replicated position."""
    source_topics, target_topics = source.topics(), target.topics()
    for topic in select_topics(source_topics, request.topics):
        target_topic = remote_topic(topic, request.source_alias)
        marks = source.watermarks(topic, source_topics[topic])
        for partition, (low, high) in enumerate(marks):
            lag = state.partitions.setdefault((topic, partition), PartitionLag(topic, partition))
            lag.source_end = high
            lag.missing_topic = target_topic not in target_topics
            replicated = low
            if not lag.missing_topic and partition < target_topics[target_topic]:
                last = target.last_record(target_topic, partition)
                if last is not None:
                    estimate = syncs.source_estimate(topic, partition, last.offset)
                    found = find_copy(
                        last, Side(source, topic, partition, low, high), estimate, request.window
                    )
                    replicated = high if found is None else found + 1
            lag.replicated = replicated
            lag.lag = max(0, high - replicated)
            lag.history.append(lag.lag)
    state.rounds += 1


def sparkline(values: deque[int]) -> str:
    top = max(values, default=0)
    if top == 0:
        return _BARS[0] * len(values)
    return "".join(_BARS[min(len(_BARS) - 1, (v * (len(_BARS) - 1) + top - 1) // top)] for v in values)


def lag_table(state: WatchState, timeout: float) -> Table:
    elapsed = time.monotonic() - state.started
    table = Table(
        title=f"replication lag, round {state.rounds}, {elapsed:.0f} s of at most {timeout:.0f} s "
        f"(total lag {state.total_lag})",
        caption=f"source: {state.source}\ntarget: {state.target}",
        title_justify="left",
    )
    for column in ("topic", "partition", "source end", "replicated up to", "lag", "trend"):
        table.add_column(column, justify="right" if column not in ("topic", "trend") else "left")
    for (topic, partition), lag in sorted(state.partitions.items()):
        style = "green" if lag.lag == 0 and not lag.missing_topic else "yellow"
        table.add_row(
            topic, str(partition), str(lag.source_end),
            "topic missing" if lag.missing_topic else str(lag.replicated),
            f"[{style}]{lag.lag}[/]", sparkline(lag.history),
        )  # fmt: skip
    return table


def follow(
    request: CompareRequest,
    interval: float,
    timeout: float,
    on_round: Callable[[WatchState], None],
) -> WatchState:
    """Measure every `interval` seconds until every partition's lag is 0 or `timeout` passes."""
    source = Cluster(request.source, "source", request.timeout)
    target = Cluster(request.target, "target", request.timeout)
    state = WatchState(request.source.describe(), request.target.describe())
    deadline = state.started + timeout
    while True:
        mm2 = read_mm2(request, source, target, source.topics(), target.topics(), lambda _m: None)
        measure(request, source, target, mm2.syncs, state)
        on_round(state)
        if state.converged or time.monotonic() + interval > deadline:
            return state
        time.sleep(interval)
