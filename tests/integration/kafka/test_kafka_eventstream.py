"""Moving the EventStream's Kafka topic to a new cluster: `airshift events relay` publishes the log to the
new cluster (all of it, or from a given log offset), `airshift kafka compare` proves the new topic holds
the same records, and `airshift kafka resume` puts consumers at the same log offset on the new cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kafka_support import (  # type: ignore[import-not-found]
    airshift,
    brokers_fixture,  # noqa: F401 (fixture)
    confluent_kafka,
    read_all,
    unique,
)

pytestmark = pytest.mark.integration
DAGS = ("sales", "crm", "finance", "ops")


def _airflow_db(path: Path) -> str:
    """A SQLite database with the minimal Airflow 2.x tables the capture needs, capture installed."""
    from sqlalchemy import create_engine, text

    from airshift.events.capture import install

    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
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
        for dag in DAGS:
            connection.execute(
                text(f"INSERT INTO dag_run (dag_id, run_id, state) VALUES ('{dag}', 'r', 'queued')")
            )
            for task in range(8):
                connection.execute(
                    text(
                        f"INSERT INTO task_instance (dag_id, task_id, run_id) VALUES ('{dag}', 't{task}', 'r')"
                    )
                )
        connection.execute(text("UPDATE task_instance SET state = 'scheduled', try_number = 1"))
    engine.dispose()
    return f"sqlite:///{path}"


def _transition(db: str, state: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(db)
    with engine.begin() as connection:
        connection.execute(text(f"UPDATE task_instance SET state = '{state}'"))
    engine.dispose()


def _compare(source: str, target: str, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = airshift("kafka", "compare", "--source", source, "--target", target, "--format", "json", *args)
    assert result.returncode in (0, 1, 3), result.stderr
    return result.returncode, json.loads(result.stdout)


def test_event_log_moves_to_a_new_cluster_with_proof_and_consumers_resume(
    brokers: tuple[str, str], tmp_path: Path
) -> None:
    old, new = brokers
    topic = unique("airshift.events")
    db = _airflow_db(tmp_path / "airflow.db")
    log = str(tmp_path / "events.db")
    relay = ("events", "relay", "--db", db, "--log", log, "--once", "--kafka-topic")
    first = airshift(*relay, topic, "--kafka", old)
    assert first.returncode == 0, first.stderr  # 4 DAG runs + 32 task instances x 2 transitions = 68 events
    new_config = tmp_path / "new-cluster.properties"
    new_config.write_text(f"bootstrap.servers={new}\nclient.id=airshift-relay\n")

    # The whole history to the new cluster, then the proof.
    moved = airshift(*relay, topic, "--kafka-config", str(new_config))
    assert moved.returncode == 0, moved.stderr
    code, report = _compare(old, str(new_config), "--topics", topic)
    assert code == 0, report
    parts = report["topics"][0]["partitions"]
    assert sum(p["compared"] for p in parts) == 68
    assert all(p["source"]["digest"] == p["target"]["digest"] for p in parts)

    # From a given log offset only: a later start is a head gap, accepted with --overlap-only.
    fresh = airshift(*relay, f"fresh.{topic}", "--kafka-config", str(new_config), "--kafka-from-offset", "50")
    assert fresh.returncode == 0, fresh.stderr
    code, report = _compare(old, new, "--topics", topic, "--source-alias", "fresh")
    assert code == 1 and "not on the target" in json.dumps(report)
    code, report = _compare(old, new, "--topics", topic, "--source-alias", "fresh", "--overlap-only")
    assert code == 0, report
    assert sum(p["compared"] for p in report["topics"][0]["partitions"]) == 18

    # The relay now writes to the new cluster only: the old one is behind the new, not different.
    _transition(db, "running")
    assert airshift(*relay, topic, "--kafka-config", str(new_config)).returncode == 0
    code, report = _compare(old, new, "--topics", topic)
    assert code == 0 and sum(p["newer_on_target"] for p in report["topics"][0]["partitions"]) == 32

    # A consumer that handled the log up to offset 68 on the old cluster resumes after it on the new one.
    resumed = airshift(
        "kafka", "resume", "--target", new, "--topic", topic, "--after", "68", "--group", "billing"
    )
    assert resumed.returncode == 0, resumed.stderr
    admin = confluent_kafka.admin.AdminClient({"bootstrap.servers": new})
    request = confluent_kafka.ConsumerGroupTopicPartitions("billing")
    committed = {
        tp.partition: tp.offset
        for tp in admin.list_consumer_group_offsets([request])["billing"].result(30).topic_partitions
    }
    seen = []
    for partition in range(3):
        messages = read_all(new, topic, partition)
        log_offsets = [int(dict(m.headers)["airshift-offset"]) for m in messages]
        at = committed[partition]
        assert all(o <= 68 for o in log_offsets[:at]) and all(o > 68 for o in log_offsets[at:])
        seen += log_offsets[at:]
        assert f"{topic}[{partition}] resume at Kafka offset {at}" in resumed.stdout
    assert sorted(seen) == list(range(69, 101))
