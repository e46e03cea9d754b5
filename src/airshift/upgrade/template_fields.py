"""Which arguments of which operator are Jinja templates: the generated table (tables/template_fields.json,
from scripts/generate_template_fields.py), plus `template_fields` declared by operator classes in the file
being migrated."""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from airshift.upgrade.context import FileContext
from airshift.upgrade.dag_calls import callee_name


@dataclass(frozen=True)
class Templated:
    fields: frozenset[str]
    extensions: tuple[str, ...]


@cache
def _table() -> dict[str, Templated]:
    try:
        text = (
            resources.files("airshift.upgrade")
            .joinpath("tables/template_fields.json")
            .read_text(encoding="utf-8")
        )
    except FileNotFoundError:
        return {}
    classes = json.loads(text).get("classes", {})
    return {
        name: Templated(frozenset(entry.get("fields", ())), tuple(entry.get("ext", ())))
        for name, entry in classes.items()
    }


def _local_class(ctx: FileContext, name: str) -> Templated | None:
    for cls in ctx.nodes.classes:
        if cls.name != name:
            continue
        fields: list[str] = []
        extensions: list[str] = []
        for statement in cls.body:
            targets: list[ast.expr] = []
            value: ast.expr | None = None
            if isinstance(statement, ast.Assign):
                targets, value = statement.targets, statement.value
            elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
                targets, value = [statement.target], statement.value
            for target in targets:
                if isinstance(target, ast.Name) and isinstance(value, (ast.Tuple, ast.List)):
                    strings = [
                        e.value
                        for e in value.elts
                        if isinstance(e, ast.Constant) and isinstance(e.value, str)
                    ]
                    if target.id == "template_fields":
                        fields = strings
                    elif target.id == "template_ext":
                        extensions = strings
        if fields:
            return Templated(frozenset(fields), tuple(extensions))
    return None


def templated_for(ctx: FileContext, call: ast.Call) -> Templated | None:
    """The templated arguments of the class a call instantiates, when known. The answer depends only on
    the callee's names, and a file calls the same few classes again and again: it is kept per file."""
    names = callee_name(ctx, call)
    known: dict[tuple[str | None, str], Templated | None] = ctx.memo("templated_for", dict)
    if names not in known:
        known[names] = _templated_for(ctx, *names)
    return known[names]


def _templated_for(ctx: FileContext, qualified: str | None, last: str) -> Templated | None:
    table = _table()
    if qualified is not None:
        # A field templated before or after the move is a template: the union over the move chain.
        chain = [qualified]
        resolution = ctx.table.resolve(qualified, ctx.target)
        if resolution is not None:
            chain += [hop.new for hop in resolution.hops if hop.new]
        known = [table[name] for name in chain if name in table]
        if known:
            return Templated(
                frozenset().union(*(k.fields for k in known)),
                tuple(dict.fromkeys(e for k in known for e in k.extensions)),
            )
    return _local_class(ctx, last)


@cache
def all_extensions() -> tuple[str, ...]:
    """Every template_ext of every known operator: a string ending so may name a template file."""
    return tuple(sorted({e for templated in _table().values() for e in templated.extensions}))
