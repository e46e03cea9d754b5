"""One Kafka cluster as the comparison uses it: topic metadata, watermarks, committed group offsets and
partitions read as streams of `Record`s (fingerprints only; memory stays flat on any topic size).

confluent-kafka is imported here, lazily. Every error message passes through the client config's
redaction, and librdkafka's own log lines are kept (redacted) for the next error instead of being
printed, so nothing the library logs can carry a secret to the terminal.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

from airshift.errors import AirshiftError
from airshift.kafka.config import ClientConfig
from airshift.kafka.digest import Record, make_record

NO_OFFSET = -1001  # librdkafka's OFFSET_INVALID: no committed offset
_GROUP = "airshift-kafka-compare"  # never commits; only names the reading consumers


class _RecentLog(logging.Handler):
    """Keeps librdkafka's last few log lines for error messages (they explain a timeout)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: deque[str] = deque(maxlen=3)

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


class Cluster:
    def __init__(self, config: ClientConfig, role: str, timeout: float = 30.0) -> None:
        try:
            import confluent_kafka  # noqa: F401
        except ImportError:
            raise AirshiftError(
                "airshift kafka needs confluent-kafka (pip install 'airshift[kafka]')"
            ) from None
        self.config = config
        self.role = role
        self.timeout = timeout
        self._recent = _RecentLog()
        self._logger = logging.getLogger(f"airshift.kafka.librdkafka.{role}.{id(self)}")
        self._logger.propagate = False
        self._logger.handlers = [self._recent]
        self._logger.setLevel(logging.WARNING)
        self._admin: Any = None

    # -- errors ---------------------------------------------------------------------------------------
    def error(self, doing: str, cause: object | None = None) -> AirshiftError:
        detail = f": {cause}" if cause is not None else ""
        if self._recent.lines:
            detail += f" (client log: {self._recent.lines[-1]})"
        return AirshiftError(
            self.config.redact(f"{self.role} Kafka {self.config.describe()}: {doing} failed{detail}")
        )

    def _client_config(self, **extra: Any) -> dict[str, Any]:
        return self.config.librdkafka(logger=self._logger, **extra)

    @property
    def admin(self) -> Any:
        if self._admin is None:
            from confluent_kafka import KafkaException
            from confluent_kafka.admin import AdminClient

            try:
                self._admin = AdminClient(self._client_config())
            except (KafkaException, ValueError, TypeError) as error:
                raise self.error("configuring the client", error) from None
        return self._admin

    def consumer(self, **extra: Any) -> Any:
        from confluent_kafka import Consumer, KafkaException

        settings = self._client_config(
            **{
                "group.id": _GROUP,
                "enable.auto.commit": False,
                "enable.partition.eof": True,
                "auto.offset.reset": "earliest",
                # Bounded prefetch: the client buffers at most this much per consumer.
                "queued.max.messages.kbytes": 8192,
                "fetch.wait.max.ms": 100,
                **extra,
            }
        )
        try:
            return Consumer(settings)
        except (KafkaException, ValueError, TypeError) as error:
            raise self.error("configuring the consumer", error) from None

    # -- metadata -------------------------------------------------------------------------------------
    def topics(self) -> dict[str, int]:
        """Every topic and its partition count."""
        from confluent_kafka import KafkaException

        try:
            metadata = self.admin.list_topics(timeout=self.timeout)
        except KafkaException as error:
            raise self.error("listing topics", error) from None
        return {name: len(topic.partitions) for name, topic in metadata.topics.items() if not topic.error}

    def watermarks(self, topic: str, partitions: int) -> list[tuple[int, int]]:
        """(earliest, latest) offset of each partition."""
        from confluent_kafka import KafkaException, TopicPartition

        consumer = self.consumer()
        try:
            return [
                tuple(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=self.timeout))
                for p in range(partitions)
            ]
        except KafkaException as error:
            raise self.error(f"reading offsets of {topic}", error) from None
        finally:
            consumer.close()

    def watermark(self, topic: str, partition: int) -> tuple[int, int]:
        from confluent_kafka import KafkaException, TopicPartition

        consumer = self.consumer()
        try:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=self.timeout)
        except KafkaException as error:
            raise self.error(f"reading offsets of {topic}[{partition}]", error) from None
        finally:
            consumer.close()
        return int(low), int(high)

    def offset_for_time(self, topic: str, partition: int, timestamp: int) -> int | None:
        """The first offset whose timestamp is at or after `timestamp` (None: none is)."""
        from confluent_kafka import KafkaException, TopicPartition

        consumer = self.consumer()
        try:
            found = consumer.offsets_for_times(
                [TopicPartition(topic, partition, timestamp)], timeout=self.timeout
            )
        except KafkaException as error:
            raise self.error(f"looking up a timestamp in {topic}[{partition}]", error) from None
        finally:
            consumer.close()
        offset = int(found[0].offset) if found else -1
        return offset if offset >= 0 else None

    def committed(self, group: str, topic: str, partitions: int) -> dict[int, int]:
        """The group's committed offset per partition of `topic` (partitions without one are left out)."""
        from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition

        request = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, p) for p in range(partitions)])
        try:
            result = self.admin.list_consumer_group_offsets([request])[group].result(timeout=self.timeout)
        except KafkaException as error:
            raise self.error(f"reading group {group}'s offsets", error) from None
        return {tp.partition: int(tp.offset) for tp in result.topic_partitions if int(tp.offset) >= 0}

    # -- records --------------------------------------------------------------------------------------
    def raw(self, topic: str, partition: int, start: int = 0) -> Iterator[Any]:
        """Every message of a partition from `start` to its end (confluent-kafka Message objects)."""
        for batch in self._batches(topic, partition, start):
            yield from batch

    def _batches(self, topic: str, partition: int, start: int) -> Iterator[list[Any]]:
        """The partition's messages from `start` to its end, in the batches the client hands over."""
        from confluent_kafka import KafkaError, TopicPartition

        consumer = self.consumer()
        try:
            consumer.assign([TopicPartition(topic, partition, start)])
            consume = consumer.consume
            idle_since = time.monotonic()
            while True:
                messages = consume(1000, 0.02)  # returns early only when full: keep the wait short
                if not messages:
                    if time.monotonic() - idle_since > self.timeout:
                        raise self.error(f"reading {topic}[{partition}] (no answer for {self.timeout:.0f} s)")
                    continue
                idle_since = time.monotonic()
                batch: list[Any] = []
                for message in messages:
                    if message.topic() != topic or message.partition() != partition:
                        continue  # a late message of an earlier assignment
                    error = message.error()
                    if error is not None:
                        if error.code() == KafkaError._PARTITION_EOF:
                            yield batch
                            return
                        raise self.error(f"reading {topic}[{partition}]", error)
                    batch.append(message)
                yield batch
        finally:
            consumer.close()

    def read(self, topic: str, partition: int, start: int = 0, limit: int | None = None) -> Iterator[Record]:
        """The partition's records from `start` (at most `limit`) as fingerprints, in offset order."""
        if limit is not None and limit <= 0:
            return
        remaining = -1 if limit is None else limit
        for batch in self._batches(topic, partition, start):
            for message in batch:
                yield make_record(
                    message.offset(),
                    message.key(),
                    message.value(),
                    message.headers(),
                    message.timestamp()[1],
                )
                remaining -= 1
                if remaining == 0:
                    return

    def last_record(self, topic: str, partition: int) -> Record | None:
        """The partition's last record. Read from the high watermark - 1 to the end rather than trusting
        the watermark alone: some Kafka-protocol brokers (Tansu) report one that lags the last record."""
        low, high = self.watermark(topic, partition)
        if high <= low:
            return None
        last = None
        for record in self.read(topic, partition, max(low, high - 1)):
            last = record
        return last
