"""The EventStream benchmark: one command, measured side by side in one run.

    python benchmarks/events_bench.py [--rows 2000] [--rounds 5] [--latency-events 300] [--markdown FILE]

On real Airflow 3.3.2 metadata databases (made by `airflow db migrate`, one run of the showcase DAG,
its task instances then copied to `--rows` rows), for SQLite and the local PostgreSQL:

1. trigger overhead: a batch UPDATE of task_instance.state over all rows (what the scheduler does),
   without and with the capture triggers, interleaved rounds, best of each: the ratio;
2. relay throughput: the outbox those updates filled, drained into the SQLite event log (events/s);
3. latency from a committed state change to a consumer's handler, with the relay and a consumer
   running (both polling every 50 ms): p50 / p99.

Nothing here asserts a timing: a benchmark reports.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, inspect, text

from airshift.events.capture import install, uninstall
from airshift.events.consumer import Consumer
from airshift.events.model import Event
from airshift.events.offsets import FileOffsetStore
from airshift.events.outbox import Outbox
from airshift.events.relay import Relay
from airshift.events.stores.sqlite import SqliteEventLog
from airshift.verify.runtimes import ensure_runtime

ROOT = Path(__file__).resolve().parent.parent
DAGS = ROOT / "tests" / "events" / "dags"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
AIRFLOW_VERSION = "3.3.2"
STATES = ("scheduled", "queued", "running", "success")
POLL = 0.05


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Database:
    name: str
    url: str  # for airshift (SQLAlchemy)
    airflow_url: str  # for Airflow


def _airflow(home: Path, airflow_url: str, *args: str) -> None:
    runtime = ensure_runtime(AIRFLOW_VERSION, extra_requirements=["apache-airflow-providers-postgres"])
    env = runtime.env()
    for name in [n for n in env if n.startswith("AIRFLOW__")]:
        del env[name]
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=airflow_url,
    )
    completed = subprocess.run(
        [str(runtime.bin_dir / "airflow"), *args],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode not in (0, 1):
        raise SystemExit(f"airflow {' '.join(args)} failed:\n{completed.stderr[-2000:]}")


@contextmanager
def airflow_databases(scratch: Path) -> Iterator[list[Database]]:
    """A migrated 3.3.2 metadata DB with one showcase run, on SQLite and on PostgreSQL."""
    pg_name = f"airshift_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{pg_name}"')
    try:
        databases = [
            Database("SQLite", f"sqlite:///{scratch / 'airflow.db'}", f"sqlite:///{scratch / 'airflow.db'}"),
            Database(
                "PostgreSQL",
                f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_name}",
                f"postgresql+psycopg2://postgres@127.0.0.1:5432/{pg_name}",
            ),
        ]
        for database in databases:
            home = scratch / database.name
            home.mkdir()
            _log(f"migrating an Airflow {AIRFLOW_VERSION} metadata DB on {database.name} ...")
            _airflow(home, database.airflow_url, "db", "migrate")
            _airflow(home, database.airflow_url, "dags", "test", "events_showcase")
        yield databases
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        admin.dispose()


def grow_task_instances(engine: Engine, rows: int) -> int:
    """Copy the run's task instances (new ids and task ids) until the table holds about `rows` rows."""
    columns = [c["name"] for c in inspect(engine).get_columns("task_instance")]
    with engine.begin() as connection:
        existing = int(connection.execute(text("SELECT COUNT(*) FROM task_instance")).scalar_one())
        copies = max(0, rows // max(existing, 1) - 1)
        postgres = engine.dialect.name == "postgresql"
        new_id = "gen_random_uuid()" if postgres else "lower(hex(randomblob(16)))"
        suffix = "task_id || '_' || g.n"
        select = ", ".join(new_id if c == "id" else suffix if c == "task_id" else c for c in columns)
        series = (
            f"generate_series(1, {copies}) AS g(n)"
            if postgres
            else f"(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {copies}) "
            "SELECT n FROM s) AS g"
        )
        if copies:
            connection.execute(
                text(
                    f"INSERT INTO task_instance ({', '.join(columns)}) SELECT {select} FROM task_instance, {series}"
                )
            )
        return int(connection.execute(text("SELECT COUNT(*) FROM task_instance")).scalar_one())


def batch_update(engine: Engine, state: str) -> float:
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(text("UPDATE task_instance SET state = :state"), {"state": state})
    return time.perf_counter() - started


def trigger_overhead(engine: Engine, rounds: int) -> tuple[float, float, int]:
    """Best batch-UPDATE time without and with triggers (interleaved), and the events captured."""
    without: list[float] = []
    with_triggers: list[float] = []
    step = 0
    for _ in range(rounds):
        uninstall(engine)  # drops the triggers; the outbox keeps what they captured (for the relay)
        without.append(batch_update(engine, STATES[step % len(STATES)]))
        step += 1
        install(engine)
        with_triggers.append(batch_update(engine, STATES[step % len(STATES)]))
        step += 1
    return min(without), min(with_triggers), Outbox(engine).count()


def relay_throughput(engine: Engine, scratch: Path) -> tuple[int, float]:
    log = SqliteEventLog(scratch / f"relay-{uuid.uuid4().hex[:6]}.db")
    started = time.perf_counter()
    step = Relay(Outbox(engine), log, batch_size=500).drain()
    return step.moved, time.perf_counter() - started  # moved: outbox rows processed (repeats included)


def latency(engine: Engine, scratch: Path, events: int) -> list[float]:
    """Seconds from the commit of a state change to the consumer's handler, for `events` changes."""
    install(engine)
    Relay(Outbox(engine), SqliteEventLog(scratch / "discard.db")).drain()  # start from an empty outbox
    log = SqliteEventLog(scratch / f"latency-{uuid.uuid4().hex[:6]}.db")
    stop = threading.Event()
    relay = threading.Thread(target=Relay(Outbox(engine), log, batch_size=500).run, args=(POLL, stop))
    committed: dict[int, float] = {}
    delays: list[float] = []
    done = threading.Event()

    def handler(event: Event) -> None:
        if event.try_number < 1000:
            return
        received = time.perf_counter()
        while event.try_number not in committed:  # the writer notes the time right after its commit
            time.sleep(0)
        delays.append(max(0.0, received - committed[event.try_number]))
        if len(delays) >= events:
            done.set()
            stop.set()

    offsets = FileOffsetStore(scratch / f"offsets-{uuid.uuid4().hex[:6]}.json")
    consumer = Consumer(log, offsets, "bench", poll_interval=POLL)
    reader = threading.Thread(target=consumer.run, args=(handler,), kwargs={"stop": stop})
    relay.start()
    reader.start()
    with engine.connect() as connection:
        task = connection.execute(text("SELECT id FROM task_instance LIMIT 1")).scalar_one()
        connection.commit()
        for number in range(1000, 1000 + events):
            with connection.begin():
                connection.execute(
                    text("UPDATE task_instance SET try_number = :n, state = 'queued' WHERE id = :id"),
                    {"n": number, "id": task},
                )
            committed[number] = time.perf_counter()
            time.sleep(0.01)
    done.wait(timeout=120)
    stop.set()
    relay.join()
    reader.join()
    return delays


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=2000, help="task_instance rows per batch UPDATE")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--latency-events", type=int, default=300)
    parser.add_argument("--markdown", type=Path, help="also write the results table to this file")
    args = parser.parse_args(argv)

    lines = [
        f"EventStream benchmark, {dt.date.today().isoformat()}, {platform.machine()} {os.cpu_count()} CPU(s), "
        f"Python {platform.python_version()}, Airflow {AIRFLOW_VERSION} schema",
        "",
        "| database | rows | UPDATE without triggers | with triggers | ratio | relay events/s | latency p50 | p99 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    scratch = Path(tempfile.mkdtemp(prefix="airshift-events-bench-"))
    try:
        with airflow_databases(scratch) as databases:
            for database in databases:
                engine = create_engine(database.url)
                rows = grow_task_instances(engine, args.rows)
                _log(f"{database.name}: {rows} task instances; measuring ...")
                without, with_triggers, captured = trigger_overhead(engine, args.rounds)
                moved, seconds = relay_throughput(engine, scratch)
                delays = latency(engine, scratch, args.latency_events)
                uninstall(engine, discard_backlog=True)
                engine.dispose()
                lines.append(
                    f"| {database.name} | {rows} | {without * 1000:.1f} ms | {with_triggers * 1000:.1f} ms | "
                    f"{with_triggers / without:.2f}x | {moved / seconds:,.0f} ({moved} in {seconds:.2f} s) | "
                    f"{statistics.median(delays) * 1000:.0f} ms | {_percentile(delays, 0.99) * 1000:.0f} ms |"
                )
                _log(f"  captured {captured} events in the outbox across {args.rounds} triggered UPDATEs")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    lines.append("")
    lines.append(f"Relay and consumer both poll every {POLL * 1000:.0f} ms; latency is commit -> handler.")
    report = "\n".join(lines)
    print(report)
    if args.markdown:
        args.markdown.write_text(report + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
