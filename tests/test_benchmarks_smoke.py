"""The benchmark's corpus generator and measurement run on a tiny corpus. No timing is asserted."""

from __future__ import annotations

import ast
import importlib
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture(scope="module")
def bench() -> Iterator[tuple[ModuleType, ModuleType]]:
    # benchmarks/run.py imports its sibling `corpus` the way `python benchmarks/run.py` finds it.
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module("corpus"), importlib.import_module("run")
    finally:
        sys.path.remove(str(BENCHMARKS))
        sys.modules.pop("corpus", None)
        sys.modules.pop("run", None)


def test_corpus_parses_and_measurement_runs(bench: tuple[ModuleType, ModuleType], tmp_path: Path) -> None:
    corpus, run = bench
    folder = tmp_path / "corpus"
    stats = corpus.generate(folder, 20)
    files = sorted(folder.rglob("*.py"))
    assert stats.files == len(files) == 20
    for path in files:
        ast.parse(path.read_bytes(), filename=str(path))
    assert corpus.render_file(corpus.DEFAULT_SEED, 7) == corpus.render_file(corpus.DEFAULT_SEED, 7)

    try:
        run.moves_table_description()
    except FileNotFoundError:
        pytest.skip("the moves table is not generated yet")
    results = run.measure(folder, jobs=1, repeat=1, use_ruff=False, log=lambda _: None)
    assert {m.key for m in results.rows} == {"floor-1", "scan", "fix", "scan-warm"}
    assert all(len(m.runs) == 1 for m in results.rows)
    assert "FAILED" not in " ".join(m.note for m in results.rows)
    assert "| floor: read + ast.parse |" in run.render_markdown(results, stats)


def test_whole_process_benchmark_runs(tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        corpus = importlib.import_module("corpus")
        cli_bench = importlib.import_module("cli_bench")
        folder = tmp_path / "corpus"
        stats = corpus.generate(folder, 12)
        work = tmp_path / "work"
        work.mkdir()
        results = cli_bench.measure(folder, work, jobs=1, rounds=1, small_rounds=1, use_ruff=False, log=print)
    finally:
        sys.path.remove(str(BENCHMARKS))
        for name in ("corpus", "cli_bench"):
            sys.modules.pop(name, None)
    assert {(row.scenario.split(",")[0], row.tool) for row in results.rows} >= {
        ("pre-commit", "airshift"),
        ("pre-commit", "floor"),
        ("estate", "airshift"),
        ("fix --out", "airshift"),
    }
    assert all(len(row.runs) == 1 for row in results.rows)
    # scan exits 1 (changes needed) or 0, never 2 (errors); the floor parsed every file
    assert all(row.exit_codes <= {0, 1} for row in results.rows)
    assert (work / "fixed").is_dir()
    table = cli_bench.render_markdown(results, stats)
    assert "| pre-commit, 1 file | **airshift** |" in table


def test_the_one_command_knows_every_benchmark_script() -> None:
    # benchmarks/all.py is the one command that runs them all: a new *_bench.py must be listed there.
    import importlib.util

    folder = Path(__file__).resolve().parent.parent / "benchmarks"
    spec = importlib.util.spec_from_file_location("benchmarks_all", folder / "all.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    listed = set(module.BENCHMARKS.values())
    present = {p.name for p in folder.glob("*_bench.py")} | {"run.py"}
    assert present <= listed, present - listed


@pytest.mark.skipif(
    shutil.which("valgrind") is None, reason="valgrind is not installed (.ci/run installs it)"
)
def test_instruction_counts_run(tmp_path: Path) -> None:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        corpus = importlib.import_module("corpus")
        bench = importlib.import_module("instructions_bench")
        folder = tmp_path / "corpus"
        corpus.generate(folder, bench.WARM_UP + 2)
        src = Path(bench.REPO) / "src"
        parse = bench.per_file(src, "parse", folder, 2)
        scan = bench.per_file(src, "scan", folder, 2)
    finally:
        sys.path.remove(str(BENCHMARKS))
        for name in ("corpus", "instructions_bench"):
            sys.modules.pop(name, None)
    # a scan parses each file and then analyses it: it counts more instructions than the parse alone
    assert 0 < parse < scan
    rows = {"head": [bench.Row("parse", parse), bench.Row("scan", scan)]}
    assert "| scan |" in bench.render_markdown(rows, 2)
