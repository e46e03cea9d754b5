"""MM2's offset-sync and checkpoint records decoded from bytes laid out as Kafka's schemas write them
(hand-built here), and the sync table's estimates."""

from __future__ import annotations

import pytest

from airshift.errors import AirshiftError
from airshift.kafka.mm2 import (
    SyncTable,
    decode_checkpoint,
    decode_offset_sync,
    is_internal_topic,
    remote_topic,
)

# OffsetSync(topic "orders", partition 2, upstream 300, downstream 17): INT16 length + UTF-8, INT32, INT64 x2.
SYNC_KEY = b"\x00\x06orders\x00\x00\x00\x02"
SYNC_VALUE = (300).to_bytes(8, "big") + (17).to_bytes(8, "big")
# Checkpoint(group "billing", topic "cc.orders", partition 1, upstream 42, downstream 40, metadata "m").
CHECKPOINT_KEY = b"\x00\x07billing\x00\x09cc.orders\x00\x00\x00\x01"
CHECKPOINT_VALUE = b"\x00\x00" + (42).to_bytes(8, "big") + (40).to_bytes(8, "big") + b"\x00\x01m"


def test_decode_offset_sync_and_checkpoint() -> None:
    sync = decode_offset_sync(SYNC_KEY, SYNC_VALUE)
    assert (sync.topic, sync.partition, sync.upstream, sync.downstream) == ("orders", 2, 300, 17)
    checkpoint = decode_checkpoint(CHECKPOINT_KEY, CHECKPOINT_VALUE)
    assert (checkpoint.group, checkpoint.topic, checkpoint.partition) == ("billing", "cc.orders", 1)
    assert (checkpoint.upstream, checkpoint.downstream, checkpoint.metadata) == (42, 40, "m")


def test_bad_records_are_errors() -> None:
    with pytest.raises(AirshiftError, match="offset-sync value: record too short"):
        decode_offset_sync(SYNC_KEY, SYNC_VALUE[:10])
    with pytest.raises(AirshiftError, match="version 3"):
        decode_checkpoint(CHECKPOINT_KEY, b"\x00\x03" + CHECKPOINT_VALUE[2:])


def test_sync_table_estimates_and_bounds() -> None:
    table = SyncTable()
    for upstream in range(0, 100_000, 10):
        table.add(
            decode_offset_sync(SYNC_KEY, upstream.to_bytes(8, "big") + (upstream + 5).to_bytes(8, "big"))
        )
    syncs = table.for_partition("orders", 2)
    assert len(syncs) <= 4096 and syncs[-1] == (99_990, 99_995) and syncs[0] == (0, 5)
    assert table.target_estimate("orders", 2, 99_993) == 99_998
    assert table.source_estimate("orders", 2, 99_998) == 99_993
    assert table.target_estimate("orders", 3, 5) is None


def test_topic_names() -> None:
    assert remote_topic("orders", "cc") == "cc.orders" and remote_topic("orders", None) == "orders"
    assert all(map(is_internal_topic, ["mm2-offset-syncs.x.internal", "__consumer_offsets", "heartbeats"]))
    assert not is_internal_topic("orders")
