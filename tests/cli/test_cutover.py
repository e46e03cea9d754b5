"""`airshift cutover` command line: clear one-line errors for bad input, no server needed."""

from __future__ import annotations

from pathlib import Path

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
