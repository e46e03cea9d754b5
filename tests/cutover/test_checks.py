"""Pure parts of the cutover checks: schedule normalising, next ticks, reading verify's JSON report."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from airshift.cutover.airflow_rest import _schedule_text
from airshift.cutover.checks import load_verified, next_tick, normalize_schedule
from airshift.errors import AirshiftError
from airshift.report import verify_json
from airshift.verify.result import DagComparison, RunOutcome, VerifyResult

UTC = dt.timezone.utc


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # Airflow 2 /api/v1 schedule_interval objects (as the client turns them into text) vs 3.x summaries
        (_schedule_text({"__type": "CronExpression", "value": "@daily"}), "0 0 * * *"),
        (_schedule_text({"__type": "CronExpression", "value": "*/5  * * * *"}), "*/5 * * * *"),
        (
            _schedule_text({"__type": "TimeDelta", "days": 1, "seconds": 0, "microseconds": 0}),
            "1 day, 0:00:00",
        ),
        (_schedule_text({"__type": "TimeDelta", "days": 0, "seconds": 60, "microseconds": 0}), "0:01:00"),
        (_schedule_text(None), "None"),
        ("@once", "@once"),
    ],
)
def test_same_schedules_compare_equal(old: str | None, new: str) -> None:
    assert normalize_schedule(old) == normalize_schedule(new)


def test_different_schedules_differ() -> None:
    assert normalize_schedule("0 0 * * *") != normalize_schedule("0 1 * * *")
    assert normalize_schedule("0:01:00") != normalize_schedule("0:02:00")
    assert normalize_schedule("None") != normalize_schedule("@once")


def test_next_tick() -> None:
    t = dt.datetime(2026, 12, 3, 20, 0, tzinfo=UTC)
    assert next_tick("*/2 * * * *", t) == t + dt.timedelta(minutes=2)
    assert next_tick("every 60s", t) == t + dt.timedelta(minutes=1)
    assert next_tick(None, t) is None and next_tick("@once", t) is None


def _report(tmp_path: Path, runs: list[RunOutcome]) -> Path:
    result = VerifyResult(
        original="old", migrated="new", source_airflow="2.11.2", target_airflow="3.3.2",
        logical_date="2026-01-01",
        dags=[DagComparison(dag_id="a", status="match"), DagComparison(dag_id="b", status="mismatch"),
              DagComparison(dag_id="c", status="match")],
        runs=runs,
    )  # fmt: skip
    path = tmp_path / "verify.json"
    path.write_text(verify_json.render(result))
    return path


def test_verify_report_statuses(tmp_path: Path) -> None:
    path = _report(tmp_path, [RunOutcome(dag_id="c", logical_date="2026-01-01", exit_code=1, seconds=1.0)])
    assert load_verified(path) == {"a": "match", "b": "mismatch", "c": "run failed"}
    assert load_verified(None) is None


def test_bad_verify_reports(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"command": "scan"}))
    with pytest.raises(AirshiftError, match="is not the output of `airshift verify --format json`"):
        load_verified(path)
    path.write_text("{")
    with pytest.raises(AirshiftError, match="is not JSON"):
        load_verified(path)
