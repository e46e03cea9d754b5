"""`airshift cutover` command line: clear one-line errors for bad input, no server needed."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from airshift.cli import app


def test_rollback_needs_a_wave_or_dags(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["cutover", "rollback", "--plan", str(tmp_path / "p.toml")])
    assert result.exit_code != 0
    assert "give --wave N or --dag ID" in str(result.exception)


def test_a_bad_plan_is_named(tmp_path: Path) -> None:
    plan = tmp_path / "p.toml"
    plan.write_text(
        '[old]\nurl = "http://old"\npassword = "hunter2-secret"\n[new]\nurl = "http://new"\n[[waves]]\nname = "a"\n'
    )
    result = CliRunner().invoke(app, ["cutover", "status", "--plan", str(plan), "--journal-only"])
    message = str(result.exception)
    assert f"{plan}: old.password: unknown key" in message and "waves.0: wave 'a' selects no DAG" in message
    assert "hunter2-secret" not in message


def test_status_from_the_journal_only(tmp_path: Path) -> None:
    plan = tmp_path / "p.toml"
    plan.write_text(
        '[old]\nurl = "http://old"\n[new]\nurl = "http://new"\n[[waves]]\nname = "a"\ndag_ids = ["d1"]\n'
    )
    result = CliRunner().invoke(
        app, ["cutover", "status", "--plan", str(plan), "--journal-only", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert '"dag_id": "d1"' in result.output and '"owner": "old"' in result.output
    page = tmp_path / "out" / "status.html"
    result = CliRunner().invoke(
        app, ["cutover", "status", "--plan", str(plan), "--journal-only", "--format", "html", "-o", str(page)]
    )
    assert result.exit_code == 0 and 'id="dag-d1"' in page.read_text()


def test_the_plan_table_shows_each_dags_continuity_method(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    from airshift.cli import cutover as cutover_cli
    from airshift.cutover.checks import DagCheck

    recorder = Console(record=True, width=400)
    monkeypatch.setattr(cutover_cli, "console", recorder)
    checks = [DagCheck("by_rest"), DagCheck("refused")]
    checks[0].continuity = "backfill-marker"
    checks[1].problems.append("the new side is Airflow 2 without its database")
    cutover_cli._render_checks(checks, "plan")
    text = recorder.export_text()
    assert "continuity" in text
    row = next(line for line in text.splitlines() if "by_rest" in line)
    assert "backfill-marker" in row
