"""`airshift events tail` on a SQLite log, through the real CLI in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from events_helpers import many, task_event

from airshift.events.stores.sqlite import SqliteEventLog


def _tail(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "airshift", "events", "tail", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_tail_last_filters_json_and_consumer_offsets(tmp_path: Path) -> None:
    log_path = tmp_path / "events.db"
    log = SqliteEventLog(log_path)
    log.append([*many(12), task_event("special", "failed")])

    last = _tail("--log", str(log_path), "--last", "3")
    assert last.returncode == 0, last.stderr
    assert [line.split()[0] for line in last.stdout.splitlines()] == ["11", "12", "13"]

    filtered = _tail("--log", str(log_path), "--after", "0", "--state", "failed", "--json")
    assert [json.loads(line)["task_id"] for line in filtered.stdout.splitlines()] == ["special"]

    offsets = tmp_path / "offsets.json"
    first = _tail("--log", str(log_path), "--consumer", "c", "--offsets", str(offsets))
    assert len(first.stdout.splitlines()) == 13 and json.loads(offsets.read_text()) == {"c": 13}
    log.append([task_event("special", "success")])
    second = _tail("--log", str(log_path), "--consumer", "c", "--offsets", str(offsets))
    assert [line.split()[0] for line in second.stdout.splitlines()] == ["14"]


def test_tail_errors_are_clear(tmp_path: Path) -> None:
    missing = _tail("--log", str(tmp_path / "nope.db"))
    assert (
        missing.returncode == 2 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr
    )
    both = _tail("--log", "x.db", "--url", "http://127.0.0.1:1")
    assert both.returncode == 2 and "exactly one of --log or --url" in both.stderr
    password = _tail("--log", "postgresql://u:secret@127.0.0.1/db")
    assert password.returncode == 2 and "secret" not in password.stderr + password.stdout
