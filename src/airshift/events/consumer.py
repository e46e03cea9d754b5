"""The consumer SDK: read the log from your own stored offset; commit only after your handler returned.

    from airshift.events import Consumer
    consumer = Consumer.open("airshift-events.db", offsets="offsets.json", name="billing")
    consumer.run(handle)                     # handle(event) for each event, forever
    for event in consumer.events(follow=False):  # or iterate; an event is committed when the loop
        handle(event)                            # asks for the next one

Delivery is at-least-once: a consumer killed while handling an event sees that event again after a
restart (the offset was not committed), and never skips one. Handlers should be idempotent on
`event.offset` (or `event.dedup_key`).

`commit_every=N` commits after every N handled events (and always at the end of each read batch and when
stopped) instead of after each one: a durable commit costs a file replace and fsync (or a database
round trip), which under bursts of hundreds of events is most of a consumer's time. The price is that a
consumer killed mid-batch sees up to N-1 handled events again: still at-least-once, never a skip.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from airshift.errors import AirshiftError
from airshift.events.model import Event
from airshift.events.offsets import OffsetStore, open_offset_store
from airshift.events.retention import check_position
from airshift.events.stores import EventFilter


class EventSource(Protocol):
    """Anything that reads the log: a store, or the HTTP API client."""

    def read(self, after: int, limit: int, where: EventFilter | None = None) -> list[Event]: ...


class Consumer:
    def __init__(
        self,
        source: EventSource,
        offsets: OffsetStore,
        name: str,
        where: EventFilter | None = None,
        batch_size: int = 200,
        poll_interval: float = 0.5,
        commit_every: int = 1,
    ) -> None:
        if not name.strip():
            raise AirshiftError("a consumer needs a name (its offset is stored under it)")
        if batch_size < 1:
            raise AirshiftError("the consumer batch size must be at least 1")
        if commit_every < 1:
            raise AirshiftError("commit_every must be at least 1 (commit after every N handled events)")
        self.commit_every = commit_every
        self.source = source
        self.offsets = offsets
        self.name = name
        self.where = where
        self.batch_size = batch_size
        self.poll_interval = poll_interval

    @classmethod
    def open(
        cls,
        log: str | Path,
        offsets: str | Path,
        name: str,
        where: EventFilter | None = None,
        commit_every: int = 1,
    ) -> Consumer:
        """A consumer of a log given as a SQLite path, a PostgreSQL URL or `kafka://HOST:PORT/TOPIC` (the
        topic the relay publishes to), offsets as a file path or URL."""
        text = str(log)
        if text.startswith("kafka://"):
            from airshift.events.stores.kafka_reader import KafkaEventReader

            address, _, topic = text.removeprefix("kafka://").partition("/")
            if not address or not topic:
                raise AirshiftError(f"{text!r}: a Kafka log is kafka://HOST:PORT/TOPIC")
            reader = KafkaEventReader(address, topic)
            return cls(reader, open_offset_store(offsets), name, where, commit_every=commit_every)
        from airshift.events.stores.open import open_log

        log_store = open_log(log, create=False)
        return cls(log_store, open_offset_store(offsets), name, where, commit_every=commit_every)

    @property
    def position(self) -> int:
        """The committed offset: every event up to it was handled."""
        return self.offsets.load(self.name)

    def commit(self, event: Event) -> None:
        self.offsets.commit(self.name, event.offset)

    def events(self, follow: bool = True, stop: threading.Event | None = None) -> Iterator[Event]:
        """Events after the committed offset. An event's offset is committed when the caller asks for
        the next one, i.e. after the loop body that handled it finished. Without `follow`, ends when
        the log has nothing more."""
        stop = stop or threading.Event()
        after = self.position
        check_position(self.source, self.name, after)
        self._register(after)
        while not stop.is_set():
            batch = self.source.read(after, self.batch_size, self.where)
            uncommitted = 0
            for event in batch:
                yield event
                after = event.offset
                uncommitted += 1
                if uncommitted >= self.commit_every or stop.is_set() or event is batch[-1]:
                    self.commit(event)
                    uncommitted = 0
                if stop.is_set():
                    self._register(after)
                    return
            if batch:
                self._register(after)
            if len(batch) < self.batch_size:
                if not follow:
                    return
                stop.wait(self.poll_interval)

    def _register(self, offset: int) -> None:
        """Tell the log how far this consumer got, so compaction never removes what it has not read. Once per
        batch, not per event: a lagging record only makes compaction more careful. Logs that cannot take it
        (the HTTP API, a reader without write access) simply do not protect this consumer."""
        register = getattr(self.source, "register_consumer", None)
        if callable(register):
            with contextlib.suppress(AirshiftError):
                register(self.name, offset)

    def run(
        self, handler: Callable[[Event], object], follow: bool = True, stop: threading.Event | None = None
    ) -> int:
        """Call `handler` for each event, committing each after the handler returns; returns how many.
        An exception from the handler stops the consumer with that event uncommitted."""
        handled = 0
        for event in self.events(follow=follow, stop=stop):
            handler(event)
            handled += 1
        return handled
