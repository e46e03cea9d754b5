"""The transfer plan: for every object, what the transfer will do to the target and why.

A plan holds no secret values (only kinds, ids, actions and reasons), so it can be printed as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from airshift.state.model import StateObject

Action = Literal["create", "update", "skip", "conflict"]


@dataclass
class PlanItem:
    obj: StateObject
    action: Action
    reason: str
    fingerprint: str = ""
    # True when the target already holds exactly this object because a killed run wrote it: the
    # ledger entry is left `pending` and only needs to be marked done.
    confirm_pending: bool = False

    @property
    def kind(self) -> str:
        return self.obj.kind

    @property
    def ident(self) -> str:
        return self.obj.ident


@dataclass
class Plan:
    target: str
    items: list[PlanItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        totals = {"create": 0, "update": 0, "skip": 0, "conflict": 0}
        for item in self.items:
            totals[item.action] += 1
        return totals

    def writes(self) -> list[PlanItem]:
        return [item for item in self.items if item.action in ("create", "update")]

    def conflicts(self) -> list[PlanItem]:
        return [item for item in self.items if item.action == "conflict"]
