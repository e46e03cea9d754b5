"""Turn the `--from` values into a SourceState: a metadata database URL, an Airflow 2.x/3.x REST API
URL, or Airflow export files."""

from __future__ import annotations

from pathlib import Path

from airshift.errors import AirshiftError
from airshift.state.credentials import ApiAuth
from airshift.state.dburl import parse_db_url
from airshift.state.fernet import Decryptor
from airshift.state.model import Kind, SourceState
from airshift.state.sources.api import is_api_url, open_source, read_api_state
from airshift.state.sources.db import MetadataDB, read_state
from airshift.state.sources.files import read_export_files

_DB_SCHEMES = ("sqlite", "postgres", "mysql", "mariadb")


def is_db_url(value: str) -> bool:
    scheme = value.split("://", 1)[0].split("+", 1)[0].lower() if "://" in value else ""
    return scheme.startswith(_DB_SCHEMES)


def read_source(
    specs: list[str],
    kinds: tuple[Kind, ...],
    dag_glob: str | None,
    decryptor: Decryptor,
    db_password_file: Path | None = None,
    api_auth: ApiAuth | None = None,
    allow_missing_passwords: bool = False,
) -> SourceState:
    if not specs:
        raise AirshiftError("give a source with --from (a metadata database URL, an API URL or export files)")
    apis = [spec for spec in specs if is_api_url(spec)]
    if apis:
        if len(specs) > 1:
            raise AirshiftError("give one API URL as --from, not several sources")
        source = open_source(apis[0], api_auth or ApiAuth())
        try:
            return read_api_state(source, kinds, dag_glob, allow_missing_passwords)
        finally:
            source.close()
    databases = [spec for spec in specs if is_db_url(spec)]
    if databases:
        if len(specs) > 1:
            raise AirshiftError("give one metadata database URL as --from, or export files, not both")
        db = MetadataDB(parse_db_url(databases[0], "source", db_password_file, "AIRSHIFT_FROM_DB_PASSWORD"))
        try:
            return read_state(db, decryptor, kinds, dag_glob)
        finally:
            db.close()
    paths = [Path(spec) for spec in specs]
    for path in paths:
        if not path.is_file():
            raise AirshiftError(f"source {path} is neither a database URL nor an existing export file")
    state = read_export_files(paths)
    if "paused" in kinds:
        state.notes.append("paused state needs a metadata database source; not transferred")
    return state
