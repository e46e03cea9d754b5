"""Data intervals for runs that predate them (Airflow 1.10 to 2.1), computed from the source's schedule.

Airflow 2.2 added `data_interval_start/end` to dag runs; older runs have none, and Airflow 3 infers them
from the DAG's *current* timetable. That inference only knows the data-interval timetables: once the
migrated DAG uses a trigger timetable (Airflow 3's default for cron strings and timedeltas), a copied
run without an interval makes the dag-processor fail on that DAG, and the next run would be dated from
the wrong end of the interval. So a copied run gets the interval it had in its own Airflow: from its
logical date to the next tick of the source DAG's `schedule_interval`, which 1.10 and 2.x keep in the
`dag` table (JSON text: a cron string or preset, a timedelta or relativedelta, or null).

Cron expressions are evaluated in UTC: 1.10 does not record a DAG's time zone in the database.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, TypeAlias

from croniter import croniter
from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from airshift.state.sources.db import MetadataDB

# The presets of Airflow 1.10 / 2.x as cron expressions (airflow.utils.dates.cron_presets).
PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_EXACT = (None, "@once")  # no schedule (manual only) or a single run: the interval is the logical date

# relativedelta comes untyped (dateutil ships no stubs here), so the alias is spelled out for mypy.
Schedule: TypeAlias = "str | dt.timedelta | relativedelta | None"


def parse_schedule(raw: Any) -> Schedule:
    """A `dag.schedule_interval` column value as Airflow's Interval type stored it."""
    if raw is None or raw == "":
        return None
    data = json.loads(raw) if isinstance(raw, str) else raw
    if isinstance(data, dict):
        attrs = data.get("attrs") or {}
        if data.get("type") == "timedelta":
            return dt.timedelta(**attrs)
        if data.get("type") == "relativedelta":
            delta: Schedule = relativedelta(
                **{key: value for key, value in attrs.items() if value is not None}
            )
            return delta
        raise ValueError(f"unknown interval type {data.get('type')!r}")
    if data is None or isinstance(data, str):
        return data
    raise ValueError(f"unexpected schedule value {data!r}")


def interval_end(schedule: Schedule, start: dt.datetime) -> dt.datetime | None:
    """The end of the interval that starts at `start` (UTC), or None when the schedule cannot say."""
    if schedule in _EXACT:
        return start
    if isinstance(schedule, (dt.timedelta, relativedelta)):
        return start + schedule
    assert isinstance(schedule, str)
    expression = PRESETS.get(schedule, schedule)
    if not croniter.is_valid(expression):
        return None
    following: dt.datetime = croniter(expression, start).get_next(dt.datetime)
    return following


def interval_start(schedule: Schedule, end: dt.datetime) -> dt.datetime | None:
    """The start of the interval that ends at `end` (UTC), or None when the schedule cannot say."""
    if schedule in _EXACT:
        return None
    if isinstance(schedule, (dt.timedelta, relativedelta)):
        return end - schedule
    assert isinstance(schedule, str)
    expression = PRESETS.get(schedule, schedule)
    if not croniter.is_valid(expression):
        return None
    previous: dt.datetime = croniter(expression, end).get_prev(dt.datetime)
    return previous


class MissingIntervals:
    """Fills `data_interval_start/end` of source run rows that have none, per DAG schedule."""

    def __init__(self, source: MetadataDB) -> None:
        self.schedules: dict[str, Schedule] = {}
        self.unknown: set[str] = set()  # DAGs whose schedule is not in the source DB or not readable
        dag = source.table("dag")
        if "schedule_interval" not in dag.c:
            return
        with source.engine.connect() as connection:
            for dag_id, raw in connection.execute(select(dag.c.dag_id, dag.c.schedule_interval)):
                try:
                    self.schedules[str(dag_id)] = parse_schedule(raw)
                except (ValueError, TypeError):
                    self.unknown.add(str(dag_id))

    def fill(self, row: dict[str, Any], logical_date: dt.datetime | None) -> None:
        """Set the row's interval from its DAG's schedule when the source stored none."""
        if row.get("data_interval_start") is not None or logical_date is None:
            return
        dag_id = str(row["dag_id"])
        if dag_id not in self.schedules:
            self.unknown.add(dag_id)
            return
        end = interval_end(self.schedules[dag_id], logical_date)
        if end is None:
            self.unknown.add(dag_id)
            return
        row["data_interval_start"], row["data_interval_end"] = logical_date, end

    def notes(self) -> list[str]:
        if not self.unknown:
            return []
        return [
            "runs of " + ", ".join(sorted(self.unknown)) + " have no data interval: their schedule is not "
            "in the source database (or not a cron, preset or interval); Airflow 3 infers one only for "
            "data-interval timetables"
        ]
