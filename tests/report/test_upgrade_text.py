"""The text report: the same lines in a file and on a terminal (colour added, nothing else), no
wrapping of long lines, one pass."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from airshift.report import upgrade_text
from airshift.upgrade.registry import all_metas
from airshift.upgrade.runner import FileReport, Problem, RunResult

ANSI = re.compile(r"\x1b\[[0-9;]*m")
LONG = "x" * 300


def result() -> RunResult:
    problems = [
        Problem("AS101", f"`airflow.contrib.{LONG}` moved", 3, 1, "required", True, True),
        Problem("AS310", "sla [bracketed] text", 9, 5, "behaviour", False, False),
        Problem("AS320", "trigger rule", 11, 5, "suggested", True, False),
    ]
    diff = "--- a/dags/a.py\n+++ b/dags/a.py\n@@ -1,2 +1,2 @@\n-old\n+new\n context\n"
    files = [
        FileReport("dags/a.py", "changed", problems, diff=diff, dropped=["an edit was dropped"]),
        FileReport("dags/[b].py", "failed", error="cannot read: Permission denied"),
    ]
    return RunResult(files, 0.5)


def test_terminal_and_file_show_the_same_text() -> None:
    plain, coloured = io.StringIO(), io.StringIO()
    upgrade_text.write(plain, result(), all_metas(), "fix", colour=False)
    upgrade_text.write(coloured, result(), all_metas(), "fix", colour=True)
    assert "\x1b[" in coloured.getvalue() and "\x1b[" not in plain.getvalue()
    assert ANSI.sub("", coloured.getvalue()) == plain.getvalue()


def test_long_lines_and_markup_are_written_as_they_are() -> None:
    text = upgrade_text.render(result(), all_metas(), "fix")
    lines = text.splitlines()
    assert f"dags/a.py:3:1: AS101 fixed `airflow.contrib.{LONG}` moved" in lines
    assert "dags/a.py:9:5: AS310 sla [bracketed] text" in lines
    assert "dags/a.py:11:5: AS320 fixable trigger rule" in lines
    assert "dags/[b].py: failed: cannot read: Permission denied" in lines
    assert "dags/a.py: note: an edit was dropped" in lines
    assert "-old" in lines and "+new" in lines and " context" in lines
    assert re.search(r"^  findings +3$", text, re.MULTILINE)
    assert re.search(r"^  AS101 +moved-import +1 +1$", text, re.MULTILINE)


def test_colour_follows_the_terminal_and_the_conventions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    assert not upgrade_text.wants_colour(io.StringIO())
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert upgrade_text.wants_colour(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not upgrade_text.wants_colour(io.StringIO())


DAG = f"""\
from airflow import DAG
from airflow.operators.bash_operator import BashOperator

with DAG("etl", schedule_interval="@daily") as dag:
    BashOperator(task_id="{"t" * 150}", bash_command="echo", provide_context=True)
"""


def test_the_command_line_writes_the_same_report_to_a_file_and_a_forced_terminal(tmp_path: Path) -> None:
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / ("very_long_file_name_" * 8 + ".py")).write_text(DAG)

    def scan(*extra: str, **env: str) -> subprocess.CompletedProcess[str]:
        environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
        environment.update(AIRSHIFT_CACHE_DIR=str(tmp_path / "cache"), COLUMNS="40", **env)
        return subprocess.run(
            [sys.executable, "-m", "airshift", "scan", "dags", "--diff", *extra],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
        )

    assert scan("-o", "report.txt").returncode == 1
    terminal = scan(FORCE_COLOR="1")
    assert terminal.returncode == 1 and "\x1b[" in terminal.stdout

    def without_timing(text: str) -> list[str]:
        return [line for line in text.splitlines() if not line.lstrip().startswith("seconds")]

    in_file = (tmp_path / "report.txt").read_text()
    assert "\x1b[" not in in_file
    assert without_timing(ANSI.sub("", terminal.stdout)) == without_timing(in_file)
    # a finding is one line however narrow the terminal: the path, the rule and the message together
    assert any(
        line.startswith("dags/very_long_file_name_") and "AS306" in line for line in in_file.splitlines()
    )
    assert all(len(line) < 1000 for line in in_file.splitlines())
    assert max(len(line) for line in in_file.splitlines()) > 200
