"""benchmarks/events_load.py's whole code path, small: a real Airflow 3.3.2 scheduler (LocalExecutor,
api-server, dag-processor) on a `wal_level = logical` PostgreSQL cluster, WAL capture installed with the
CLI, `airshift events relay` and two consumer processes, for about half a minute of DAG runs. Nothing lost,
nothing doubled: the same checks as the benchmark. No timing is asserted: the benchmark reports figures."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from airshift.events.stores.sqlite import SqliteEventLog

pytestmark = pytest.mark.integration
BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_load_run_loses_and_doubles_nothing(tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        load = importlib.import_module("events_load")
    finally:
        sys.path.remove(str(BENCHMARKS))
    # Two DAGs, a run every 15 s each: 10 + 2 EmptyOperator tasks (marked success by the scheduler) and one
    # BashOperator task (a real task process through the LocalExecutor and the execution API) per run.
    estate = load.Estate(dags=2, fan=10, real=1, interval=15)
    run = load.run_load(tmp_path, mode="wal", minutes=0.5, estate=estate, fsync=False, drain_timeout=120)
    events = SqliteEventLog(run.log_path).read(0, 1_000_000)

    assert load.check(run, events) == []
    assert not run.notes  # every DAG run finished and both consumers caught up
    # The check compared something: DAG runs of both DAGs, both kinds of task, every state a real task
    # goes through, and both consumers holding the whole log.
    assert {r[0] for r in run.runs} == {"load_00", "load_01"} and all(r[2] == "success" for r in run.runs)
    operators = {t[6] for t in run.tis if t[4] == "success"}
    assert operators == {"EmptyOperator", "BashOperator"}
    real_states = [e.state for e in events if e.task_id == "real_0" and e.run_id == run.runs[0][1]]
    assert real_states[-4:] == ["scheduled", "queued", "running", "success"]
    assert all(len(rows) == len(events) > 0 for rows in run.received.values())
    assert {e.source for e in events} == {"wal"}
