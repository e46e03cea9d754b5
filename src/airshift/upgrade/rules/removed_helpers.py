"""Removed helpers that DAG files call: days_ago, DAG.cli(), @apply_defaults."""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Iterator

from airshift.upgrade.context import FileContext
from airshift.upgrade.dag_calls import call_sites
from airshift.upgrade.model import Category, Edit, Finding, FixSafety, ImportSpec, RuleMeta
from airshift.upgrade.walk import walk

DAYS_AGO = RuleMeta(
    code="AS401",
    name="days-ago",
    title="`days_ago(n)` -> an explicit pendulum datetime",
    why="airflow.utils.dates.days_ago was deprecated in Airflow 2.3 and removed in 3.0; a moving start_date "
    "also makes every parse a new DAG version in 3.x.",
    category=Category.REQUIRED,
    fix=FixSafety.SAFE,
    deprecated_from="2.3",
    removed_in="3.0",
)
DAG_CLI = RuleMeta(
    code="AS402",
    name="dag-cli",
    title="`dag.cli()` -> `dag.test()`",
    why="Airflow 3.0 removed DAG.cli(); DAG.test() (Airflow 2.5+) runs the DAG from its file instead.",
    category=Category.REQUIRED,
    fix=FixSafety.UNSAFE,
    deprecated_from="2.5",
    removed_in="3.0",
)
APPLY_DEFAULTS = RuleMeta(
    code="AS403",
    name="apply-defaults",
    title="`@apply_defaults` removed",
    why="Airflow 2.0 applies default_args to every operator automatically; 3.0 removed the decorator.",
    category=Category.REQUIRED,
    fix=FixSafety.SAFE,
    deprecated_from="2.0",
    removed_in="3.0",
)

_DAYS_AGO_NAMES = {"airflow.utils.dates.days_ago"}
_APPLY_DEFAULTS_NAMES = {"airflow.utils.decorators.apply_defaults", "airflow.utils.apply_defaults"}
_TIME_PARTS = ("hour", "minute", "second", "microsecond")


def _int_literal(node: ast.expr) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _int_literal(node.operand)
        return -inner if inner is not None else None
    return None


class RemovedHelpers:
    metas: tuple[RuleMeta, ...] = (DAYS_AGO, DAG_CLI, APPLY_DEFAULTS)
    rewritten_uses = frozenset({"airflow.utils.dates.days_ago", "airflow.utils.decorators.apply_defaults"})

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if not ctx.imports.imports_airflow():
            return
        for site in call_sites(ctx).all:
            if site.qualified in _DAYS_AGO_NAMES:
                yield self._days_ago(ctx, site.node)
        yield from self._dag_cli(ctx)
        yield from self._apply_defaults(ctx)

    def _days_ago(self, ctx: FileContext, call: ast.Call) -> Finding:
        pendulum = ImportSpec("pendulum")
        if len(call.args) != 1 or any(k.arg not in _TIME_PARTS for k in call.keywords):
            return ctx.finding(DAYS_AGO, call, "days_ago() with unusual arguments: replace by hand")
        days = _int_literal(call.args[0])
        parts = {k.arg: _int_literal(k.value) for k in call.keywords}
        if days is None or any(v is None for v in parts.values()):
            # Not a literal: keep the moving date, written explicitly.
            amount = ctx.segment(call.args[0])
            text = f'pendulum.today("UTC").subtract(days={amount})'
            for name in _TIME_PARTS:
                keyword = next((k for k in call.keywords if k.arg == name), None)
                if keyword is not None:
                    text += f".replace({name}={ctx.segment(keyword.value)})"
            return ctx.finding(
                DAYS_AGO,
                call,
                f"`days_ago(...)` is `{text}`",
                edits=[ctx.replace(call, text)],
                imports=[pendulum],
            )
        today = (
            dt.date.fromisoformat(ctx.settings.today)
            if ctx.settings.today
            else dt.datetime.now(dt.timezone.utc).date()
        )
        day = today - dt.timedelta(days=days)
        values = [parts.get(n) or 0 for n in _TIME_PARTS]
        while values and values[-1] == 0:
            values.pop()
        time_args = "".join(f", {v}" for v in values)
        text = f'pendulum.datetime({day.year}, {day.month}, {day.day}{time_args}, tz="UTC")'
        return ctx.finding(
            DAYS_AGO,
            call,
            f"`days_ago({days})` moved every day; fixed to {day.isoformat()}, the date it gave on the day of migration",
            edits=[ctx.replace(call, text)],
            imports=[pendulum],
        )

    def _dag_cli(self, ctx: FileContext) -> Iterator[Finding]:
        for block in ctx.nodes.ifs:
            if not _is_main_guard(block.test):
                continue
            for node in walk(block):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "cli"
                    and not node.args
                    and not node.keywords
                ):
                    start = ctx.end(node.func) - len("cli")
                    yield ctx.finding(
                        DAG_CLI,
                        node,
                        "`dag.cli()` was removed; `dag.test()` runs the DAG from its file",
                        edits=[Edit(start, ctx.end(node.func), "test")],
                    )

    def _apply_defaults(self, ctx: FileContext) -> Iterator[Finding]:
        for function in ctx.nodes.functions:
            for decorator in function.decorator_list:
                qualified = ctx.imports.qualified(decorator)
                if qualified not in _APPLY_DEFAULTS_NAMES:
                    continue
                at = ctx.text.rfind("@", 0, ctx.start(decorator))
                whole = ctx.owns_lines(at, ctx.end(decorator))
                edits = [Edit(whole[0], whole[1], "")] if whole else []
                yield ctx.finding(
                    APPLY_DEFAULTS,
                    decorator,
                    "`@apply_defaults` does nothing since Airflow 2.0; removed",
                    edits=edits,
                )


def _is_main_guard(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )
