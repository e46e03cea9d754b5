"""Copy run history (dag runs, task instances) from a source metadata DB into an Airflow 3 or Airflow 2
(2.2 and later) metadata DB. The target's schema picks the row translation (`TargetRows`); reading,
paging, resuming and inserting are the same for both.

Streamed: rows are read in key order, one batch at a time (keyset pagination, so memory stays flat and
a batch is one short query on any backend). Idempotent: rows are inserted with "ignore on conflict"
against Airflow's own natural keys (dag_id+run_id, dag_id+logical/execution date,
dag_id+task_id+run_id+map_index),
so a re-run or a run after a crash adds nothing twice. The ledger keeps the last copied key per stream
so a resumed run does not re-read what is done. Only finished runs (success, failed) are copied: an
in-flight run belongs to the source until cutover.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import (
    URL,
    Connection,
    Engine,
    MetaData,
    Table,
    and_,
    any_,
    bindparam,
    func,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import NoSuchTableError, SQLAlchemyError
from sqlalchemy.sql import Select

from airshift.errors import AirshiftError
from airshift.state.dburl import display, open_engine
from airshift.state.ledger import Ledger
from airshift.state.sources.db import MetadataDB
from airshift.state.targets.history_intervals import (
    MissingIntervals,
    Schedule,
    interval_start,
    parse_schedule,
)
from airshift.state.targets.history_translate import (
    run_type_of,
    translate_run,
    translate_run_airflow2,
    translate_ti,
    translate_ti_airflow2,
    utc,
)

FINISHED = ("success", "failed")
_NATURAL_KEYS = {
    "dag_run": ("dag_id", "run_id"),
    "task_instance": ("dag_id", "task_id", "run_id", "map_index"),
}
_NEXT_RUN_COLUMNS = (
    "next_dagrun",
    "next_dagrun_data_interval_start",
    "next_dagrun_data_interval_end",
    "next_dagrun_create_after",
)
Progress = Callable[[str, int], None]


@dataclass
class HistoryResult:
    runs_read: int = 0
    runs_written: int = 0
    tis_read: int = 0
    tis_written: int = 0
    tis_without_run: int = 0
    notes: list[str] = field(default_factory=list)


class TargetRows(Protocol):
    """How source rows become rows of one target schema."""

    name: str

    def run(self, row: dict[str, Any]) -> dict[str, Any]: ...

    def ti(self, row: dict[str, Any], run_id: str) -> dict[str, Any]: ...


def _optional_table(name: str, metadata: MetaData, engine: Engine) -> Table | None:
    try:
        return Table(name, metadata, autoload_with=engine)
    except NoSuchTableError:
        return None


def _max_log_template_id(connection: Connection, log_template: Table | None) -> Any:
    if log_template is None:
        return None
    return connection.execute(select(func.max(log_template.c.id))).scalar()


class Airflow3Rows:
    """Airflow 3: UUIDv7 task instance ids, the DAG's newest `dag_version`, conf as JSON."""

    name = "Airflow 3"

    def __init__(self, engine: Engine, metadata: MetaData) -> None:
        dag_version = Table("dag_version", metadata, autoload_with=engine)
        log_template = Table("log_template", metadata, autoload_with=engine)
        with engine.connect() as connection:
            self.log_template_id = _max_log_template_id(connection, log_template)
            versions = connection.execute(
                select(dag_version.c.dag_id, dag_version.c.id).order_by(dag_version.c.version_number)
            ).all()
        # The newest parsed version of each DAG (the UI groups history by version); None if never parsed.
        self.dag_versions: dict[str, Any] = {str(dag_id): version for dag_id, version in versions}

    def run(self, row: dict[str, Any]) -> dict[str, Any]:
        return translate_run(row, self.log_template_id, self.dag_versions.get(str(row["dag_id"])))

    def ti(self, row: dict[str, Any], run_id: str) -> dict[str, Any]:
        return translate_ti(row, run_id, self.dag_versions.get(str(row["dag_id"])))


class Airflow2Rows:
    """Airflow 2.2+: `execution_date`, `external_trigger`, conf pickled, the DAG's current serialized
    hash as `dag_hash` and the newest log template (2.3+)."""

    name = "Airflow 2"

    def __init__(self, engine: Engine, metadata: MetaData) -> None:
        log_template = _optional_table("log_template", metadata, engine)  # 2.3+
        serialized = _optional_table("serialized_dag", metadata, engine)
        with engine.connect() as connection:
            self.log_template_id = _max_log_template_id(connection, log_template)
            hashes = (
                connection.execute(select(serialized.c.dag_id, serialized.c.dag_hash)).all()
                if serialized is not None and "dag_hash" in serialized.c
                else []
            )
        self.dag_hashes: dict[str, str] = {str(dag_id): str(dag_hash) for dag_id, dag_hash in hashes}
        # Set when the source is an Airflow 3 database (cutover rollback): runs are re-dated with the
        # target DAG's own schedule, which Airflow 2 keeps in `dag.schedule_interval`.
        self.from_airflow3 = False
        self.schedules: dict[str, Schedule] = {}
        dag = Table("dag", metadata, autoload_with=engine)
        if "schedule_interval" in dag.c:
            with engine.connect() as connection:
                for dag_id, raw in connection.execute(select(dag.c.dag_id, dag.c.schedule_interval)):
                    try:
                        self.schedules[str(dag_id)] = parse_schedule(raw)
                    except (ValueError, TypeError):
                        continue

    def run(self, row: dict[str, Any]) -> dict[str, Any]:
        if self.from_airflow3:
            row = airflow3_run_as_airflow2(row, self.schedules.get(str(row["dag_id"])))
        return translate_run_airflow2(row, self.log_template_id, self.dag_hashes.get(str(row["dag_id"])))

    def ti(self, row: dict[str, Any], run_id: str) -> dict[str, Any]:
        return translate_ti_airflow2(row, run_id)


class Airflow110Rows(Airflow2Rows):
    """Airflow 1.10, as the old side of a cutover rollback: dag runs only. 1.10's scheduler continues
    from the newest run that is not externally triggered (or is named `scheduled__...`), by execution
    date, so carried-back runs dated and named as Airflow 2 does (interval start, `scheduled__<date>`)
    are what it needs; the 2.x columns 1.10 lacks (run_type, data intervals, dag_hash) are dropped on
    insert. Task instances are not carried: 1.10 keys them by execution date, and the re-dated runs
    have no task instance there."""

    name = "Airflow 1.10"


def airflow3_run_as_airflow2(row: dict[str, Any], schedule: Schedule) -> dict[str, Any]:
    """An Airflow 3 run as Airflow 2 dates it. A trigger timetable (3.x's default for a cron string or
    a timedelta) dates a run at its tick with an empty interval; Airflow 2's data-interval timetable
    dates the same run at the start of the interval that ends at that tick. Copied as it is, the run
    would sit on the execution date of the *next* interval, and Airflow 2's scheduler would skip that
    interval ("run already exists"). Runs with a real interval (3.x DAGs on data-interval timetables)
    and manual runs keep their dates. Task instances of re-dated runs are not carried back (their run
    has another id there)."""
    row = dict(row)
    logical = utc(row.get("logical_date"))
    start, end = utc(row.get("data_interval_start")), utc(row.get("data_interval_end"))
    due = utc(row.get("run_after")) or end or logical
    automated = run_type_of(row) in ("scheduled", "backfill")
    if automated and due is not None and (start is None or start == end):
        previous = interval_start(schedule, due)
        if previous is not None:
            start, end, logical = previous, due, previous
            # Airflow 2 names automated runs after their execution date; keeping 3.x's name would take
            # the run id Airflow 2's scheduler gives the next interval, and its insert would fail.
            row["run_id"] = f"{run_type_of(row)}__{previous.isoformat()}"
    row["execution_date"] = logical or due
    row["data_interval_start"], row["data_interval_end"] = start, end
    row["external_trigger"] = run_type_of(row) == "manual"
    return row


class _TargetDB:
    def __init__(self, url: URL) -> None:
        self.url = url
        self.engine: Engine = open_engine(url, "target", read_only=False)
        metadata = MetaData()
        try:
            self.dag_run = Table("dag_run", metadata, autoload_with=self.engine)
            self.task_instance = Table("task_instance", metadata, autoload_with=self.engine)
            self.dag = Table("dag", metadata, autoload_with=self.engine)
            runs, tis = self.dag_run.c, self.task_instance.c
            self.rows: TargetRows
            if "logical_date" in runs and "id" in tis:
                self.rows = Airflow3Rows(self.engine, metadata)
            elif "execution_date" in runs and "run_type" in runs and "run_id" in tis:
                self.rows = Airflow2Rows(self.engine, metadata)
            elif "execution_date" in runs and "run_type" not in runs and "run_id" not in tis:
                # Airflow 1.10: runs only, carried back by a cutover rollback (see Airflow110Rows).
                self.rows = Airflow110Rows(self.engine, metadata)
            else:
                raise AirshiftError(
                    f"target database {display(url)} is neither an Airflow 3 nor an Airflow 2.2+ metadata "
                    "database (run history needs task instances keyed by run id)"
                )
        except NoSuchTableError as error:
            raise AirshiftError(
                f"target database {display(url)} has no table {error}: run history goes into an Airflow 3 or "
                "2.2+ metadata database (`airflow db migrate` first)"
            ) from None
        except SQLAlchemyError as error:
            raise AirshiftError(
                f"cannot open the target database {display(url)}: {_first_line(error)}"
            ) from None

    def insert_ignoring_existing(
        self, connection: Connection, table: Table, rows: list[dict[str, Any]]
    ) -> int:
        rows = [{key: value for key, value in row.items() if key in table.c} for row in rows]
        if not rows:
            return 0
        dialect = connection.dialect.name
        if dialect == "postgresql":
            stmt: Any = pg_insert(table).on_conflict_do_nothing()
        elif dialect == "sqlite":
            stmt = sqlite_insert(table).on_conflict_do_nothing()
        else:
            stmt = table.insert().prefix_with("IGNORE")
        # A plain executemany (no RETURNING) is what the drivers batch fastest (psycopg: pipeline mode);
        # its row count is not reliable there, so inserted rows are counted by their natural key.
        if "id" in rows[0]:
            # Fresh UUIDv7 ids: a row with one of them exists only if this insert wrote it.
            connection.execute(stmt, rows)
            return self._count_ids(connection, table, [row["id"] for row in rows])
        key = _NATURAL_KEYS[table.name]
        before = self._present(connection, table, key, rows)
        connection.execute(stmt, rows)
        return self._present(connection, table, key, rows) - before

    @staticmethod
    def _count_ids(connection: Connection, table: Table, ids: list[Any]) -> int:
        if connection.dialect.name == "postgresql":
            # One array parameter instead of thousands of scalars: far cheaper to send and plan.
            condition = table.c.id == any_(bindparam("ids", ids, type_=postgresql.ARRAY(table.c.id.type)))
        else:
            condition = table.c.id.in_(ids)
        return int(connection.execute(select(func.count()).select_from(table).where(condition)).scalar() or 0)

    @staticmethod
    def _present(
        connection: Connection, table: Table, key: tuple[str, ...], rows: list[dict[str, Any]]
    ) -> int:
        values = {tuple(row[name] for name in key) for row in rows}
        query = select(*(table.c[name] for name in key)).where(key_superset(table, key, values))
        return sum(1 for found in connection.execute(query) if tuple(found) in values)

    def forget_next_run(self, connection: Connection, dag_ids: set[str]) -> None:
        """Clear the next run the target computed before this history existed. The scheduler only
        creates runs for DAGs whose `next_dagrun_create_after` is set, and the dag-processor sets it
        again on its next parse, from the newest automated run, which is now the copied one. Without
        this, a DAG unpaused before that parse would be scheduled from its stale next run: with a
        trigger timetable that re-runs the last interval the source already ran."""
        dag = self.dag
        columns = [name for name in _NEXT_RUN_COLUMNS if name in dag.c]
        if columns:
            connection.execute(
                dag.update().where(dag.c.dag_id.in_(sorted(dag_ids))).values(dict.fromkeys(columns))
            )

    def existing_runs(self, connection: Connection, keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
        if not keys:
            return set()
        table = self.dag_run
        found = connection.execute(
            select(table.c.dag_id, table.c.run_id).where(key_superset(table, ("dag_id", "run_id"), keys))
        ).all()
        return {(str(dag_id), str(run_id)) for dag_id, run_id in found} & keys


def key_superset(table: Table, names: tuple[str, ...], keys: set[tuple[Any, ...]]) -> Any:
    """Rows whose every key column is among the wanted values: a superset of `keys`, callers keep the
    exact matches. One IN list per column uses the unique index on every backend; a row-value IN list
    is planned as a scan on PostgreSQL."""
    return and_(*(table.c[name].in_(list({key[index] for key in keys})) for index, name in enumerate(names)))


def _encode_key(part: Any) -> Any:
    # Keys hold dates on 1.10 (execution_date); keep them typed so the resumed comparison is exact.
    return {"datetime": part.isoformat()} if isinstance(part, dt.datetime) else part


def _decode_key(part: Any) -> Any:
    return dt.datetime.fromisoformat(part["datetime"]) if isinstance(part, dict) else part


def _first_line(error: SQLAlchemyError) -> str:
    original = getattr(error, "orig", None)
    return (str(original if original is not None else error).strip().splitlines() or ["unknown error"])[0]


def check_target(url: URL) -> None:
    """Raise AirshiftError unless `url` is a reachable Airflow 3 or 2.2+ metadata database (dry runs
    check this much, so a plan is never printed for a target that a real run would refuse)."""
    _TargetDB(url).engine.dispose()


class HistoryCopy:
    def __init__(
        self,
        source: MetadataDB,
        target_url: URL,
        ledger: Ledger | None,
        *,
        dag_glob: str | None = None,
        dag_ids: frozenset[str] | None = None,
        since: dt.datetime | None = None,
        batch: int = 2000,
        progress: Progress | None = None,
    ) -> None:
        self.source = source
        self.target = _TargetDB(target_url)
        self.ledger = ledger
        # Positions are per source and target: another source must start from its own beginning.
        self.ledger_target = f"db:{display(source.url)}->{display(target_url)}"
        if dag_ids is not None:  # a position over some DAGs' rows says nothing about the others
            self.ledger_target += "|dags=" + ",".join(sorted(dag_ids))
        self.dag_glob = dag_glob
        # Exact DAG ids (cutover copies one DAG at a time); None = every DAG the glob lets through.
        self.dag_ids = dag_ids
        self.since = utc(since) if since else None
        self.batch = batch
        self.progress = progress or (lambda _stream, _count: None)
        self.runs = source.table("dag_run")
        self.tis = source.table("task_instance")
        self.ti_by_date = "run_id" not in self.tis.c
        if isinstance(self.target.rows, Airflow110Rows) and "logical_date" not in self.runs.c:
            raise AirshiftError(
                f"target database {display(target_url)} is an Airflow 1.10 metadata database: airshift "
                "writes 1.10 run history only from an Airflow 3 source (a cutover rollback)"
            )
        if isinstance(self.target.rows, Airflow2Rows) and "logical_date" in self.runs.c:
            # Carried back (cutover rollback): runs dated in the target's own timetable semantics.
            self.target.rows.from_airflow3 = True
        self.intervals = MissingIntervals(source)

    def close(self) -> None:
        self.target.engine.dispose()

    def _wanted(self, dag_id: str) -> bool:
        if self.dag_ids is not None and dag_id not in self.dag_ids:
            return False
        return self.dag_glob is None or fnmatch.fnmatchcase(dag_id, self.dag_glob)

    def _run_filter(self) -> Any:
        return run_filter(self.runs, self.since)

    def _position(self, stream: str) -> list[Any] | None:
        if self.ledger is None:
            return None
        raw = self.ledger.position(self.ledger_target, stream)
        return None if raw is None else [_decode_key(part) for part in json.loads(raw)]

    def _save_position(self, stream: str, key: list[Any]) -> None:
        if self.ledger is not None:
            self.ledger.set_position(
                self.ledger_target, stream, json.dumps([_encode_key(part) for part in key])
            )

    def _pages(
        self, stream: str, query: Select[Any], key_columns: list[Any]
    ) -> Iterator[list[dict[str, Any]]]:
        """Keyset pagination over `query` ordered by `key_columns`, resuming at the ledger's position."""
        position = self._position(stream)
        with self.source.engine.connect() as connection:
            while True:
                page_query = query.order_by(*key_columns).limit(self.batch)
                if position is not None:
                    page_query = page_query.where(tuple_(*key_columns) > tuple_(*position))
                try:
                    rows = [dict(row._mapping) for row in connection.execute(page_query)]
                except SQLAlchemyError as error:
                    raise AirshiftError(
                        f"reading {stream} from {display(self.source.url)} failed: {_first_line(error)}"
                    ) from None
                if not rows:
                    return
                yield rows
                position = [rows[-1][f"k{index}"] for index in range(len(key_columns))]
                self._save_position(stream, position)

    def _dag_filter(self, table: Table) -> Any:
        if self.dag_ids is not None:
            return and_(table.c.dag_id.in_(sorted(self.dag_ids)), dag_like(table, self.dag_glob))
        return dag_like(table, self.dag_glob)

    def copy_runs(self, result: HistoryResult) -> None:
        runs = self.runs
        # Keyset on the primary key: an index range scan per page whatever the planner's statistics say.
        query = select(runs, runs.c.id.label("k0")).where(self._run_filter(), self._dag_filter(runs))
        for rows in self._pages("dag_run", query, [runs.c.id]):
            wanted = [row for row in rows if self._wanted(str(row["dag_id"]))]
            for row in wanted:
                self.intervals.fill(row, utc(row.get("logical_date") or row.get("execution_date")))
            translated = [self.target.rows.run(row) for row in wanted]
            with self.target.engine.begin() as connection:
                written = self.target.insert_ignoring_existing(connection, self.target.dag_run, translated)
                if written:
                    self.target.forget_next_run(connection, {str(row["dag_id"]) for row in translated})
                result.runs_written += written
            result.runs_read += len(wanted)
            self.progress("dag_run", result.runs_read)

    def _source_runs(self, rows: list[dict[str, Any]]) -> dict[tuple[str, Any], str]:
        """For a page of task instances: their finished, wanted runs, keyed as the rows point at them
        (dag_id + run_id, or dag_id + execution_date before 2.2) -> run_id."""
        runs = self.runs
        link = runs.c.execution_date if self.ti_by_date else runs.c.run_id
        keys = {(row["dag_id"], row["execution_date" if self.ti_by_date else "run_id"]) for row in rows}
        if not keys:
            return {}
        query = select(runs.c.dag_id, link.label("link"), runs.c.run_id).where(
            key_superset(runs, ("dag_id", link.name), keys), self._run_filter()
        )
        with self.source.engine.connect() as connection:
            found = {(str(dag_id), key): str(run_id) for dag_id, key, run_id in connection.execute(query)}
        return {key: run_id for key, run_id in found.items() if key in keys}

    def copy_task_instances(self, result: HistoryResult) -> None:
        tis = self.tis
        # The primary key in its own column order, so each page is an index range scan.
        key_columns = list(tis.primary_key.columns)
        labelled = [column.label(f"k{index}") for index, column in enumerate(key_columns)]
        query = select(tis, *labelled).where(self._dag_filter(tis))
        for rows in self._pages("task_instance", query, key_columns):
            source_runs = self._source_runs(rows)
            link = "execution_date" if self.ti_by_date else "run_id"
            wanted = [
                (row, source_runs[(str(row["dag_id"]), row[link])])
                for row in rows
                if (str(row["dag_id"]), row[link]) in source_runs and self._wanted(str(row["dag_id"]))
            ]
            with self.target.engine.begin() as connection:
                present = self.target.existing_runs(
                    connection, {(str(row["dag_id"]), run_id) for row, run_id in wanted}
                )
                translated = []
                for row, run_id in wanted:
                    if (str(row["dag_id"]), run_id) not in present:
                        # Its run was not copied (the target already had a run at that logical date).
                        result.tis_without_run += 1
                        continue
                    translated.append(self.target.rows.ti(row, run_id))
                result.tis_written += self.target.insert_ignoring_existing(
                    connection, self.target.task_instance, translated
                )
            result.tis_read += len(wanted)
            self.progress("task_instance", result.tis_read)

    def run(self) -> HistoryResult:
        result = HistoryResult()
        self.copy_runs(result)
        if isinstance(self.target.rows, Airflow2Rows) and self.target.rows.from_airflow3:
            # Carried back from Airflow 3: runs are re-dated and renamed, so a task instance's run id
            # would name another run there. Runs alone are what the scheduler continues from.
            result.notes.append(
                f"task instances are not carried back from Airflow 3 into {self.target.rows.name}"
            )
        else:
            self.copy_task_instances(result)
        result.notes.extend(self.intervals.notes())
        if result.tis_without_run:
            result.notes.append(
                f"{result.tis_without_run} task instance(s) skipped: the target already had another run "
                "at their run's logical date"
            )
        return result


def count_history(
    source: MetadataDB,
    dag_glob: str | None,
    since: dt.datetime | None,
    dag_ids: frozenset[str] | None = None,
) -> tuple[int, int]:
    """How many finished runs and their task instances a copy would read (for --dry-run)."""
    runs, tis = source.table("dag_run"), source.table("task_instance")
    condition = run_filter(runs, utc(since) if since else None)
    condition = and_(condition, dag_like(runs, dag_glob))
    if dag_ids is not None:
        condition = and_(condition, runs.c.dag_id.in_(sorted(dag_ids)))
    with source.engine.connect() as connection:
        run_count = connection.execute(select(func.count()).select_from(runs).where(condition)).scalar()
        ti_count = connection.execute(
            select(func.count()).select_from(tis.join(runs, ti_join(runs, tis))).where(condition)
        ).scalar()
    return int(run_count or 0), int(ti_count or 0)


def dag_like(table: Table, dag_glob: str | None) -> Any:
    """The --dags glob as SQL LIKE, so unwanted DAGs are not read at all (fnmatch re-checks exactly)."""
    if not dag_glob or "[" in dag_glob:  # character classes have no LIKE form: filter in Python only
        return true()
    like = dag_glob.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
    return table.c.dag_id.like(like.replace("*", "%").replace("?", "_"), escape="\\")


def run_filter(runs: Table, since: dt.datetime | None) -> Any:
    """Finished runs only, from `since` on."""
    condition: Any = runs.c.state.in_(FINISHED)
    if since is not None:
        date = runs.c["logical_date" if "logical_date" in runs.c else "execution_date"]
        condition = and_(condition, date >= since)
    return condition


def ti_join(runs: Table, tis: Table) -> Any:
    # Before 2.2 task instances point at their run by execution date, not run id.
    if "run_id" in tis.c:
        return and_(tis.c.dag_id == runs.c.dag_id, tis.c.run_id == runs.c.run_id)
    return and_(tis.c.dag_id == runs.c.dag_id, tis.c.execution_date == runs.c.execution_date)
