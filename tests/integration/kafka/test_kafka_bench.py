"""benchmarks/kafka_bench.py's measurements run, tiny, on the two test brokers. No timing is asserted."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from kafka_support import brokers_fixture, unique  # type: ignore[import-not-found]  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration
BENCHMARKS = Path(__file__).resolve().parents[3] / "benchmarks"


def test_benchmark_measurements_run(brokers: tuple[str, str]) -> None:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        bench = importlib.import_module("kafka_bench")
    finally:
        sys.path.remove(str(BENCHMARKS))
    source, target = brokers
    topic = unique("bench")
    bench.fill(source, target, topic, 2, 300)
    rows = bench.measure(source, target, topic, 2, 300)
    assert [name for name, *_ in rows] == [
        "floor: confluent-kafka read, both topics",
        "airshift kafka compare",
        "peer: hand-made SHA-256 per partition",
    ]
    assert rows[1][3] == "exit 0" and rows[2][3] == "digests equal"
    assert rows[1][1] > 0 and rows[1][2] > 0
