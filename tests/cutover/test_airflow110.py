"""The next run of an Airflow 1.10 DAG as its scheduler computes it (from the newest automated run)."""

from __future__ import annotations

import datetime as dt

from airshift.cutover.airflow110 import next_run

UTC = dt.timezone.utc


def at(minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, 1, 1, 10, minute, second, tzinfo=UTC)


def test_cron_run_dated_at_interval_start_falls_due_at_its_end_and_the_next_one_tick_later() -> None:
    found = next_run("* * * * *", newest=at(0), now=at(1, 30))
    # Run dated 10:00 fell due at 10:01; the next one (dated 10:01) falls due at 10:02.
    assert found.newest_due == at(1) and found.due == at(2)
    assert found.previous_tick is None and found.next_tick == at(2)


def test_the_grid_is_walked_up_to_now_for_a_dag_behind_its_schedule() -> None:
    found = next_run("*/2 * * * *", newest=at(0), now=at(9, 10))
    assert found.due == at(4) and found.previous_tick == at(8) and found.next_tick == at(10)


def test_timedelta_grid_follows_the_runs_not_the_clock() -> None:
    found = next_run(dt.timedelta(minutes=5), newest=at(3), now=at(14))
    assert found.due == at(13) and found.previous_tick == at(13) and found.next_tick == at(18)


def test_no_next_run_without_a_schedule_or_a_run() -> None:
    assert next_run(None, at(0), at(5)).due is None
    assert next_run("@once", at(0), at(5)).due is None
    assert next_run("* * * * *", None, at(5)).due is None
