"""The log published to a Kafka topic, keyed by DAG, for consumers at scale.

Kafka has neither gap-free global offsets nor deduplication, so it is not the sequencer: a SQLite or
PostgreSQL log assigns offsets and drops duplicates, and this store publishes each logged event once
to partition crc32(dag_id) % partitions (so one DAG's events stay in order), with the log offset in a
header and in the body. After a crash, `publish` asks every partition for its last message and resumes
each partition after the log offset found there: an event that reached Kafka is not produced again,
one that did not is. The producer is idempotent (acks=all), so its own retries add no duplicates.
Each message's timestamp is the event's `logged_at`, so publishing the log again (to a new cluster)
produces byte-identical records, which `airshift kafka compare` can prove. `start_after` lets a new
cluster begin at a given log offset instead of receiving the whole history.

Kafka consumers read the topic with Kafka's per-partition offsets (per-DAG order), or use the log
offset carried in each message to deduplicate and resume.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from airshift.errors import AirshiftError
from airshift.events.model import DetailKey, Event, NewEvent
from airshift.events.stores import AppendResult, EventFilter, EventLog

OFFSET_HEADER = "airshift-offset"
_TIMEOUT = 30.0
_PAGE = 1000


def partition_for(dag_id: str, partitions: int) -> int:
    return zlib.crc32(dag_id.encode()) % partitions


def timestamp_ms(event: Event) -> int:
    """The event's `logged_at` in epoch milliseconds (0: let the broker stamp it)."""
    try:
        return int(datetime.fromisoformat(event.logged_at.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return 0


class KafkaEventLog:
    def __init__(
        self,
        sequencer: EventLog,
        bootstrap: str,
        topic: str,
        partitions: int = 3,
        config: dict[str, Any] | None = None,
        start_after: int = 0,
    ) -> None:
        try:
            from confluent_kafka import Producer
        except ImportError:
            raise AirshiftError(
                "the Kafka store needs confluent-kafka (pip install 'airshift[kafka]')"
            ) from None
        self.sequencer = sequencer
        self.bootstrap = bootstrap
        self.topic = topic
        self.partitions = partitions
        self.start_after = start_after
        self._config = {"bootstrap.servers": bootstrap, **(config or {})}
        self._ensure_topic()
        self._producer = Producer({**self._config, "enable.idempotence": True, "acks": "all", "linger.ms": 5})

    def _ensure_topic(self) -> None:
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import AdminClient
        from confluent_kafka.cimpl import NewTopic

        admin = AdminClient(self._config)
        try:
            topics = admin.list_topics(timeout=_TIMEOUT).topics
        except KafkaException as error:
            raise AirshiftError(f"Kafka at {self.bootstrap} is not reachable: {error}") from None
        if self.topic in topics:
            found = len(topics[self.topic].partitions)
            if found != self.partitions:
                raise AirshiftError(
                    f"Kafka topic {self.topic} has {found} partitions, expected {self.partitions}"
                )
            return
        future = admin.create_topics(
            [NewTopic(self.topic, num_partitions=self.partitions, replication_factor=1)]
        )
        try:
            future[self.topic].result(timeout=_TIMEOUT)
        except KafkaException as error:
            if "TOPIC_ALREADY_EXISTS" not in str(error):
                raise AirshiftError(f"cannot create Kafka topic {self.topic}: {error}") from None

    # The EventLog interface: the sequencer decides; Kafka follows.
    def append(self, events: Sequence[NewEvent]) -> AppendResult:
        result = self.sequencer.append(events)
        self.publish()
        return result

    def read(self, after: int, limit: int, where: EventFilter | None = None) -> list[Event]:
        return self.sequencer.read(after, limit, where)

    def last_offset(self) -> int:
        return self.sequencer.last_offset()

    def annotate(self, key: DetailKey, detail: dict[str, Any]) -> None:
        self.sequencer.annotate(key, detail)

    def published_positions(self) -> list[int]:
        """Per partition, the log offset of its last message (0: empty).

        Reads from the high watermark - 1 to the end of the partition rather than trusting the watermark
        alone: some Kafka-protocol brokers (Tansu) report a watermark that lags the last message.
        """
        from confluent_kafka import Consumer, KafkaError, TopicPartition

        consumer = Consumer(
            {**self._config, "group.id": "airshift-publisher-probe", "enable.auto.commit": False}
            | {"enable.partition.eof": True}
        )
        positions = []
        try:
            for partition in range(self.partitions):
                low, high = consumer.get_watermark_offsets(
                    TopicPartition(self.topic, partition), timeout=_TIMEOUT
                )
                consumer.assign([TopicPartition(self.topic, partition, max(low, high - 1, 0))])
                last = 0
                while True:
                    message = consumer.poll(_TIMEOUT)
                    if message is None:
                        raise AirshiftError(f"reading Kafka topic {self.topic}[{partition}] timed out")
                    if message.partition() != partition:
                        continue  # a late message or EOF of the previously assigned partition
                    error = message.error()
                    if error is not None:
                        if error.code() == KafkaError._PARTITION_EOF:
                            break
                        raise AirshiftError(f"reading Kafka topic {self.topic}[{partition}] failed: {error}")
                    headers = dict(message.headers() or [])
                    last = max(last, int(headers.get(OFFSET_HEADER) or b"0"))
                positions.append(last)
        finally:
            consumer.close()
        return positions

    def publish(self) -> int:
        """Produce every logged event not yet in its partition; returns how many were produced."""
        positions = [max(p, self.start_after) for p in self.published_positions()]
        errors: list[str] = []

        def delivered(error: Any, _message: Any) -> None:
            if error is not None:
                errors.append(str(error))

        produced = 0
        after = min(positions)
        while True:
            events = self.sequencer.read(after, _PAGE)
            for event in events:
                partition = partition_for(event.dag_id, self.partitions)
                if event.offset > positions[partition]:
                    self._producer.produce(
                        self.topic,
                        key=event.dag_id.encode(),
                        value=json.dumps(event.model_dump(), sort_keys=True).encode(),
                        partition=partition,
                        headers=[(OFFSET_HEADER, str(event.offset).encode())],
                        timestamp=timestamp_ms(event),
                        on_delivery=delivered,
                    )
                    produced += 1
                    self._producer.poll(0)
            if len(events) < _PAGE:
                break
            after = events[-1].offset
        remaining = self._producer.flush(_TIMEOUT)
        if errors or remaining:
            raise AirshiftError(f"publishing to Kafka topic {self.topic} failed: {errors[:3] or 'timed out'}")
        return produced
