"""The golden set: realistic Airflow 1.10 and 2.x DAG folders migrated end to end, compared byte for byte
with the reviewed expected output (regenerate with `python scripts/update_golden.py`)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from airshift.upgrade.context import Settings
from airshift.upgrade.discovery import discover
from airshift.upgrade.registry import Selection
from airshift.upgrade.runner import RunOptions, RunResult, run
from airshift.upgrade.versions import parse_target

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
TARGETS = ("3.3", "2.11")
SOURCES = ("airflow110", "airflow2")
TODAY = "2026-11-22"


def migrate(source: Path, out: Path, target: str) -> RunResult:
    options = RunOptions(
        settings=Settings(target=parse_target(target), today=TODAY),
        selection=Selection(),
        fix=True,
        write=True,
        out_dir=out,
    )
    result = run(discover([source]), options)
    requirements = "".join(f"{r.render()}\n" for r in result.requirements)
    (out / "airshift-requirements.txt").write_text(requirements, encoding="utf-8")
    return result


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("source", SOURCES)
def test_golden_output_matches_the_reviewed_expectation(tmp_path: Path, source: str, target: str) -> None:
    result = migrate(GOLDEN / "inputs" / source, tmp_path / "out", target)
    assert not [f for f in result.files if f.status == "failed"]
    expected = GOLDEN / "expected" / f"target-{target}" / source
    actual, wanted = _tree(tmp_path / "out"), _tree(expected)
    assert sorted(actual) == sorted(wanted)
    for name in wanted:
        assert actual[name] == wanted[name], f"{name} differs; run scripts/update_golden.py and review"


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("source", SOURCES)
def test_golden_output_is_a_fixed_point_and_parses(tmp_path: Path, source: str, target: str) -> None:
    expected = GOLDEN / "expected" / f"target-{target}" / source
    for path in expected.rglob("*.py"):
        ast.parse(path.read_bytes())
    again = migrate(expected, tmp_path / "again", target)
    assert not [f.path for f in again.files if f.status == "changed"]
    assert not [p for f in again.files for p in f.problems if p.fixed]
