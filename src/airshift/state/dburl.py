"""Database URLs for source and target metadata DBs: driver choice, password injection, safe display.

Passwords never travel on the command line: a URL that embeds one is refused, and the password is read
from a file or an environment variable instead.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from airshift.errors import AirshiftError
from airshift.redaction import remember

# Airflow configs name drivers airshift may not have installed; map them to the ones it ships with.
_POSTGRES_DRIVERS = ("psycopg", "psycopg2")
_MYSQL_DRIVERS = ("pymysql", "mysqldb")


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _pick_driver(backend: str, wanted: str | None) -> str | None:
    if backend == "postgresql":
        candidates = _POSTGRES_DRIVERS
        modules = {"psycopg": "psycopg", "psycopg2": "psycopg2"}
    elif backend in ("mysql", "mariadb"):
        candidates = _MYSQL_DRIVERS
        modules = {"pymysql": "pymysql", "mysqldb": "MySQLdb"}
    else:
        return wanted
    if wanted is not None and wanted in modules and _installed(modules[wanted]):
        return wanted
    for driver in candidates:
        if _installed(modules[driver]):
            return driver
    raise AirshiftError(
        f"no {backend} driver is installed: pip install 'airshift[{'postgres' if backend == 'postgresql' else 'mysql'}]'"
    )


def parse_db_url(raw: str, role: str, password_file: Path | None = None, password_env: str = "") -> URL:
    """Parse `raw` for `role` ("source"/"target"); refuse embedded passwords; add one from file/env."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise AirshiftError(f"{role} database URL {raw.split('@')[-1]!r} is not a database URL") from None
    if url.password:
        raise AirshiftError(
            f"the {role} database URL contains a password; command lines end up in shell history and "
            f"process lists. Remove it and put it in a file (--{'from' if role == 'source' else 'to'}"
            f"-db-password-file) or ${password_env}"
        )
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql", "mysql", "mariadb"):
        raise AirshiftError(
            f"{role} database URL: backend {backend!r} is not supported (sqlite, postgresql, mysql)"
        )
    driver = _pick_driver(backend, url.get_driver_name() if "+" in url.drivername else None)
    if backend == "mariadb":
        backend = "mysql"
    url = url.set(drivername=f"{backend}+{driver}" if driver and backend != "sqlite" else backend)
    password: str | None = None
    if password_file is not None:
        try:
            password = password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as error:
            raise AirshiftError(
                f"cannot read password file {password_file}: {error.strerror or error}"
            ) from None
    elif password_env and os.environ.get(password_env):
        password = os.environ[password_env]
    if password:
        remember(password)
        url = url.set(password=password)
    return url


def display(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def open_engine(url: URL, role: str, read_only: bool) -> Engine:
    """An engine for `url`. SQLite sources open read-only so a typo never creates an empty database."""
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if not database or database == ":memory:":
            raise AirshiftError(f"{role} database URL {display(url)} names no SQLite file")
        path = Path(database)
        if not path.is_file():
            raise AirshiftError(f"{role} SQLite database {path} does not exist")
        mode = "ro" if read_only else "rw"
        engine = create_engine(f"sqlite:///file:{path.resolve()}?mode={mode}&uri=true")
        return engine
    connect_args: dict[str, object] = {}
    if url.get_driver_name() == "psycopg":
        # No server-side prepared statements: a generic plan for "IN (5000 parameters)" filters row by
        # row (seconds per batch); a custom plan hashes the list or uses the index (milliseconds).
        connect_args["prepare_threshold"] = None
    engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    if read_only and url.get_backend_name() == "postgresql":

        @event.listens_for(engine, "connect")
        def _read_only(dbapi_connection: object, _record: object) -> None:
            cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            cursor.close()

    return engine


def same_database(a: URL, b: URL) -> bool:
    """True when two URLs name one database: the same SQLite file (however spelled), or the same
    backend, host (localhost and 127.0.0.1 alike), port (default filled in) and database name."""
    if a.get_backend_name() != b.get_backend_name():
        return False
    if a.get_backend_name() == "sqlite":
        first, second = Path(a.database or ""), Path(b.database or "")
        try:
            return first.samefile(second)
        except OSError:
            return first.resolve() == second.resolve()
    loopback = {"localhost", "127.0.0.1", "::1", "", None}
    default_port = {"postgresql": 5432, "mysql": 3306, "mariadb": 3306}.get(a.get_backend_name())
    same_host = a.host == b.host or (a.host in loopback and b.host in loopback)
    same_port = (a.port or default_port) == (b.port or default_port)
    return same_host and same_port and a.database == b.database
