"""Keyword arguments the target class does not take (AS315) and required ones not given (AS316).

Airflow 1.10 only warned about unknown arguments; 2.0 and later raise "Invalid arguments were passed" when
the DAG file is parsed, and a provider release can drop or rename an argument (`topic_project`,
`request_filter`) or make one required. The accepted and required keyword arguments of each operator
and sensor on the target come from tables/signatures.json, generated from the real wheels by
scripts/generate_signatures.py. The class checked is the one the call ends up calling on the target
(after the import moves), and keywords other rules rewrite or report are left to them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

from airshift.upgrade.context import FileContext
from airshift.upgrade.dag_calls import call_sites, default_args_keys
from airshift.upgrade.model import Category, Finding, FixSafety, RuleMeta
from airshift.upgrade.registry import owned_arguments, owned_names

UNKNOWN_ARGUMENT = RuleMeta(
    code="AS315",
    name="unknown-keyword-argument",
    title="Keyword argument the target class does not take",
    why="Airflow 2.0+ raises 'Invalid arguments were passed' for keywords an operator does not accept "
    "(1.10 only warned); provider releases removed and renamed arguments (tables from the real wheels).",
    category=Category.REQUIRED,
    fix=FixSafety.NONE,
    deprecated_from="2.0",
    removed_in="2.0",
    limits="Classes whose constructor chain cannot be read statically (a base outside the wheels read, "
    "*args, **kwargs kept by the class) are not checked; targets 3.0-3.2 are checked against 3.3's "
    "providers and task SDK.",
)
MISSING_ARGUMENT = RuleMeta(
    code="AS316",
    name="missing-required-argument",
    title="Required keyword argument of the target class not given",
    why="Provider releases made arguments required; the DAG fails to parse without them "
    "(tables from the real wheels).",
    category=Category.REQUIRED,
    fix=FixSafety.NONE,
    deprecated_from="2.0",
    removed_in="2.0",
    limits="An argument given through default_args counts as given; one given through **kwargs or a "
    "helper function is not seen, so calls with **kwargs are not checked.",
)


@cache
def _table(target: str) -> dict[str, Any]:
    data = resources.files("airshift.upgrade").joinpath("tables/signatures.json").read_bytes()
    table: dict[str, Any] = json.loads(data)["targets"][target]
    table["base_set"] = frozenset(table["base"])
    return table


class UnknownArguments:
    metas: tuple[RuleMeta, ...] = (UNKNOWN_ARGUMENT, MISSING_ARGUMENT)

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if not ctx.imports.imports_airflow():
            return
        table = _table("3.3" if ctx.target >= (3, 0) else "2.11")
        classes: dict[str, Any] = table["classes"]
        base: frozenset[str] = table["base_set"]
        given_by_default: set[str] | None = None
        owned, adapted = owned_arguments(), owned_names()  # other rules speak for these
        for site in call_sites(ctx).airflow:
            call, qualified = site.node, site.qualified
            assert qualified is not None  # an Airflow call is resolved
            if not call.keywords or qualified in adapted:
                continue
            resolution = ctx.table.resolve(qualified, ctx.target)
            final = resolution.new if resolution is not None else qualified
            if resolution is not None and any(hop.new in adapted for hop in resolution.hops):
                continue  # a call adapter rewrites this call's arguments
            entry = classes.get(final or "")
            if entry is None or any(item.arg is None for item in call.keywords):
                continue
            short = (final or "").rpartition(".")[2]
            own = entry["own"]
            not_base = entry.get("not_base", ())
            given = {item.arg for item in call.keywords}
            for item in call.keywords:
                name = item.arg
                if name is None or name in owned or name in own or (name in base and name not in not_base):
                    continue
                yield ctx.finding(
                    UNKNOWN_ARGUMENT, item,
                    f"{short} does not take `{name}=` on the target (Airflow raises 'Invalid arguments were "
                    "passed'): remove it or use the argument that replaced it"
                )  # fmt: skip
            missing = [r for r in entry["required"] if r not in given]
            if missing and not call.args and given.isdisjoint(owned):  # pending renames may supply them
                if given_by_default is None:
                    given_by_default = default_args_keys(ctx)
                missing = [r for r in missing if r not in given_by_default]
                if missing:
                    yield ctx.finding(
                        MISSING_ARGUMENT, call,
                        f"{short} requires {', '.join(f'`{m}=`' for m in missing)} on the target"
                    )  # fmt: skip
