"""The next scheduled run of an Airflow 1.10 DAG, read from its metadata database.

1.10 keeps no `next_dagrun` column and its experimental API does not say when a DAG runs next: its
scheduler computes that on every loop from the newest run it made (`scheduled__` run id or not
externally triggered), by execution date, and the DAG's `schedule_interval` (kept in the `dag` table).
A run for execution date D is created once the interval starting at D has ended. The drain and confirm
steps of a switch need the same answer, so it is computed here the way 1.10 does it.

Cron expressions are evaluated in UTC (1.10 does not record a DAG's time zone in the database).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import URL, Engine, MetaData, Table, func, or_, select
from sqlalchemy.exc import SQLAlchemyError

from airshift.errors import AirshiftError
from airshift.state.dburl import display, open_engine, parse_db_url
from airshift.state.targets.history_intervals import Schedule, interval_end, parse_schedule

# After a tick, 1.10's scheduler needs a while (its file-processing loop) before the run appears.
SCHEDULER_LAG = dt.timedelta(seconds=20)


@dataclass(frozen=True)
class NextRun110:
    """`due`: when the run after the newest automated one falls due (None: no schedule or no run yet);
    `previous_tick` / `next_tick`: the ticks of the DAG's run grid around now (None without a grid);
    `newest_due`: when the newest automated run fell due (its interval's end); `finished_due`: the same
    for the newest finished (success/failed) one."""

    due: dt.datetime | None
    previous_tick: dt.datetime | None
    next_tick: dt.datetime | None
    newest_due: dt.datetime | None = None
    finished_due: dt.datetime | None = None


def _metadata_engine(url: str, password: str | None, read_only: bool) -> tuple[Engine, URL]:
    """An engine on the 1.10 side's metadata database, and its URL (for messages, through `display`)."""
    parsed = parse_db_url(url, "the 1.10 side's metadata")
    if password:
        parsed = parsed.set(password=password)
    return open_engine(parsed, "the 1.10 side's metadata", read_only=read_only), parsed


def read_next_run(url: str, password: str | None, dag_id: str, now: dt.datetime) -> NextRun110:
    engine, parsed = _metadata_engine(url, password, read_only=True)
    try:
        metadata = MetaData()
        dag = Table("dag", metadata, autoload_with=engine)
        runs = Table("dag_run", metadata, autoload_with=engine)
        with engine.connect() as connection:
            raw = connection.execute(select(dag.c.schedule_interval).where(dag.c.dag_id == dag_id)).scalar()
            automated = (
                runs.c.dag_id == dag_id,
                or_(
                    runs.c.external_trigger.is_(False),
                    runs.c.run_id.like("scheduled\\_\\_%", escape="\\"),
                ),
            )
            newest = connection.execute(select(func.max(runs.c.execution_date)).where(*automated)).scalar()
            finished = connection.execute(
                select(func.max(runs.c.execution_date)).where(
                    *automated, runs.c.state.in_(("success", "failed"))
                )
            ).scalar()
    except SQLAlchemyError as error:
        raise AirshiftError(
            f"reading DAG {dag_id!r} from {display(parsed)}: {str(error).splitlines()[0]}"
        ) from None
    finally:
        engine.dispose()
    try:
        schedule = parse_schedule(raw)
    except (ValueError, TypeError):
        return NextRun110(None, None, None)
    found = next_run(schedule, _utc(newest), now)
    done = _utc(finished)
    finished_due = (
        interval_end(schedule, done) if done is not None and schedule not in (None, "@once") else None
    )
    return dataclasses.replace(found, finished_due=finished_due)


def next_run(schedule: Schedule, newest: dt.datetime | None, now: dt.datetime) -> NextRun110:
    if schedule in (None, "@once") or newest is None:
        return NextRun110(None, None, None)
    following = interval_end(schedule, newest)  # the next execution date
    due = interval_end(schedule, following) if following else None
    if due is None:
        return NextRun110(None, None, None, following)
    previous, tick = None, due
    # Walk the grid up to now (bounded: a DAG idle for years has a far-behind newest run).
    for _ in range(100_000):
        if tick > now:
            break
        after = interval_end(schedule, tick)
        if after is None or after <= tick:
            break
        previous, tick = tick, after
    return NextRun110(due, previous, tick, following)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return (
        value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)
    )


def mark_run_failed(url: str, password: str | None, dag_id: str, run_id: str, now: dt.datetime) -> int:
    """Mark a 1.10 run and its unfinished task instances failed, in its metadata database (the
    experimental API cannot set a run's state). A task still running notices on its next heartbeat that
    its state was set from outside and stops. Returns how many task instances were marked."""
    engine, parsed = _metadata_engine(url, password, read_only=False)
    try:
        metadata = MetaData()
        runs = Table("dag_run", metadata, autoload_with=engine)
        tis = Table("task_instance", metadata, autoload_with=engine)
        with engine.begin() as connection:
            date = connection.execute(
                select(runs.c.execution_date).where(runs.c.dag_id == dag_id, runs.c.run_id == run_id)
            ).scalar()
            if date is None:
                raise AirshiftError(f"no run {run_id!r} of DAG {dag_id!r} in {display(parsed)}")
            unfinished = or_(
                tis.c.state.is_(None), tis.c.state.notin_(("success", "failed", "skipped", "upstream_failed"))
            )
            marked = connection.execute(
                tis.update()
                .where(tis.c.dag_id == dag_id, tis.c.execution_date == date, unfinished)
                .values(state="failed", end_date=now)
            ).rowcount
            connection.execute(
                runs.update()
                .where(runs.c.dag_id == dag_id, runs.c.run_id == run_id)
                .values(state="failed", end_date=now)
            )
    except SQLAlchemyError as error:
        raise AirshiftError(
            f"marking run {run_id!r} of DAG {dag_id!r} failed in {display(parsed)}: {str(error).splitlines()[0]}"
        ) from None
    finally:
        engine.dispose()
    return int(marked or 0)
