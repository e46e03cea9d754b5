"""EventStream consumers on a new cluster resume at the same log offset.

Every message the relay publishes carries its log offset in the `airshift-offset` header, in log order
within each partition. A consumer that has handled the log up to offset N on the old cluster resumes,
per partition of the new cluster, at the first message whose header is above N: found by binary search
over the partition (a few reads each), whatever Kafka offsets the new cluster gave the messages.
"""

from __future__ import annotations

from dataclasses import dataclass

from airshift.errors import AirshiftError
from airshift.events.stores.kafka import OFFSET_HEADER
from airshift.kafka.cluster import Cluster


@dataclass(frozen=True)
class ResumePoint:
    partition: int
    kafka_offset: int  # where to resume
    log_offset: int | None  # the log offset of the message there (None: the partition's end)


def _log_offset(cluster: Cluster, topic: str, partition: int, offset: int) -> int | None:
    for message in cluster.raw(topic, partition, offset):
        headers = dict(message.headers() or [])
        value = headers.get(OFFSET_HEADER)
        try:
            return int(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise AirshiftError(
                f"{topic}[{partition}] offset {message.offset()} has no {OFFSET_HEADER} header: "
                "not an airshift EventStream topic"
            ) from None
    return None


def resume_points(cluster: Cluster, topic: str, after: int) -> list[ResumePoint]:
    """Per partition, the first Kafka offset whose message has a log offset above `after`."""
    topics = cluster.topics()
    if topic not in topics:
        raise AirshiftError(f"topic {topic} does not exist on {cluster.config.describe()}")
    points = []
    for partition in range(topics[topic]):
        low, _high = cluster.watermark(topic, partition)
        last = cluster.last_record(topic, partition)
        end = low if last is None else last.offset + 1
        lo, hi = low, end
        while lo < hi:
            middle = (lo + hi) // 2
            found = _log_offset(cluster, topic, partition, middle)
            if found is not None and found <= after:
                lo = middle + 1
            else:
                hi = middle
        at = _log_offset(cluster, topic, partition, lo) if lo < end else None
        points.append(ResumePoint(partition, lo, at))
    return points


def commit_group(cluster: Cluster, group: str, topic: str, points: list[ResumePoint]) -> None:
    """Set the group's committed offsets to the resume points (the group must have no active members)."""
    from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition

    request = ConsumerGroupTopicPartitions(
        group, [TopicPartition(topic, p.partition, p.kafka_offset) for p in points]
    )
    try:
        cluster.admin.alter_consumer_group_offsets([request])[group].result(timeout=cluster.timeout)
    except KafkaException as error:
        raise cluster.error(f"committing group {group}'s offsets", error) from None
