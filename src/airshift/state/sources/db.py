"""Read environment state from an Airflow 1.10 / 2.x / 3.x metadata database by reflection.

No Airflow import: the tables are reflected, so columns a version lacks (descriptions before 2.0,
`include_deferred` before 2.7) simply read as defaults. Encrypted values are decrypted with the source
key list; a value that cannot be decrypted stops the read with the object named.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any

from sqlalchemy import URL, Engine, MetaData, Table, select
from sqlalchemy.exc import NoSuchTableError, OperationalError, ProgrammingError, SQLAlchemyError

from airshift.errors import AirshiftError
from airshift.state.dburl import display, open_engine
from airshift.state.fernet import Decryptor
from airshift.state.model import Connection, Kind, PausedState, Pool, SourceState, Variable
from airshift.state.secret import Secret


class MetadataDB:
    """A reflected Airflow metadata database (read-only use)."""

    def __init__(self, url: URL, role: str = "source") -> None:
        self.url = url
        self.role = role
        self.engine: Engine = open_engine(url, role, read_only=True)
        self.metadata = MetaData()
        self._tables: dict[str, Table] = {}

    def table(self, name: str) -> Table:
        if name not in self._tables:
            try:
                self._tables[name] = Table(name, self.metadata, autoload_with=self.engine)
            except NoSuchTableError:
                raise AirshiftError(
                    f"{self.role} database {display(self.url)} has no table {name!r}: "
                    "is it an Airflow metadata database?"
                ) from None
            except OperationalError as error:
                raise AirshiftError(
                    f"cannot connect to the {self.role} database {display(self.url)}: {_first_line(error)}"
                ) from None
        return self._tables[name]

    def has_table(self, name: str) -> bool:
        try:
            self.table(name)
        except AirshiftError as error:
            if "has no table" in str(error):
                return False
            raise
        return True

    def rows(self, name: str) -> list[Mapping[str, Any]]:
        table = self.table(name)
        try:
            with self.engine.connect() as connection:
                return [dict(row._mapping) for row in connection.execute(select(table))]
        except (OperationalError, ProgrammingError) as error:
            raise AirshiftError(
                f"reading table {name!r} of {display(self.url)} failed: {_first_line(error)}"
            ) from None

    def close(self) -> None:
        self.engine.dispose()


def _first_line(error: SQLAlchemyError) -> str:
    original = getattr(error, "orig", None)
    return (str(original if original is not None else error).strip().splitlines() or ["unknown error"])[0]


def _plain(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _decrypted(row: Mapping[str, Any], column: str, flag: str, decryptor: Decryptor, what: str) -> str | None:
    value = _plain(row.get(column))
    if value is None or not row.get(flag):
        return value
    return decryptor.decrypt(value, what)


def read_variables(db: MetadataDB, decryptor: Decryptor) -> list[Variable]:
    found = []
    for row in db.rows("variable"):
        key = str(row["key"])
        value = _decrypted(row, "val", "is_encrypted", decryptor, f"variable {key!r}")
        found.append(Variable(key=key, value=Secret(value or ""), description=_plain(row.get("description"))))
    return sorted(found, key=lambda item: item.key)


def read_connections(db: MetadataDB, decryptor: Decryptor) -> list[Connection]:
    found = []
    for row in db.rows("connection"):
        conn_id = str(row["conn_id"])
        what = f"connection {conn_id!r}"
        password = _decrypted(row, "password", "is_encrypted", decryptor, f"{what} password")
        extra = _decrypted(row, "extra", "is_extra_encrypted", decryptor, f"{what} extra")
        port = row.get("port")
        found.append(
            Connection(
                conn_id=conn_id,
                conn_type=str(row.get("conn_type") or ""),
                host=_plain(row.get("host")) or None,
                schema=_plain(row.get("schema")) or None,
                login=_plain(row.get("login")) or None,
                password=Secret(password) if password else None,
                port=int(port) if port is not None else None,
                extra=Secret(extra) if extra else None,
                description=_plain(row.get("description")) or None,
            )
        )
    return sorted(found, key=lambda item: item.conn_id)


def read_pools(db: MetadataDB) -> list[Pool]:
    found = []
    for row in db.rows("slot_pool"):
        found.append(
            Pool(
                name=str(row["pool"]),
                slots=int(row.get("slots") or 0),
                description=_plain(row.get("description")) or None,
                include_deferred=bool(row.get("include_deferred") or False),
            )
        )
    return sorted(found, key=lambda item: item.name)


def read_paused(db: MetadataDB, dag_glob: str | None) -> list[PausedState]:
    found = []
    for row in db.rows("dag"):
        dag_id = str(row["dag_id"])
        if dag_glob and not fnmatch.fnmatchcase(dag_id, dag_glob):
            continue
        # DAGs whose file is gone (is_active false before 3.0, is_stale in 3.x) are not carried over.
        if row.get("is_active") is False or row.get("is_stale") is True:
            continue
        if dag_id.count(".") and row.get("is_subdag"):
            continue  # 1.10 SubDAGs become TaskGroups; they have no DAG of their own on the target.
        found.append(PausedState(dag_id=dag_id, is_paused=bool(row.get("is_paused"))))
    return sorted(found, key=lambda item: item.dag_id)


def read_state(
    db: MetadataDB, decryptor: Decryptor, kinds: tuple[Kind, ...], dag_glob: str | None
) -> SourceState:
    state = SourceState.empty()
    if "variables" in kinds:
        state.variables = read_variables(db, decryptor)
    if "connections" in kinds:
        state.connections = read_connections(db, decryptor)
    if "pools" in kinds:
        state.pools = read_pools(db)
    if "paused" in kinds:
        state.paused = read_paused(db, dag_glob)
    return state
