"""What capturing costs Airflow's own writes on PostgreSQL, per capture mode, side by side in one run.

    python benchmarks/capture_bench.py [--rows 5000] [--rounds 5] [--latency-events 300] [--markdown FILE]

A PostgreSQL cluster of the benchmark's own with `wal_level = logical` and fsync on (Debian's server
binaries, a temporary data directory, 127.0.0.1), an Airflow 3.3.2 metadata DB made by the real
`airflow db migrate` and one run of the showcase DAG, its task instances copied to `--rows` rows. Then:

1. cost to Airflow's writes: a batch UPDATE of task_instance.state over all rows (what the scheduler
   does), in interleaved rounds, with no capture, with the row-level triggers earlier airshift releases
   installed, with today's statement-level triggers, and with WAL capture while a relay drains the slot;
   the median of each, as a ratio to no capture;
2. relay throughput per mode: the events of those UPDATEs drained into a SQLite log (events/s);
3. commit-to-consumer latency per mode (relay and consumer both polling every 50 ms): p50 / p99.

All modes run on the same cluster (so `wal_level = logical` is part of every figure). Nothing here asserts
a timing: a benchmark reports.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from events_bench import _airflow, _percentile, batch_update, grow_task_instances  # noqa: E402

from airshift.events.capture import install, postgres, uninstall, wal  # noqa: E402
from airshift.events.capture.source import CaptureSource, last_state_reader  # noqa: E402
from airshift.events.consumer import Consumer  # noqa: E402
from airshift.events.model import Event  # noqa: E402
from airshift.events.offsets import FileOffsetStore  # noqa: E402
from airshift.events.outbox import Outbox  # noqa: E402
from airshift.events.relay import Relay  # noqa: E402
from airshift.events.stores.sqlite import SqliteEventLog  # noqa: E402
from tests.integration.pg_logical_cluster import logical_cluster  # noqa: E402

MODES = ("none", "row triggers", "statement triggers", "wal")
STATES = ("scheduled", "queued", "running", "success")
POLL = 0.05

# The row-level capture airshift installed before statement-level triggers (one function call and one
# outbox INSERT per changed row), kept here only to measure against.
ROW_FUNCTION = """CREATE OR REPLACE FUNCTION airshift_bench_row_capture() RETURNS trigger LANGUAGE plpgsql AS $f$
DECLARE
    new_row jsonb := to_jsonb(NEW);
    old_row jsonb;
    attempt_key text := CASE WHEN TG_TABLE_NAME = 'dag_run' THEN 'clear_number' ELSE 'try_number' END;
    run_attempt integer := 0;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        old_row := to_jsonb(OLD);
        IF old_row->'state' IS NOT DISTINCT FROM new_row->'state'
           AND old_row->attempt_key IS NOT DISTINCT FROM new_row->attempt_key THEN
            RETURN NULL;
        END IF;
    END IF;
    SELECT COALESCE((to_jsonb(dr)->>'clear_number')::integer, 0) INTO run_attempt
      FROM dag_run AS dr WHERE dr.dag_id = new_row->>'dag_id' AND dr.run_id = new_row->>'run_id';
    INSERT INTO airshift_event_outbox
        (kind, dag_id, run_id, task_id, map_index, try_number, run_attempt, state, previous_state, logical_date)
    VALUES (TG_TABLE_NAME, new_row->>'dag_id', new_row->>'run_id', new_row->>'task_id',
            COALESCE((new_row->>'map_index')::integer, -1), COALESCE((new_row->>attempt_key)::integer, 0),
            COALESCE(run_attempt, 0), new_row->>'state', old_row->>'state',
            COALESCE(new_row->>'logical_date', new_row->>'execution_date'));
    RETURN NULL;
END $f$"""


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def install_mode(engine: Engine, mode: str) -> None:
    if mode == "wal":
        wal.install(engine, "public")
        return
    if mode == "none":
        return
    install(engine)  # outbox + statement triggers
    if mode == "row triggers":
        with engine.begin() as connection:
            for (table, _operation), trigger in postgres.TRIGGERS.items():
                connection.exec_driver_sql(f'DROP TRIGGER IF EXISTS "{trigger}" ON "{table}"')
            connection.exec_driver_sql(ROW_FUNCTION)
            for table in ("task_instance", "dag_run"):
                connection.exec_driver_sql(
                    f"CREATE TRIGGER airshift_bench_row_{table} AFTER INSERT OR UPDATE OF state ON {table} "
                    "FOR EACH ROW EXECUTE FUNCTION airshift_bench_row_capture()"
                )


def remove_mode(engine: Engine, mode: str) -> None:
    if mode == "wal":
        wal.uninstall(engine)
        return
    if mode == "row triggers":
        with engine.begin() as connection:
            for table in ("task_instance", "dag_run"):
                connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS airshift_bench_row_{table} ON {table}")
            connection.exec_driver_sql("DROP FUNCTION IF EXISTS airshift_bench_row_capture()")
    if mode != "none":
        uninstall(engine, discard_backlog=True)


def source_for(engine: Engine, mode: str, log: SqliteEventLog) -> CaptureSource:
    if mode == "wal":
        return wal.WalSource(engine, "public", last_state_in_log=last_state_reader(log))
    return Outbox(engine)


def write_cost(engine: Engine, rounds: int, scratch: Path) -> dict[str, list[float]]:
    """Batch-UPDATE seconds per mode, interleaved rounds (WAL mode with a relay draining meanwhile)."""
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    step = 0
    for round_number in range(rounds):
        for mode in MODES:
            install_mode(engine, mode)
            stop = threading.Event()
            relay_thread = None
            if mode == "wal":
                log = SqliteEventLog(scratch / f"cost-{round_number}.db")
                relay = Relay(source_for(engine, mode, log), log, batch_size=2000)
                relay_thread = threading.Thread(target=relay.run, args=(POLL, stop))
                relay_thread.start()
            times[mode].append(batch_update(engine, STATES[step % len(STATES)]))
            step += 1
            stop.set()
            if relay_thread is not None:
                relay_thread.join()
            remove_mode(engine, mode)
        _log(f"  round {round_number + 1}: " + ", ".join(f"{m} {times[m][-1] * 1000:.0f} ms" for m in MODES))
    return times


def relay_throughput(engine: Engine, mode: str, scratch: Path, updates: int) -> tuple[int, float]:
    install_mode(engine, mode)
    try:
        for index in range(updates):
            batch_update(engine, STATES[index % len(STATES)])
        log = SqliteEventLog(scratch / f"throughput-{uuid.uuid4().hex[:6]}.db")
        started = time.perf_counter()
        moved = Relay(source_for(engine, mode, log), log, batch_size=2000).drain().appended
        return moved, time.perf_counter() - started
    finally:
        remove_mode(engine, mode)


def latency(engine: Engine, mode: str, scratch: Path, events: int) -> list[float]:
    install_mode(engine, mode)
    log = SqliteEventLog(scratch / f"latency-{uuid.uuid4().hex[:6]}.db")
    stop = threading.Event()
    relay = threading.Thread(
        target=Relay(source_for(engine, mode, log), log, batch_size=500).run, args=(POLL, stop)
    )
    committed: dict[int, float] = {}
    delays: list[float] = []

    def handler(event: Event) -> None:
        if event.try_number < 1000 or event.kind != "task_instance":
            return
        received = time.perf_counter()
        while event.try_number not in committed:  # the writer notes the time right after its commit
            time.sleep(0)
        delays.append(max(0.0, received - committed[event.try_number]))
        if len(delays) >= events:
            stop.set()

    consumer = Consumer(log, FileOffsetStore(scratch / f"offsets-{uuid.uuid4().hex[:6]}.json"), "bench",
                        poll_interval=POLL)  # fmt: skip
    reader = threading.Thread(target=consumer.run, args=(handler,), kwargs={"stop": stop})
    relay.start()
    reader.start()
    try:
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
        deadline = time.monotonic() + 120
        while not stop.is_set() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        relay.join()
        reader.join()
        remove_mode(engine, mode)
    return delays


def _cell(values: list[float], base: list[float] | None) -> str:
    median = statistics.median(values)
    spread = f"{min(values) * 1000:.0f}-{max(values) * 1000:.0f}"
    ratio = f" ({median / statistics.median(base):.2f}x)" if base else ""
    return f"{median * 1000:.0f} ms{ratio}, {spread}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=5000, help="task_instance rows per batch UPDATE")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--throughput-updates", type=int, default=4, help="batch UPDATEs relayed per mode")
    parser.add_argument("--latency-events", type=int, default=300)
    parser.add_argument("--markdown", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="airshift-capture-bench-"))
    load = os.getloadavg()
    try:
        with logical_cluster(fsync=True) as cluster:
            cluster.execute("CREATE DATABASE airflow")
            home = scratch / "home"
            home.mkdir()
            _log("migrating an Airflow 3.3.2 metadata DB on the logical-WAL cluster ...")
            _airflow(home, cluster.url("airflow", "psycopg2"), "db", "migrate")
            _airflow(home, cluster.url("airflow", "psycopg2"), "dags", "test", "events_showcase")
            engine = create_engine(cluster.url("airflow"))
            rows = grow_task_instances(engine, args.rows)
            _log(f"{rows} task instances; measuring the cost to a batch UPDATE ...")
            cost = write_cost(engine, args.rounds, scratch)
            throughput: dict[str, tuple[int, float]] = {}
            delays: dict[str, list[float]] = {}
            for mode in MODES[1:]:
                _log(f"relay throughput and latency: {mode} ...")
                throughput[mode] = relay_throughput(engine, mode, scratch, args.throughput_updates)
                delays[mode] = latency(engine, mode, scratch, args.latency_events)
            engine.dispose()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    lines = [
        f"Capture modes on PostgreSQL, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"{platform.machine()} {os.cpu_count()} CPU(s), load {load[0]:.1f} at start, Python "
        f"{platform.python_version()}, Airflow 3.3.2 schema, {rows} task instances per batch UPDATE, "
        f"{args.rounds} interleaved rounds (median, min-max)",
        "",
        "| capture | batch UPDATE (x no capture) | relay events/s | latency p50 | p99 |",
        "|---|---|---|---|---|",
        f"| none | {_cell(cost['none'], None)} | - | - | - |",
    ]
    for mode in MODES[1:]:
        moved, seconds = throughput[mode]
        lines.append(
            f"| {mode} | {_cell(cost[mode], cost['none'])} | {moved / seconds:,.0f} ({moved} in {seconds:.2f} s) | "
            f"{statistics.median(delays[mode]) * 1000:.0f} ms | {_percentile(delays[mode], 0.99) * 1000:.0f} ms |"
        )
    lines += [
        "",
        f"Relay and consumer poll every {POLL * 1000:.0f} ms; latency is commit -> consumer handler.",
    ]
    report = "\n".join(lines)
    print(report)
    if args.markdown:
        args.markdown.write_text(report + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
