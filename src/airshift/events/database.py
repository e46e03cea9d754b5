"""Connecting to an Airflow metadata database given by a SQLAlchemy URL.

Passwords never come from the command line (they would land in shell history and `ps`): a URL given as
an option must not carry one; the password comes from an environment variable or a file instead, and
every URL airshift prints has its password masked.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from airshift.errors import AirshiftError
from airshift.redaction import remember

URL_ENV = "AIRSHIFT_EVENTS_DB_URL"
PASSWORD_ENV = "AIRSHIFT_EVENTS_DB_PASSWORD"

# Drivers airshift ships (extras); a bare `postgresql://` would otherwise ask for psycopg2.
_DEFAULT_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}


def parse_url(raw: str, *, from_cli: bool) -> URL:
    """A SQLAlchemy URL; `from_cli` URLs must not hold a password."""
    try:
        url = make_url(raw.strip())
    except ArgumentError:
        raise AirshiftError(f"database URL {mask(raw)!r} is not a valid SQLAlchemy URL") from None
    if from_cli and url.password:
        raise AirshiftError(
            "the database URL on the command line contains a password; pass the URL in "
            f"${URL_ENV} or a --db-file, or the password alone in ${PASSWORD_ENV}"
        )
    if url.drivername in _DEFAULT_DRIVERS:
        url = url.set(drivername=_DEFAULT_DRIVERS[url.drivername])
    remember(url.password if isinstance(url.password, str) else None)
    password = os.environ.get(PASSWORD_ENV)
    remember(password)
    if password and not url.password:
        url = url.set(password=password)
    return url


def resolve_url(db: str | None, db_file: Path | None) -> URL:
    """The metadata DB URL from --db, --db-file or $AIRSHIFT_EVENTS_DB_URL, in that order."""
    if db:
        return parse_url(db, from_cli=True)
    if db_file is not None:
        try:
            text = db_file.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise AirshiftError(f"cannot read the database URL file {db_file}: {error.strerror}") from None
        if not text:
            raise AirshiftError(f"the database URL file {db_file} is empty")
        return parse_url(text, from_cli=False)
    from_env = os.environ.get(URL_ENV)
    if from_env:
        return parse_url(from_env, from_cli=False)
    raise AirshiftError(f"no database given: use --db URL, --db-file FILE or ${URL_ENV}")


def mask(url: URL | str) -> str:
    """The URL with its password replaced by ***, safe to print."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def connect(url: URL) -> Engine:
    """An engine for `url`; a missing driver is a clear error, not an ImportError traceback."""
    try:
        return create_engine(url, pool_pre_ping=True)
    except (NoSuchModuleError, ImportError) as error:
        raise AirshiftError(f"no database driver for {mask(url)}: {error}") from None
