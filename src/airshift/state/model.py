"""The environment objects a transfer moves, independent of any Airflow version.

Secret-bearing fields (variable values, connection passwords and extras) are `Secret`s: they print as
a mask everywhere except where a writer deliberately reveals them to the target.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from airshift.state.secret import Secret

Kind = Literal["variables", "connections", "pools", "paused"]
ALL_KINDS: tuple[Kind, ...] = ("variables", "connections", "pools", "paused")


@dataclass(frozen=True)
class Variable:
    key: str
    value: Secret
    description: str | None = None

    kind: ClassVar[Kind] = "variables"

    @property
    def ident(self) -> str:
        return self.key


@dataclass(frozen=True)
class Connection:
    conn_id: str
    conn_type: str
    host: str | None = None
    schema: str | None = None
    login: str | None = None
    password: Secret | None = None
    port: int | None = None
    extra: Secret | None = None
    description: str | None = None

    kind: ClassVar[Kind] = "connections"

    @property
    def ident(self) -> str:
        return self.conn_id


@dataclass(frozen=True)
class Pool:
    name: str
    slots: int
    description: str | None = None
    include_deferred: bool = False

    kind: ClassVar[Kind] = "pools"

    @property
    def ident(self) -> str:
        return self.name


@dataclass(frozen=True)
class PausedState:
    dag_id: str
    is_paused: bool

    kind: ClassVar[Kind] = "paused"

    @property
    def ident(self) -> str:
        return self.dag_id


StateObject = Variable | Connection | Pool | PausedState


@dataclass
class SourceState:
    """Everything read from a source, per kind, plus notes on what the source could not provide."""

    variables: list[Variable]
    connections: list[Connection]
    pools: list[Pool]
    paused: list[PausedState]
    notes: list[str]

    @classmethod
    def empty(cls) -> SourceState:
        return cls([], [], [], [], [])

    def objects(self, kinds: tuple[Kind, ...]) -> list[StateObject]:
        found: list[StateObject] = []
        for kind in ALL_KINDS:
            if kind in kinds:
                found.extend(getattr(self, kind))
        return found
