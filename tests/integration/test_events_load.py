"""benchmarks/events_load.py's whole code path, small: a real Airflow 3.3.2 scheduler (LocalExecutor,
api-server, dag-processor) on a `wal_level = logical` PostgreSQL cluster, WAL capture installed with the
CLI, `airshift events relay` and two consumer processes, for about half a minute of DAG runs. Nothing lost,
nothing doubled: the same checks as the benchmark. No timing is asserted: the benchmark reports figures."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest

from airshift.events.model import Event
from airshift.events.stores.sqlite import SqliteEventLog

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _load_module() -> ModuleType:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        return importlib.import_module("events_load")
    finally:
        sys.path.remove(str(BENCHMARKS))


def _event(offset: int, task_id: str, state: str, previous: str | None, try_number: int = 1) -> Event:
    return Event(
        offset=offset, kind="task_instance", dag_id="d", run_id="r", task_id=task_id, try_number=try_number,
        state=state, previous_state=previous, changed_at="2026-12-04T05:00:00+00:00",
        logged_at="2026-12-04T05:00:00.100000+00:00",
    )  # fmt: skip


def test_the_checks_see_a_lost_a_doubled_and_a_stale_event(tmp_path: Path) -> None:
    """The load test's checks on a hand-made run (no Airflow): clean, then each kind of fault."""
    load = _load_module()
    events = [
        _event(1, "a", "none", None, 0),
        _event(2, "a", "scheduled", "none"),
        _event(3, "a", "success", "scheduled"),
    ]

    def run(received: list[Event], final: str = "success") -> object:
        rows = [[e.offset, *load._identity(e), e.changed_at, e.logged_at, 0.0] for e in received]
        return load.LoadRun(
            "wal", load.Estate(), 1, tmp_path / "x.db", {"consumer-a": rows},
            [("d", "r", "a", -1, final, 1, "BashOperator", None)], [], 0.0, 1.0, {}, 0.0, [0.0], "",
        )  # fmt: skip

    assert load.check(run(events), events) == []
    assert any("consumer-a" in p and "1 repeated" in p for p in load.check(run([*events, events[2]]), events))
    assert any("consumer-a" in p and "1 missing" in p for p in load.check(run(events[:2]), events))
    gap = [events[0], events[2]]  # the relay lost `scheduled`: the chain breaks
    assert any("missing before offset 3" in p for p in load.check(run(gap), gap))
    assert any("final state" in p for p in load.check(run(events, final="failed"), events))
    ran = [*events[:2], _event(3, "a", "running", "scheduled"), _event(4, "a", "success", "running")]
    empty = run(ran)
    empty.tis = [("d", "r", "a", -1, "success", 1, "EmptyOperator", None)]  # type: ignore[attr-defined]
    assert any("EmptyOperator" in p for p in load.check(empty, ran))


@pytest.mark.integration
def test_load_run_loses_and_doubles_nothing(tmp_path: Path) -> None:
    load = _load_module()
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
