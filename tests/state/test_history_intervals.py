"""Data intervals for pre-2.2 runs, from the schedule text Airflow 1.10 / 2.x stored in `dag.schedule_interval`
(the stored forms below are what Airflow's Interval column type writes: JSON text)."""

from __future__ import annotations

import datetime as dt

import pytest
from dateutil.relativedelta import relativedelta

from airshift.state.targets.history_intervals import interval_end, parse_schedule

UTC = dt.timezone.utc
START = dt.datetime(2024, 1, 31, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("stored", "expected_end"),
    [
        ('"@daily"', dt.datetime(2024, 2, 1, tzinfo=UTC)),
        ('"@hourly"', dt.datetime(2024, 1, 31, 1, tzinfo=UTC)),
        ('"@weekly"', dt.datetime(2024, 2, 4, tzinfo=UTC)),  # next Sunday midnight
        ('"@monthly"', dt.datetime(2024, 2, 1, tzinfo=UTC)),
        ('"0 */6 * * *"', dt.datetime(2024, 1, 31, 6, tzinfo=UTC)),
        ('{"type": "timedelta", "attrs": {"days": 0, "seconds": 21600, "microseconds": 0}}',
         dt.datetime(2024, 1, 31, 6, tzinfo=UTC)),
        ('{"type": "relativedelta", "attrs": {"months": 1, "years": 0, "days": 0, "leapdays": 0, "hours": 0, '
         '"minutes": 0, "seconds": 0, "microseconds": 0, "year": null, "month": null, "day": null, '
         '"hour": null, "minute": null, "second": null, "microsecond": null}}',
         dt.datetime(2024, 2, 29, tzinfo=UTC)),
        ("null", START),  # schedule_interval=None: manual runs, the interval is the logical date
        (None, START),
        ('"@once"', START),
    ],
)  # fmt: skip
def test_interval_end_from_stored_schedule(stored: str | None, expected_end: dt.datetime) -> None:
    assert interval_end(parse_schedule(stored), START) == expected_end


def test_unreadable_schedules() -> None:
    assert interval_end(parse_schedule('"not a cron"'), START) is None
    with pytest.raises(ValueError):
        parse_schedule('{"type": "weird", "attrs": {}}')
    assert isinstance(parse_schedule('{"type": "relativedelta", "attrs": {"days": 2}}'), relativedelta)
