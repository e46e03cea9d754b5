"""`airshift verify` on saved snapshots (no runtime needed): formats, output files, exit codes, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from airshift.cli import app
from airshift.errors import AirshiftError
from airshift.verify.snapshot_model import write_snapshot
from tests.verify.test_diff import pipeline, snap


def _files(tmp_path: Path, retries_after: int = 1) -> tuple[Path, Path]:
    after = pipeline()
    after.tasks["load"].retries = retries_after
    before_file, after_file = tmp_path / "before.json", tmp_path / "after.json"
    write_snapshot(snap("2.11.2", pipeline()), before_file)
    write_snapshot(snap("3.3.2", after), after_file)
    return before_file, after_file


@pytest.mark.parametrize("fmt", ["text", "json", "html"])
def test_matching_snapshots_exit_0_in_every_format(tmp_path: Path, fmt: str) -> None:
    before, after = _files(tmp_path)
    report = tmp_path / f"report.{fmt}"
    result = CliRunner().invoke(app, ["verify", str(before), str(after), "--format", fmt, "-o", str(report)])
    assert result.exit_code == 0, result.output
    text = report.read_text(encoding="utf-8")
    assert "etl" in text
    if fmt == "json":
        assert json.loads(text)["ok"] is True


def test_a_mismatch_exits_1_and_is_named(tmp_path: Path) -> None:
    before, after = _files(tmp_path, retries_after=0)
    result = CliRunner().invoke(app, ["verify", str(before), str(after), "--format", "json"])
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    [difference] = document["dags"][0]["differences"]
    assert (difference["task_id"], difference["field"], difference["before"], difference["after"]) == (
        "load",
        "retries",
        1,
        0,
    )


def test_bad_inputs_are_clear_errors(tmp_path: Path) -> None:
    before, _ = _files(tmp_path)
    result = CliRunner().invoke(app, ["verify", str(before), str(tmp_path / "nope")])
    assert isinstance(result.exception, AirshiftError) and "does not exist" in str(result.exception)
    folder = tmp_path / "dags"
    folder.mkdir()
    result = CliRunner().invoke(app, ["verify", str(folder), str(before)])
    assert isinstance(result.exception, AirshiftError) and "--source-airflow" in str(result.exception)
    result = CliRunner().invoke(app, ["verify", str(before), str(before), "--run", "etl"])
    assert isinstance(result.exception, AirshiftError) and "--run" in str(result.exception)
