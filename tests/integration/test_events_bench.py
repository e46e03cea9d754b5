"""benchmarks/events_bench.py's measurements run, tiny, on a real Airflow 3.3.2 metadata DB (SQLite).
No timing is asserted: a benchmark reports."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from test_events_support import MetadataFactory, metadata_dbs_fixture  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration
BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_benchmark_measurements_run(metadata_dbs: MetadataFactory, tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        bench = importlib.import_module("events_bench")
    finally:
        sys.path.remove(str(BENCHMARKS))
    db = metadata_dbs.new("3.3.2", "sqlite", showcase_run=True)
    engine = create_engine(db.url)
    rows = bench.grow_task_instances(engine, 60)
    assert rows >= 56  # whole copies of the run's 7 task instances
    without, with_triggers, captured = bench.trigger_overhead(engine, rounds=2)
    assert without > 0 and with_triggers > 0 and captured == 2 * rows
    moved, seconds = bench.relay_throughput(engine, tmp_path)
    assert moved == captured and seconds > 0
    delays = bench.latency(engine, tmp_path, events=5)
    assert len(delays) == 5 and all(d >= 0 for d in delays)
    engine.dispose()
