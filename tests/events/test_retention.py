"""Retention and compaction of the event log (real SQLite files here; the PostgreSQL store runs the
same checks in tests/integration/test_events_postgres_store.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from events_helpers import many

from airshift.events.retention import RetentionPolicy
from airshift.events.stores.sqlite import SqliteEventLog
from tests.support.retention import exercise_retention


def test_sqlite_log_retention(tmp_path: Path) -> None:
    log = SqliteEventLog(tmp_path / "log.db")
    log.append(many(100))
    exercise_retention(log, tmp_path / "offsets.json")
    assert log.append(many(101)[100:]).last_offset == 101  # the next offset after compaction


def test_policy_validation_and_description() -> None:
    assert RetentionPolicy().describe() == "keep everything (no policy)"
    assert "7 day" in RetentionPolicy(keep_days=7, keep_events=10).describe()
    with pytest.raises(ValueError):
        RetentionPolicy(keep_events=0)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "airshift", "events", *args], capture_output=True, text=True, check=False,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip


def test_retention_and_compact_commands(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    SqliteEventLog(path).append(many(50))
    refused = _cli("compact", "--log", str(path))
    assert refused.returncode == 2 and "no retention policy" in refused.stderr
    shown = _cli("retention", "--log", str(path), "--keep-events", "10")
    assert shown.returncode == 0 and "keep the last 10 event(s)" in shown.stdout and "1..50" in shown.stdout
    dry = _cli("compact", "--log", str(path), "--dry-run")
    assert dry.returncode == 0 and "would delete 40 event(s) up to offset 40" in dry.stdout
    assert SqliteEventLog(path).first_offset() == 1
    done = _cli("compact", "--log", str(path))
    assert done.returncode == 0 and "starts at offset 41" in done.stdout, done.stdout
    missing = _cli("retention", "--log", str(tmp_path / "nope.db"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
