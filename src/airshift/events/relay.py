"""The relay: moves captured transitions from the outbox (or, in WAL mode, the replication slot) into the
event log.

Order of durability, which makes a crash at any instant safe:
1. read a batch of committed outbox rows (id order);
2. append them to the log in one transaction (duplicates by key are ignored, offsets gap-free);
3. delete exactly those outbox rows.
A crash before 2 commits leaves the rows in the outbox; a crash between 2 and 3 replays the batch,
and the log ignores every event it already holds. Nothing is lost and nothing is logged twice.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from airshift.errors import AirshiftError
from airshift.events.capture.source import CaptureSource
from airshift.events.stores import EventLog

_PG_LOCK_KEY = 0x61697273686966  # "airshif": one relay per PostgreSQL event log


@dataclass(frozen=True)
class RelayStep:
    moved: int
    appended: int
    duplicates: int
    last_offset: int


class Relay:
    def __init__(self, outbox: CaptureSource, log: EventLog, batch_size: int = 500) -> None:
        if batch_size < 1:
            raise AirshiftError("the relay batch size must be at least 1")
        self.outbox = outbox
        self.log = log
        self.batch_size = batch_size

    def catch_up(self) -> None:
        """A store that mirrors the log elsewhere (Kafka) finishes what a crash left unpublished."""
        publish = getattr(self.log, "publish", None)
        if callable(publish):
            publish()

    def step(self) -> RelayStep:
        """Move one batch; returns what happened (moved == 0: the outbox was empty)."""
        rows = self.outbox.fetch(self.batch_size)
        if not rows:
            return RelayStep(0, 0, 0, self.log.last_offset())
        result = self.log.append([event for _, event in rows])
        self.outbox.acknowledge([row_id for row_id, _ in rows])
        return RelayStep(len(rows), result.appended, result.duplicates, result.last_offset)

    def drain(self) -> RelayStep:
        """Move batches until the outbox is empty; returns the totals."""
        self.catch_up()
        moved = appended = duplicates = 0
        while True:
            step = self.step()
            moved, appended, duplicates = (
                moved + step.moved,
                appended + step.appended,
                duplicates + step.duplicates,
            )
            if step.moved < self.batch_size:
                return RelayStep(moved, appended, duplicates, step.last_offset)

    def run(
        self,
        poll_interval: float = 0.2,
        stop: threading.Event | None = None,
        on_step: Callable[[RelayStep], None] | None = None,
    ) -> None:
        """Relay until `stop` is set; sleeps `poll_interval` only when the outbox was empty."""
        stop = stop or threading.Event()
        self.catch_up()
        while not stop.is_set():
            step = self.step()
            if step.moved and on_step is not None:
                on_step(step)
            if step.moved < self.batch_size:
                stop.wait(poll_interval)


@contextmanager
def single_relay(log: EventLog) -> Iterator[None]:
    """Refuse to start a second relay for the same log (two would interleave their batches): a file lock
    beside a SQLite log, a session advisory lock in a PostgreSQL log (released if the relay dies)."""
    from airshift.events.stores.postgres import PostgresEventLog
    from airshift.events.stores.sqlite import SqliteEventLog

    if isinstance(log, PostgresEventLog):
        with log.engine.connect() as connection:
            if not connection.exec_driver_sql(f"SELECT pg_try_advisory_lock({_PG_LOCK_KEY})").scalar():
                raise AirshiftError(f"another relay is already writing the event log in {log.path}")
            try:
                yield
            finally:
                connection.exec_driver_sql(f"SELECT pg_advisory_unlock({_PG_LOCK_KEY})")
        return
    if not isinstance(log, SqliteEventLog):
        yield
        return
    lock_path = log.path.with_name(log.path.name + ".relay.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AirshiftError(f"another relay is already writing {log.path} (lock {lock_path})") from None
        yield
    finally:
        os.close(fd)


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    """Poll `condition` until true or `timeout` seconds passed (for long-polls and tests)."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
