"""Install, remove and inspect the capture: the outbox table and the triggers that fill it.

One outbox row per state transition is written by the database itself, in the same transaction as
Airflow's write, so no transition can be missed by whichever process (scheduler, API server, worker)
made it, and a rolled-back transition leaves no row.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from airshift.errors import AirshiftError
from airshift.events.capture import mysql, postgres, sqlite
from airshift.events.capture.schema import OUTBOX, AirflowSchema, inspect_schema
from airshift.events.database import mask

SUPPORTED = ("postgresql", "sqlite", "mysql", "mariadb")
# Installing needs a short exclusive lock on task_instance/dag_run; never queue behind a long Airflow
# transaction and block everything that comes after us.
LOCK_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class CaptureStatus:
    dialect: str
    schema_generation: str
    outbox_present: bool
    triggers: tuple[str, ...]
    expected_triggers: tuple[str, ...]
    backlog: int
    oldest_pending: str | None

    @property
    def installed(self) -> bool:
        return self.outbox_present and set(self.expected_triggers) <= set(self.triggers)


def _dialect(engine: Engine) -> str:
    name = engine.dialect.name
    if name not in SUPPORTED:
        raise AirshiftError(
            f"{mask(engine.url)}: database type {name!r} is not supported ({', '.join(SUPPORTED)})"
        )
    return "mysql" if name == "mariadb" else name


def _pg_schema(connection: Connection, schema: str | None) -> str:
    if schema:
        return schema
    current = connection.execute(text("SELECT current_schema()")).scalar()
    return str(current or "public")


def _expected_triggers(dialect: str) -> tuple[str, ...]:
    if dialect == "postgresql":
        return tuple(postgres.TRIGGERS.values())
    return tuple(sqlite.trigger_names() if dialect == "sqlite" else mysql.trigger_names())


def _run(connection: Connection, statements: list[str]) -> None:
    for statement in statements:
        connection.exec_driver_sql(statement)


def _friendly(engine: Engine, action: str, error: DBAPIError) -> AirshiftError:
    detail = str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)
    return AirshiftError(f"{action} on {mask(engine.url)} failed: {detail}")


def _inspect(
    engine: Engine, connection: Connection, schema: str | None
) -> tuple[str, AirflowSchema, str | None]:
    dialect = _dialect(engine)
    pg_schema = _pg_schema(connection, schema) if dialect == "postgresql" else None
    return dialect, inspect_schema(connection, pg_schema if dialect == "postgresql" else schema), pg_schema


def install(engine: Engine, schema: str | None = None) -> CaptureStatus:
    """Create the outbox and (re)create the triggers, atomically where the database allows it."""
    try:
        with engine.begin() as connection:
            dialect, airflow_schema, pg_schema = _inspect(engine, connection, schema)
            if dialect == "postgresql":
                assert pg_schema is not None
                connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_SECONDS}s'")
                _run(connection, postgres.install_statements(pg_schema))
            elif dialect == "sqlite":
                _run(connection, sqlite.install_statements(airflow_schema))
            else:
                connection.exec_driver_sql(f"SET SESSION lock_wait_timeout = {LOCK_TIMEOUT_SECONDS}")
                _run(connection, mysql.install_statements(airflow_schema))
    except OperationalError as error:
        raise _friendly(engine, "installing the event capture", error) from None
    except ProgrammingError as error:
        raise _friendly(engine, "installing the event capture", error) from None
    return status(engine, schema)


def uninstall(
    engine: Engine, schema: str | None = None, discard_backlog: bool = False
) -> tuple[CaptureStatus, int]:
    """Drop the triggers; drop the outbox only when it is empty (or the backlog is explicitly discarded).

    Returns the status afterwards and the number of outbox rows still waiting for the relay.
    """
    try:
        with engine.begin() as connection:
            dialect, _airflow_schema, pg_schema = _inspect(engine, connection, schema)
            if dialect == "postgresql":
                assert pg_schema is not None
                connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_SECONDS}s'")
                _run(connection, postgres.uninstall_trigger_statements(pg_schema))
                outbox = postgres.qualified(pg_schema, OUTBOX)
            elif dialect == "sqlite":
                _run(connection, sqlite.uninstall_trigger_statements())
                outbox = OUTBOX
            else:
                _run(connection, mysql.uninstall_trigger_statements())
                outbox = OUTBOX
            backlog = _backlog(connection, dialect, pg_schema, schema)[0]
            if backlog == 0 or discard_backlog:
                connection.exec_driver_sql(f"DROP TABLE IF EXISTS {outbox}")
                backlog = 0
    except DBAPIError as error:
        raise _friendly(engine, "removing the event capture", error) from None
    return status(engine, schema), backlog


def _outbox_exists(connection: Connection, dialect: str, pg_schema: str | None, schema: str | None) -> bool:
    from sqlalchemy import inspect

    return bool(
        inspect(connection).has_table(OUTBOX, schema=pg_schema if dialect == "postgresql" else schema)
    )


def _backlog(
    connection: Connection, dialect: str, pg_schema: str | None, schema: str | None
) -> tuple[int, str | None]:
    if not _outbox_exists(connection, dialect, pg_schema, schema):
        return 0, None
    outbox = postgres.qualified(pg_schema, OUTBOX) if dialect == "postgresql" and pg_schema else OUTBOX
    row = connection.exec_driver_sql(f"SELECT COUNT(*), MIN(changed_at) FROM {outbox}").one()
    oldest = row[1]
    return int(row[0]), (oldest.isoformat() if hasattr(oldest, "isoformat") else oldest)


def status(engine: Engine, schema: str | None = None) -> CaptureStatus:
    """What is installed and how many captured transitions wait for the relay."""
    try:
        with engine.connect() as connection:
            dialect, airflow_schema, pg_schema = _inspect(engine, connection, schema)
            if dialect == "postgresql":
                rows = connection.execute(text(postgres.installed_triggers_query()), {"schema": pg_schema})
            elif dialect == "sqlite":
                rows = connection.execute(text(sqlite.INSTALLED_TRIGGERS_QUERY))
            else:
                rows = connection.execute(text(mysql.INSTALLED_TRIGGERS_QUERY))
            triggers = tuple(sorted(str(row[0]) for row in rows))
            present = _outbox_exists(connection, dialect, pg_schema, schema)
            backlog, oldest = _backlog(connection, dialect, pg_schema, schema)
    except DBAPIError as error:
        raise _friendly(engine, "reading the event capture status", error) from None
    return CaptureStatus(
        dialect=dialect,
        schema_generation=airflow_schema.generation,
        outbox_present=present,
        triggers=triggers,
        expected_triggers=_expected_triggers(dialect),
        backlog=backlog,
        oldest_pending=oldest,
    )


def outbox_name(engine: Engine, schema: str | None = None) -> tuple[str | None, str]:
    """(schema, table) of the outbox for the relay."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            return _pg_schema(connection, schema), OUTBOX
    return schema, OUTBOX


# ----------------------------------------------------------------------------------------------------
# Two capture modes: row triggers + outbox (every database), or the WAL (PostgreSQL with wal_level =
# logical). One database uses one of them; the relay reads whichever is installed.


def installed_mode(engine: Engine) -> str | None:
    """ "wal" when this database has airshift's replication slot, "trigger" when it has the outbox
    triggers, None when neither is installed."""
    if engine.dialect.name == "postgresql":
        from airshift.events.capture import wal

        try:
            with engine.connect() as connection:
                if wal.is_installed(connection):
                    return "wal"
        except DBAPIError as error:
            raise _friendly(engine, "reading the event capture status", error) from None
    try:
        current = status(engine)
    except AirshiftError:
        return None
    return "trigger" if current.triggers or current.outbox_present else None


def pg_schema(engine: Engine, schema: str | None) -> str:
    """The schema of Airflow's tables in a PostgreSQL database (the current one unless given)."""
    with engine.connect() as connection:
        return _pg_schema(connection, schema)
