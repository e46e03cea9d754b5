"""The cutover journal: an append-only log of every step taken for every DAG, and the ownership that
follows from it.

Rows are only ever inserted. Who owns a DAG is the `owner` of its newest step that names one, so "who
owns this DAG, since when, and what happened" is answered from the same log that a killed run resumes
from. An embedded SQLite file (WAL mode: the router reads while a cutover writes) by default, or a
PostgreSQL database by URL when a team shares one journal.

Nothing secret goes in: steps hold DAG ids, step names, dates and short messages, and every text is
passed through `redact` with the credentials the caller knows of, as a last guard.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from airshift.errors import AirshiftError

Side = Literal["old", "new"]
Action = Literal["cutover", "rollback"]
SCHEMA_VERSION = 1
MASK = "***"

_metadata = MetaData()
steps_table = Table(
    "airshift_cutover_step",
    _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(40), nullable=False),  # UTC ISO 8601: sorts as text on every backend
    Column("attempt", String(40), nullable=False),
    Column("wave", String(200), nullable=False),
    Column("dag_id", String(250), nullable=False, index=True),
    Column("action", String(20), nullable=False),
    Column("step", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("owner", String(10), nullable=True),
    Column("message", Text, nullable=False, default=""),
    Column("detail", Text, nullable=False, default="{}"),
)
meta_table = Table(
    "airshift_cutover_meta",
    _metadata,
    Column("name", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)


@dataclass(frozen=True)
class Step:
    id: int
    at: dt.datetime
    attempt: str
    wave: str
    dag_id: str
    action: str
    step: str
    status: str
    owner: Side | None
    message: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "attempt": self.attempt,
            "wave": self.wave,
            "dag_id": self.dag_id,
            "action": self.action,
            "step": self.step,
            "status": self.status,
            "owner": self.owner,
            "message": self.message,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Ownership:
    side: Side
    since: dt.datetime
    wave: str


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Journal:
    """Append-only step log. Thread-safe for one writer process with many threads (cutover's workers)
    and any number of reader processes."""

    def __init__(self, engine: Engine, location: str, secrets: Iterable[str] = ()) -> None:
        self.engine = engine
        self.location = location
        self._secrets = sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True)
        self._lock = threading.Lock()
        self._create_or_check_schema()

    def _create_or_check_schema(self) -> None:
        """Create the tables and the schema version, or check the version of an existing journal.
        Processes that open a new journal at the same moment (`cutover run` creating it while `status`
        or the router reads it) race to create the tables and write the version: the loser sees "already
        exists" or a unique-key failure, and on its next attempt finds the winner's journal."""
        for attempt in range(5):
            try:
                _metadata.create_all(self.engine)
                with self.engine.begin() as connection:
                    version = connection.execute(
                        select(meta_table.c.value).where(meta_table.c.name == "schema_version")
                    ).scalar()
                    if version is None:
                        connection.execute(
                            insert(meta_table).values(name="schema_version", value=str(SCHEMA_VERSION))
                        )
                        return
            except SQLAlchemyError as error:
                if attempt == 4:
                    raise AirshiftError(
                        f"journal {self.location} cannot be used: {_first_line(error)}"
                    ) from None
                time.sleep(0.05 * (attempt + 1))
                continue
            if version != str(SCHEMA_VERSION):
                raise AirshiftError(
                    f"journal {self.location} has schema version {version}; this airshift writes {SCHEMA_VERSION}"
                )
            return

    def add_secrets(self, secrets: Iterable[str]) -> None:
        self._secrets = sorted(
            {*self._secrets, *(s for s in secrets if s and len(s) >= 3)}, key=len, reverse=True
        )

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text

    # -- writing ------------------------------------------------------------------------------------

    def record_step(
        self,
        dag_id: str,
        step: str,
        *,
        wave: str,
        action: Action | str = "cutover",
        status: str = "ok",
        owner: Side | None = None,
        message: str = "",
        detail: dict[str, Any] | None = None,
        attempt: str = "",
    ) -> Step:
        """Append one step. `owner` is set on the steps that move a DAG from one side to the other."""
        at = now()
        detail_text = self.redact(json.dumps(detail or {}, sort_keys=True, default=str))
        values = {
            "at": at.isoformat(),
            "attempt": attempt,
            "wave": wave,
            "dag_id": dag_id,
            "action": str(action),
            "step": step,
            "status": status,
            "owner": owner,
            "message": self.redact(message)[:2000],
            "detail": detail_text,
        }
        try:
            with self._lock, self.engine.begin() as connection:
                new_id = connection.execute(insert(steps_table).values(**values)).inserted_primary_key
        except SQLAlchemyError as error:
            raise AirshiftError(
                f"journal {self.location}: cannot record a step: {_first_line(error)}"
            ) from None
        return Step(
            id=int(new_id[0]) if new_id else 0,
            at=at,
            attempt=attempt,
            wave=wave,
            dag_id=dag_id,
            action=str(action),
            step=step,
            status=status,
            owner=owner,
            message=str(values["message"]),
            detail=json.loads(detail_text),
        )

    # -- reading ------------------------------------------------------------------------------------

    def steps(self, dag_id: str | None = None, *, after_id: int = 0) -> list[Step]:
        """Every step in order (of one DAG, when given), optionally only those after a step id."""
        query = select(steps_table).where(steps_table.c.id > after_id).order_by(steps_table.c.id)
        if dag_id is not None:
            query = query.where(steps_table.c.dag_id == dag_id)
        return list(self._read(query))

    def _read(self, query: Any) -> Iterator[Step]:
        try:
            with self.engine.connect() as connection:
                rows = connection.execute(query).mappings().all()
        except SQLAlchemyError as error:
            raise AirshiftError(f"journal {self.location} cannot be read: {_first_line(error)}") from None
        for row in rows:
            yield _step(row)

    def ownership(self) -> dict[str, Ownership]:
        """Every DAG the journal knows -> its owner now, since when, in which wave."""
        latest = (
            select(steps_table.c.dag_id, func.max(steps_table.c.id).label("last"))
            .where(steps_table.c.owner.is_not(None))
            .group_by(steps_table.c.dag_id)
            .subquery()
        )
        query = select(steps_table).join(latest, steps_table.c.id == latest.c.last)
        result = {}
        for step in self._read(query):
            assert step.owner is not None
            result[step.dag_id] = Ownership(step.owner, step.at, step.wave)
        return result

    def owner_of(self, dag_id: str) -> Side | None:
        """ "old", "new", or None for a DAG no cutover has touched (it is where it always was: old)."""
        query = (
            select(steps_table)
            .where(steps_table.c.dag_id == dag_id, steps_table.c.owner.is_not(None))
            .order_by(steps_table.c.id.desc())
            .limit(1)
        )
        found = list(self._read(query))
        return found[0].owner if found else None

    def last_step(self, dag_id: str, step: str | None = None, *, action: str | None = None) -> Step | None:
        """The newest step of a DAG (of one name and/or action, when given)."""
        query = select(steps_table).where(steps_table.c.dag_id == dag_id)
        if step is not None:
            query = query.where(steps_table.c.step == step)
        if action is not None:
            query = query.where(steps_table.c.action == action)
        found = list(self._read(query.order_by(steps_table.c.id.desc()).limit(1)))
        return found[0] if found else None

    def open_attempt(self, dag_id: str, action: str) -> list[Step]:
        """The steps of an attempt that started and never finished (a run killed in the middle), or []:
        from its `start` step on, when no `done` or `returned` followed it."""
        mine = [step for step in self.steps(dag_id) if step.action == action]
        start = max((i for i, step in enumerate(mine) if step.step == "start"), default=None)
        if start is None:
            return []
        attempt = mine[start:]
        if any(step.step in TERMINAL_STEPS for step in attempt):
            return []
        return attempt

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


# Steps that end an attempt: the DAG switched, or was given back to the side it came from.
TERMINAL_STEPS = frozenset({"done", "returned"})


def _step(row: Any) -> Step:
    owner = row["owner"]
    try:
        detail = json.loads(row["detail"] or "{}")
    except ValueError:
        detail = {}
    return Step(
        id=int(row["id"]),
        at=dt.datetime.fromisoformat(row["at"]),
        attempt=row["attempt"],
        wave=row["wave"],
        dag_id=row["dag_id"],
        action=row["action"],
        step=row["step"],
        status=row["status"],
        owner=owner if owner in ("old", "new") else None,
        message=row["message"] or "",
        detail=detail if isinstance(detail, dict) else {},
    )


def _first_line(error: Exception) -> str:
    original = getattr(error, "orig", None)
    text = str(original if original is not None else error).strip().splitlines() or ["unknown error"]
    return text[0][:300]


def is_url(location: str) -> bool:
    return "://" in location


def display_location(location: str) -> str:
    """The journal's location with any password hidden."""
    if not is_url(location):
        return location
    try:
        return make_url(location).render_as_string(hide_password=True)
    except ArgumentError:
        return "<journal URL>"


def empty_journal(location: str, secrets: Sequence[str] = ()) -> Journal:
    """An in-memory journal standing in for one that does not exist yet, so that commands which only
    read (`cutover plan`, `cutover status`) leave no file behind."""
    from sqlalchemy.pool import StaticPool

    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    return Journal(engine, f"{display_location(location)} (not created yet)", secrets)


def open_journal(location: str | Path, secrets: Sequence[str] = (), *, create: bool = True) -> Journal:
    """Open (creating if needed) the journal at an SQLite file path or a database URL
    (`sqlite:///path`, `postgresql://user@host/db`; a password comes inside the URL, read from a file
    or an environment variable by the plan, and is never shown)."""
    text = str(location)
    shown = display_location(text)
    if not is_url(text):
        path = Path(text)
        if not create and not path.exists():
            return empty_journal(text, secrets)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                path.touch(mode=0o600)
        except OSError as error:
            raise AirshiftError(f"journal {path}: {error.strerror or error}") from None
        engine = _sqlite_engine(path)
        return Journal(engine, shown, secrets)
    try:
        url = make_url(text)
    except ArgumentError:
        raise AirshiftError(f"journal {shown!r} is neither a file path nor a database URL") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database:
            raise AirshiftError(f"journal {shown}: the SQLite URL names no file")
        return open_journal(Path(url.database), secrets, create=create)
    if backend != "postgresql":
        raise AirshiftError(f"journal {shown}: only SQLite files and postgresql:// URLs are supported")
    from airshift.state.dburl import _pick_driver

    driver = _pick_driver("postgresql", url.get_driver_name() if "+" in url.drivername else None)
    url = url.set(drivername=f"postgresql+{driver}")
    engine = create_engine(url, pool_pre_ping=True)
    password = url.password
    return Journal(engine, shown, [*secrets, *([str(password)] if password else [])])


def _sqlite_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path.resolve()}", connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: object) -> None:
        cursor = dbapi_connection.cursor()
        # WAL: readers (the router, `cutover status`) never block the writer, nor it them.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    if os.name == "posix":
        os.chmod(path, 0o600)
    return engine
