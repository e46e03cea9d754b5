"""Reading the EventStream's Kafka topic in log order, for the consumer SDK.

The relay publishes each logged event once, to its DAG's partition, in log order within each partition,
with the log offset in the `airshift-offset` header and in the body. Log offsets are gap-free across the
whole topic, so a reader can hand out events strictly in log order: it merges the partitions and returns
only the run of consecutive offsets after the consumer's position. An event still on its way in one
partition holds back the later events of the others; nothing is skipped, so a consumer's stored offset
(the log offset of the last event it handled) means the same here as on the SQLite or PostgreSQL log,
and the same at-least-once contract holds.

Finding where to start after a log offset needs no consumer group: per partition, a binary search over
Kafka offsets by the header (the topic is in log order within a partition).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from airshift.errors import AirshiftError
from airshift.events.model import Event
from airshift.events.stores import EventFilter
from airshift.events.stores.kafka import OFFSET_HEADER

# How long every partition may sit at its end with an offset missing before the reader says the log has
# a hole (topic retention, or a topic some other tool wrote), instead of waiting for it forever.
GAP_PATIENCE_SECONDS = 30.0
_POLL = 0.2


class KafkaEventReader:
    def __init__(
        self, bootstrap: str, topic: str, config: dict[str, Any] | None = None, timeout: float = 30.0
    ) -> None:
        try:
            from confluent_kafka import Consumer
        except ImportError:
            raise AirshiftError(
                "reading the EventStream from Kafka needs confluent-kafka (pip install 'airshift[kafka]')"
            ) from None
        self.topic = topic
        self.timeout = timeout
        settings = {
            **(config or {}),
            "bootstrap.servers": bootstrap,
            # Positions are the consumer's own (log offsets); Kafka's group offsets are not used.
            "group.id": f"airshift-reader-{uuid.uuid4().hex[:12]}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
        self._consumer = Consumer(settings)
        metadata = self._consumer.list_topics(topic, timeout=timeout)
        described = metadata.topics.get(topic)
        if described is None or described.error is not None or not described.partitions:
            self._consumer.close()
            raise AirshiftError(f"Kafka topic {topic!r} does not exist at {bootstrap}")
        self.partitions = sorted(described.partitions)
        self._position: int | None = None  # the log offset the buffered stream continues after
        self._buffer: dict[int, Event] = {}
        self._at_end: set[int] = set()
        self._gap_since: float | None = None

    def close(self) -> None:
        self._consumer.close()

    # Seeking --------------------------------------------------------------------------------------

    def _header_at(self, partition: int, offset: int) -> int | None:
        """The log offset of the message at `offset` (None: the partition ends before it)."""
        from confluent_kafka import KafkaError, TopicPartition

        self._consumer.assign([TopicPartition(self.topic, partition, offset)])
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            message = self._consumer.poll(_POLL)
            if message is None or message.partition() != partition:
                continue
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    return None
                raise AirshiftError(f"reading Kafka topic {self.topic}[{partition}] failed: {error}")
            return _log_offset(message)
        raise AirshiftError(f"reading Kafka topic {self.topic}[{partition}] timed out")

    def _seek(self, after: int) -> None:
        """Assign every partition at its first message whose log offset is above `after`."""
        from confluent_kafka import TopicPartition

        starts = []
        for partition in self.partitions:
            low, high = self._consumer.get_watermark_offsets(
                TopicPartition(self.topic, partition), timeout=self.timeout
            )
            lo, hi = low, max(low, high)
            while lo < hi:
                middle = (lo + hi) // 2
                found = self._header_at(partition, middle)
                if found is None:
                    hi = middle
                elif found <= after:
                    lo = middle + 1
                else:
                    hi = middle
            starts.append(TopicPartition(self.topic, partition, lo))
        self._consumer.assign(starts)
        self._position = after
        self._buffer.clear()
        self._at_end.clear()
        self._gap_since = None

    # The consumer's source interface -----------------------------------------------------------------

    def read(self, after: int, limit: int, where: EventFilter | None = None) -> list[Event]:
        """Events after log offset `after`, in log order, up to `limit` consecutive offsets (filtered by
        `where` after the fact, so a filter never lets the position skip ahead of an unseen offset)."""
        if self._position != after:
            self._seek(after)
        wanted = after + 1
        taken: list[Event] = []
        deadline = time.monotonic() + self.timeout
        while len(taken) < limit and time.monotonic() < deadline:
            if wanted in self._buffer:
                taken.append(self._buffer.pop(wanted))
                wanted += 1
                continue
            if len(self._at_end) == len(self.partitions):
                self._note_gap(wanted)
                break
            self._poll_one()
        self._position = wanted - 1
        return [event for event in taken if where is None or where.matches(event)]

    def _poll_one(self) -> None:
        from confluent_kafka import KafkaError

        message = self._consumer.poll(_POLL)
        if message is None:
            return
        error = message.error()
        if error is not None:
            if error.code() == KafkaError._PARTITION_EOF:
                self._at_end.add(int(message.partition() or 0))
                return
            raise AirshiftError(f"reading Kafka topic {self.topic} failed: {error}")
        self._at_end.discard(int(message.partition() or 0))
        event = Event.model_validate(json.loads(message.value() or b"null"))
        if event.offset > (self._position or 0):
            self._buffer[event.offset] = event

    def _note_gap(self, wanted: int) -> None:
        """Every partition is at its end. If later offsets are buffered, `wanted` is missing: give it a while
        (it may still be in flight to its partition), then say so rather than wait forever."""
        if not self._buffer:
            self._gap_since = None
            return
        now = time.monotonic()
        if self._gap_since is None:
            self._gap_since = now
        elif now - self._gap_since > GAP_PATIENCE_SECONDS:
            raise AirshiftError(
                f"Kafka topic {self.topic} has no event with log offset {wanted} although later ones "
                f"(from {min(self._buffer)}) are there: removed by the topic's retention? A consumer cannot "
                "go on from here without skipping events"
            )


def _log_offset(message: Any) -> int:
    headers = dict(message.headers() or [])
    try:
        return int(headers[OFFSET_HEADER])
    except (KeyError, TypeError, ValueError):
        raise AirshiftError(
            f"{message.topic()}[{message.partition()}] offset {message.offset()} has no {OFFSET_HEADER} "
            "header: not an airshift EventStream topic"
        ) from None
