"""The verify benchmark's generated DAGs are valid Python and migrate cleanly (no runtime, no timing)."""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_generated_dags_parse_and_migrate(tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        bench = importlib.import_module("verify_bench")
    finally:
        sys.path.remove(str(BENCHMARKS))
    original, migrated = tmp_path / "original", tmp_path / "migrated"
    bench.generate(original, 3)
    assert bench.dag_source(2) == bench.dag_source(2)
    files = sorted(original.glob("*.py"))
    assert len(files) == 3
    for path in files:
        ast.parse(path.read_text(encoding="utf-8"))
    bench.migrate(original, migrated)
    assert "schedule=" in (migrated / files[0].name).read_text(encoding="utf-8")
