"""Turn the `--from` values into a SourceState: a metadata database URL, or Airflow export files."""

from __future__ import annotations

from pathlib import Path

from airshift.errors import AirshiftError
from airshift.state.db_source import MetadataDB, read_state
from airshift.state.dburl import parse_db_url
from airshift.state.fernet import Decryptor
from airshift.state.file_source import read_export_files
from airshift.state.model import Kind, SourceState

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
) -> SourceState:
    if not specs:
        raise AirshiftError("give a source with --from (a metadata database URL or export files)")
    if any(spec.startswith(("http://", "https://")) for spec in specs):
        raise AirshiftError(
            "reading a source over /api/v1 or /api/v2 is not supported yet: the APIs never return connection "
            "passwords (write-only in 2.x, redacted in 3.x). Use the metadata database URL with "
            "--from-fernet-key-file, or the files `airflow variables export`, `airflow pools export` and "
            "`airflow connections export` write"
        )
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
