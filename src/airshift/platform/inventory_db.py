"""A metadata database (Airflow 1.10, 2.x or 3.x; SQLite, PostgreSQL or MySQL) summarised for the
inventory: counts and aggregates only, never a variable's or a connection's value.

Everything heavy runs in the database: per-day counts and per-state/queue/pool counts are GROUP BY
queries. Peak concurrency needs every task instance's start and end, so the database groups them per
minute (one row per minute in which something started or ended) and two ordered streams of those rows
are merged in constant memory: the sweep never holds the task instances, only a running count."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airshift.platform.inventory_model import DatabaseInfo

# 1.10's MAX_XCOM_SIZE: the size Airflow itself once refused to store. Larger values are what makes
# the 3.0 migration (every XCom rewritten as JSON) slow, and what can exceed the target's limits.
DEFAULT_XCOM_LIMIT = 49344
# Tables whose size decides how long `airflow db migrate` takes (3.0 rewrites task_instance ids,
# dag_run, xcom and the rendered fields).
SIZED_TABLES = (
    "task_instance",
    "dag_run",
    "xcom",
    "log",
    "job",
    "rendered_task_instance_fields",
    "task_fail",
    "task_reschedule",
    "task_instance_history",
    "sla_miss",
    "import_error",
    "serialized_dag",
    "dag_version",
    "trigger",
)
STREAM_BATCH = 10_000


@dataclass
class Progress:
    """How long reads report progress (the CLI draws a bar); the default does nothing."""

    start: Callable[[str, int | None], None] = lambda _what, _total: None
    advance: Callable[[int], None] = lambda _n: None


def read_database(
    url_text: str,
    progress: Progress | None = None,
    xcom_limit: int = DEFAULT_XCOM_LIMIT,
    password_file: Path | None = None,
) -> DatabaseInfo:
    from airshift.state.dburl import display, parse_db_url
    from airshift.state.sources.db import MetadataDB

    progress = progress or Progress()
    url = parse_db_url(url_text, "source", password_file, "AIRSHIFT_FROM_DB_PASSWORD")
    db = MetadataDB(url, role="inventory")
    try:
        return _Reader(db, progress, xcom_limit).read(display(url))
    finally:
        db.close()


class _Reader:
    def __init__(self, db: Any, progress: Progress, xcom_limit: int) -> None:
        self.db = db
        self.progress = progress
        self.xcom_limit = xcom_limit
        self.dialect = db.engine.dialect.name

    def _scalar(self, statement: Any) -> Any:
        with self.db.engine.connect() as connection:
            return connection.execute(statement).scalar()

    def _pairs(self, statement: Any) -> list[tuple[Any, Any]]:
        with self.db.engine.connect() as connection:
            return [(row[0], row[1]) for row in connection.execute(statement)]

    def _count(self, name: str) -> int:
        from sqlalchemy import func, select

        return int(self._scalar(select(func.count()).select_from(self.db.table(name))) or 0)

    def read(self, shown_url: str) -> DatabaseInfo:
        from sqlalchemy import func, select

        db = self.db
        dag = db.table("dag")
        version = "3.x" if db.has_table("dag_version") else "1.10" if db.has_table("known_event") else "2.x"
        info = DatabaseInfo(url=shown_url, dialect=self.dialect, airflow_version=version)
        self.progress.start("counting", None)
        info.dags_total = self._count("dag")
        info.dags_paused = int(self._scalar(select(func.count()).where(dag.c.is_paused.is_(True))) or 0)
        if "is_stale" in dag.c:
            active = select(func.count()).where(dag.c.is_stale.is_(False))
        else:
            active = select(func.count()).where(dag.c.is_active.is_(True))
        info.dags_active = int(self._scalar(active) or 0)
        info.variables = self._count("variable")
        info.connections = self._count("connection")
        info.pool_count = self._count("slot_pool")
        for name in SIZED_TABLES:
            if db.has_table(name):
                info.table_rows[name] = self._count(name)
        run = db.table("dag_run")
        ti = db.table("task_instance")
        info.runs_per_day = self._per_day(run, run.c.start_date)
        # Airflow 2.x `dags test` leaves start_date empty on finished task instances: when it is,
        # the end date places the task instance in time.
        began = func.coalesce(ti.c.start_date, ti.c.end_date)
        info.task_instances_per_day = self._per_day(ti, began)
        info.task_instances_by_state = self._grouped(ti.c.state)
        info.queues = self._grouped(ti.c.queue)
        info.pools = self._grouped(ti.c.pool)
        info.executor = self._executor()
        info.xcom_limit_bytes = self.xcom_limit
        if db.has_table("xcom"):
            info.xcom_max_bytes, info.xcom_over_limit = self._xcom_sizes()
        info.peak_concurrency, info.peak_concurrency_minute = self._peak(
            ti, info.table_rows.get("task_instance")
        )
        return info

    def _grouped(self, column: Any) -> dict[str, int]:
        from sqlalchemy import func, select

        rows = self._pairs(select(column, func.count()).where(column.is_not(None)).group_by(column))
        return {str(key): int(count) for key, count in sorted(rows, key=lambda row: str(row[0]))}

    def _per_day(self, table: Any, column: Any) -> dict[str, int]:
        from sqlalchemy import func, select

        day = func.date(column).label("day")
        rows = self._pairs(
            select(day, func.count()).select_from(table).where(column.is_not(None)).group_by(day)
        )
        return {str(key)[:10]: int(count) for key, count in sorted(rows, key=lambda row: str(row[0]))}

    def _executor(self) -> str | None:
        from sqlalchemy import select

        if self.db.has_table("job"):
            job = self.db.table("job")
            if "executor_class" in job.c:
                statement = (
                    select(job.c.executor_class)
                    .where(job.c.executor_class.is_not(None), job.c.job_type == "SchedulerJob")
                    .order_by(job.c.id.desc())
                    .limit(1)
                )
                found = self._scalar(statement)
                if found:
                    return str(found).rsplit(".", 1)[-1]
        if self.db.has_table("celery_taskmeta"):
            return "CeleryExecutor"
        return None

    def _xcom_sizes(self) -> tuple[int | None, int]:
        from sqlalchemy import JSON, Text, cast, func, select

        xcom = self.db.table("xcom")
        value = xcom.c.value
        size = func.length(cast(value, Text)) if isinstance(value.type, JSON) else func.length(value)
        if self.dialect == "postgresql" and not isinstance(value.type, JSON):
            size = func.octet_length(value)
        largest = self._scalar(select(func.max(size)))
        over = self._scalar(select(func.count()).where(size > self.xcom_limit))
        return (int(largest) if largest is not None else None), int(over or 0)

    def _minute(self, column: Any) -> Any:
        """Whole minutes since the epoch, computed by the database."""
        from sqlalchemy import Integer, cast, extract, func, literal_column

        if self.dialect == "sqlite":
            return cast(func.strftime("%s", column), Integer) / 60
        if self.dialect in ("mysql", "mariadb"):
            return func.floor(func.unix_timestamp(column) / 60)
        return func.floor(extract("epoch", column) / literal_column("60"))

    def _peak(self, ti: Any, total: int | None) -> tuple[int, str | None]:
        from sqlalchemy import func, select

        began = func.coalesce(ti.c.start_date, ti.c.end_date)  # see read(): dags test leaves start empty
        start = self._minute(began).label("minute")
        end = (self._minute(func.coalesce(ti.c.end_date, ti.c.start_date)) + 1).label("minute")
        timed = began.is_not(None)
        started = select(start, func.count()).where(timed).group_by(start).order_by(start)
        ended = select(end, func.count()).where(timed).group_by(end).order_by(end)
        self.progress.start("peak concurrency", 2 * total if total else None)
        with self.db.engine.connect() as starts, self.db.engine.connect() as ends:
            # An interval [start, end] counts in every minute it touches; at one minute, ends
            # (-1, at end+1) are applied before starts so back-to-back tasks do not overlap.
            events = heapq.merge(
                self._stream(ends, ended, -1), self._stream(starts, started, +1), key=lambda e: (e[0], e[1])
            )
            running = peak = 0
            peak_minute: int | None = None
            for minute, sign, count in events:
                running += sign * count
                if running > peak:
                    peak, peak_minute = running, minute
                self.progress.advance(count)
        if peak_minute is None:
            return 0, None
        import datetime as dt

        at = dt.datetime.fromtimestamp(peak_minute * 60, tz=dt.timezone.utc)
        return peak, at.strftime("%Y-%m-%dT%H:%MZ")

    @staticmethod
    def _stream(connection: Any, statement: Any, sign: int) -> Iterator[tuple[int, int, int]]:
        result = connection.execution_options(stream_results=True, yield_per=STREAM_BATCH).execute(statement)
        for minute, count in result:
            if minute is not None:
                yield int(minute), sign, int(count)
