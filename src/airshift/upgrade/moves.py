"""The generated table of symbol and module moves (tables/moves.json), resolved for a target version.

Entries chain: a 1.10 contrib path moves to a 2.0 provider path, which a later provider release renamed.
`resolve` follows every hop whose `deprecated_from` the target has reached, so one lookup gives the name
to write for that target.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from airshift.upgrade.model import Category, Requirement
from airshift.upgrade.versions import Version, at_least

_MAX_HOPS = 12


@dataclass(frozen=True)
class Move:
    old: str
    new: str | None
    deprecated_from: str | None
    removed_in: str | None
    note: str | None = None


@dataclass(frozen=True)
class Resolution:
    """Where `old` ends up on the target: `new` is None when it was removed with no replacement."""

    old: str
    new: str | None
    category: Category  # REQUIRED when the old name no longer imports on the target
    hops: tuple[Move, ...]
    note: str | None = None


def _move(old: str, entry: dict[str, Any]) -> Move:
    return Move(
        old, entry.get("new"), entry.get("deprecated_from"), entry.get("removed_in"), entry.get("note")
    )


class MoveTable:
    def __init__(self, data: dict[str, Any]) -> None:
        self.symbols = {old: _move(old, e) for old, e in data.get("moves", {}).items()}
        self.modules = {old: _move(old, e) for old, e in data.get("modules", {}).items()}
        self.providers: dict[str, dict[str, str]] = data.get("providers", {})
        self.sources: dict[str, Any] = data.get("sources", {})
        self._resolved: dict[tuple[str, Version, frozenset[str]], Resolution | None] = {}

    def _hop(self, name: str, target: Version) -> Move | None:
        move = self.symbols.get(name)
        if move is not None:
            return move if at_least(target, move.deprecated_from) else None
        # Fall back to the longest moved module prefix: airflow.contrib.hooks.gcs_hook.x -> new_module.x
        module = name
        while module:
            module_move = self.modules.get(module)
            if module_move is not None:
                if not at_least(target, module_move.deprecated_from):
                    return None
                suffix = name[len(module) :]
                new = module_move.new + suffix if module_move.new else None
                return Move(name, new, module_move.deprecated_from, module_move.removed_in, module_move.note)
            module = module.rpartition(".")[0]
        return None

    def resolve(
        self, name: str, target: Version, stop_before: frozenset[str] = frozenset()
    ) -> Resolution | None:
        """Follow moves from `name` for `target`; None when `name` is fine as it is.

        Memoised: rules ask about the same names for every call and file, and a Resolution is immutable."""
        key = (name, target, stop_before)
        if key in self._resolved:
            return self._resolved[key]
        resolution = self._resolve(name, target, stop_before)
        self._resolved[key] = resolution
        return resolution

    def _resolve(self, name: str, target: Version, stop_before: frozenset[str]) -> Resolution | None:
        hops: list[Move] = []
        current: str | None = name
        seen = {name}
        while current is not None and current not in stop_before and len(hops) < _MAX_HOPS:
            move = self._hop(current, target)
            if move is None:
                break
            hops.append(move)
            current = move.new
            if current in seen:
                break
            if current is not None:
                seen.add(current)
        if not hops:
            return None
        required = any(at_least(target, hop.removed_in) for hop in hops)
        return Resolution(
            old=name,
            new=current,
            category=Category.REQUIRED if required else Category.SUGGESTED,
            hops=tuple(hops),
            note=hops[-1].note,
        )

    def is_module(self, name: str) -> bool:
        return name in self.modules

    def requirement(self, name: str) -> Requirement | None:
        """The provider distribution (and its minimum version) that defines `name`, if any."""
        info = self.providers.get(name)
        if info:
            return Requirement(info["distribution"], info.get("min_version"))
        if name.startswith("airflow.providers."):
            return Requirement(_distribution_from_module(name))
        return None


def _distribution_from_module(name: str) -> str:
    """airflow.providers.cncf.kubernetes.x -> apache-airflow-providers-cncf-kubernetes (two-level names)."""
    parts = name.split(".")[2:]
    two_level = {"apache", "cncf", "common", "microsoft", "dbt", "atlassian", "edge3", "alibaba", "teradata"}
    if parts and parts[0] in two_level and len(parts) > 1:
        return f"apache-airflow-providers-{parts[0]}-{parts[1]}"
    return f"apache-airflow-providers-{parts[0]}" if parts else "apache-airflow"


def _table_bytes() -> bytes:
    override = os.environ.get(
        "AIRSHIFT_MOVES_TABLE"
    )  # a table built with scripts/generate_tables.py elsewhere
    if override:
        with open(override, "rb") as handle:
            return handle.read()
    return resources.files("airshift.upgrade").joinpath("tables/moves.json").read_bytes()


@cache
def load_table() -> MoveTable:
    return MoveTable(json.loads(_table_bytes()))


@cache
def table_fingerprint() -> str:
    """Part of the cache key: a new table invalidates cached results."""
    return hashlib.sha256(_table_bytes()).hexdigest()[:16]


@cache
def _provider_floors() -> dict[str, dict[str, str]]:
    data = resources.files("airshift.upgrade").joinpath("tables/provider_floors.json").read_bytes()
    floors: dict[str, dict[str, str]] = json.loads(data)["targets"]
    return floors


def provider_floor(distribution: str, target: Version) -> str | None:
    """The lowest release of `distribution` that the target Airflow declares compatible (from the
    `apache-airflow` wheel's extras, tables/provider_floors.json), or None when it declares none."""
    return _provider_floors().get(f"{target[0]}.{target[1]}", {}).get(distribution)


def with_floor(requirement: Requirement, target: Version) -> Requirement:
    """`requirement` raised to the target's floor for its distribution: the release written must both have
    every name the DAGs use and support the target Airflow."""
    floor = provider_floor(requirement.distribution, target)
    if floor is None:
        return requirement
    if requirement.min_version is None or newer(floor, requirement.min_version):
        return Requirement(requirement.distribution, floor)
    return requirement


# A large estate's requirements compare the same few versions over and over.
@lru_cache(maxsize=4096)
def newer(a: str, b: str) -> bool:
    """True when version `a` is after version `b` (PEP 440 order)."""
    from packaging.version import InvalidVersion
    from packaging.version import Version as Pep440

    try:
        return Pep440(a) > Pep440(b)
    except InvalidVersion:
        return a > b
