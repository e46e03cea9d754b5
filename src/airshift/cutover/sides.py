"""The two Airflows of a plan, opened once per command: REST clients, metadata database access and the
journal, with every credential the plan points at registered for redaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from airshift.cutover.airflow_rest import (
    AirflowClient,
    connect_side,
    plan_secrets,
    side_db_password,
    side_db_url,
)
from airshift.cutover.journal import Journal, open_journal
from airshift.cutover.plan import CutoverPlan
from airshift.errors import AirshiftError
from airshift.state.secret import Secret

Side = Literal["old", "new"]


@dataclass(frozen=True)
class DbAccess:
    """A metadata database: its URL without a password, and the password apart (never printed)."""

    url: str
    password: Secret | None
    shown: str


def db_access(plan: CutoverPlan, side: Side) -> DbAccess | None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    raw = side_db_url(plan, side)
    if raw is None:
        return None
    try:
        url = make_url(raw)
    except ArgumentError:
        raise AirshiftError(
            f"{plan.path}: [{side}] the metadata database URL is not a database URL"
        ) from None
    password = url.password or side_db_password(plan, side)
    bare = url.set(password=None)
    return DbAccess(
        url=bare.render_as_string(hide_password=False),
        password=Secret(str(password)) if password else None,
        shown=bare.render_as_string(hide_password=True),
    )


@dataclass
class Sides:
    plan: CutoverPlan
    old: AirflowClient
    new: AirflowClient
    journal: Journal
    old_db: DbAccess | None
    new_db: DbAccess | None

    def client(self, side: Side) -> AirflowClient:
        return self.old if side == "old" else self.new

    def db(self, side: Side) -> DbAccess | None:
        return self.old_db if side == "old" else self.new_db

    def close(self) -> None:
        for closable in (self.old, self.new, self.journal):
            closable.close()

    def __enter__(self) -> Sides:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def open_journal_of(plan: CutoverPlan, *, create: bool = True) -> Journal:
    """The plan's journal; with `create=False` a missing journal file is not created (read-only use)."""
    return open_journal(plan.journal, plan_secrets(plan), create=create)


def open_sides(plan: CutoverPlan, *, create_journal: bool = True) -> Sides:
    journal = open_journal_of(plan, create=create_journal)
    try:
        old = connect_side(plan, "old")
        try:
            new = connect_side(plan, "new")
        except BaseException:
            old.close()
            raise
        return Sides(plan, old, new, journal, db_access(plan, "old"), db_access(plan, "new"))
    except BaseException:
        journal.close()
        raise
