"""The rule interface, the registry of all rules, and --select/--ignore handling."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from airshift.errors import AirshiftError
from airshift.upgrade.context import FileContext
from airshift.upgrade.model import Finding, RuleMeta


class Rule(Protocol):
    """A rule (or a tight family of rules) declares the codes it may report and checks one file.

    A rule may also declare what it owns, so other rules leave it alone (collected below, never listed by
    hand in another rule):
    - `owned_names`: qualified names whose rename changes the call's arguments; the rule rewrites the call
      and the import together, and the import rule stops its move chain before them.
    - `owned_arguments`: keyword arguments the rule renames, removes or reports; the unknown-argument rule
      does not report them again.
    - `rewritten_uses`: removed names whose uses the rule rewrites; the import rule does not report their
      import as well (it goes by itself once unused).
    """

    metas: tuple[RuleMeta, ...]

    def check(self, ctx: FileContext) -> Iterator[Finding]: ...


def all_rules() -> list[Rule]:
    """Every rule, in the order they run. Adding a rule means adding it to rules/__init__.py only."""
    from airshift.upgrade.rules import RULES

    return list(RULES)


@functools.cache
def owned_names() -> frozenset[str]:
    """Every qualified name some rule declares it rewrites together with its call."""
    return frozenset(name for rule in all_rules() for name in getattr(rule, "owned_names", ()))


@functools.cache
def owned_arguments() -> frozenset[str]:
    """Every keyword argument some rule declares it renames, removes or reports."""
    return frozenset(name for rule in all_rules() for name in getattr(rule, "owned_arguments", ()))


@functools.cache
def rewritten_uses() -> frozenset[str]:
    """Every removed name some rule declares it rewrites the uses of."""
    return frozenset(name for rule in all_rules() for name in getattr(rule, "rewritten_uses", ()))


def all_metas() -> list[RuleMeta]:
    return sorted((meta for rule in all_rules() for meta in rule.metas), key=lambda m: m.code)


@dataclass(frozen=True)
class Selection:
    """Which codes are on. A prefix selects a family: AS1 selects AS101, AS102, ..."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    def accepts(self, code: str) -> bool:
        if any(code.startswith(prefix) for prefix in self.ignore):
            return False
        return not self.select or any(code.startswith(prefix) for prefix in self.select)

    def rules(self) -> list[Rule]:
        return [rule for rule in all_rules() if any(self.accepts(meta.code) for meta in rule.metas)]

    def validate(self) -> None:
        known = [meta.code for meta in all_metas()]
        for prefix in (*self.select, *self.ignore):
            if prefix.upper() == "ALL":
                continue
            if not any(code.startswith(prefix) for code in known):
                raise AirshiftError(f"unknown rule code {prefix!r}; see `airshift scan --list-rules`")

    @classmethod
    def parse(cls, select: Iterable[str], ignore: Iterable[str]) -> Selection:
        def split(values: Iterable[str]) -> tuple[str, ...]:
            out = [p.strip().upper() for v in values for p in v.split(",") if p.strip()]
            return tuple(p for p in out if p != "ALL")

        return cls(split(select), split(ignore))
