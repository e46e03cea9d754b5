"""Static facts about a DAG's schedule, read from its constructor call: enough to know the constant
period between runs (for prev_ds and friends) and whether it is a cron expression (whose meaning changed
in Airflow 3)."""

from __future__ import annotations

import ast
import datetime as dt
import re

from airshift.upgrade.context import FileContext
from airshift.upgrade.dag_calls import callee_last, dag_calls, keyword
from airshift.upgrade.templates import Schedule

PRESET_PERIODS: dict[str, dt.timedelta | None] = {
    "@hourly": dt.timedelta(hours=1),
    "@daily": dt.timedelta(days=1),
    "@weekly": dt.timedelta(days=7),
    "@monthly": None,  # months differ in length
    "@quarterly": None,
    "@yearly": None,
    "@annually": None,
    "@once": None,
    "@continuous": None,
}
CRON_PRESETS = frozenset({"@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly", "@annually"})
_NUMBER = re.compile(r"^\d+$")
_DEFAULT = Schedule(dt.timedelta(days=1), "the default daily schedule of Airflow 1.10/2.x")


def schedule_argument(call: ast.Call) -> ast.expr | None:
    for name in ("schedule", "schedule_interval", "timetable"):
        item = keyword(call, name)
        if item is not None:
            return item.value
    return None


def is_cron_string(value: str) -> bool:
    return value in CRON_PRESETS or (not value.startswith("@") and len(value.split()) == 5)


def cron_period(expression: str) -> dt.timedelta | None:
    """The constant period of simple cron expressions: 'M H * * *' is daily, 'M * * * *' hourly, 'M H * * D'
    weekly; anything else (lists, ranges, steps that do not divide evenly) has no constant period."""
    fields = expression.split()
    if len(fields) != 5:
        return None
    minute, hour, day, month, weekday = fields
    if day != "*" or month != "*" or not _NUMBER.match(minute):
        return None
    if hour == "*" and weekday == "*":
        return dt.timedelta(hours=1)
    if not _NUMBER.match(hour):
        step = re.fullmatch(r"\*/(\d+)", hour)
        if step and weekday == "*" and 24 % int(step.group(1)) == 0:
            return dt.timedelta(hours=int(step.group(1)))
        return None
    if weekday == "*":
        return dt.timedelta(days=1)
    if _NUMBER.match(weekday):
        return dt.timedelta(days=7)
    return None


def _timedelta_value(ctx: FileContext, node: ast.expr) -> dt.timedelta | None:
    if not isinstance(node, ast.Call) or len(node.args) > 1:
        return None
    qualified = ctx.imports.qualified(node.func) or ""
    if not qualified.endswith("timedelta"):
        return None
    values: dict[str, float] = {}
    if node.args:
        if not isinstance(node.args[0], ast.Constant) or not isinstance(node.args[0].value, (int, float)):
            return None
        values["days"] = node.args[0].value
    for item in node.keywords:
        if item.arg is None or not isinstance(item.value, ast.Constant):
            return None
        if not isinstance(item.value.value, (int, float)):
            return None
        values[item.arg] = item.value.value
    try:
        return dt.timedelta(**values)
    except TypeError:
        return None


def schedule_of(ctx: FileContext, call: ast.Call) -> Schedule:
    value = schedule_argument(call)
    if value is None:
        return _DEFAULT if ctx.source_version in ("1.10", "2") else Schedule(None, "no schedule")
    written_out = ("CronDataIntervalTimetable", "DeltaDataIntervalTimetable")
    if isinstance(value, ast.Call) and value.args and callee_last(value) in written_out:
        value = value.args[0]  # the same schedule, written out by AS801/AS803
    if isinstance(value, ast.Name):
        value = module_constant(ctx, value.id) or value
    if _is_asset_schedule(value):
        return Schedule(None, ctx.segment(value), assets=True)
    if isinstance(value, ast.Constant) and value.value is None:
        return Schedule(None, "None", manual_only=ctx.source_version in ("1.10", "2"))
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        text = value.value.strip()
        if text in PRESET_PERIODS:
            return Schedule(PRESET_PERIODS[text], f"'{text}'")
        if is_cron_string(text):
            return Schedule(cron_period(text), f"cron '{text}'")
        return Schedule(None, f"'{text}'")
    delta = _timedelta_value(ctx, value)
    if delta is not None:
        return Schedule(delta, f"every {delta}")
    return Schedule(None, ctx.segment(value))


_ASSET_CLASSES = ("Dataset", "Asset", "DatasetAll", "DatasetAny", "AssetAll", "AssetAny")


def _is_asset_schedule(value: ast.expr) -> bool:
    """schedule=[Dataset(...), ...], Dataset(...) & Dataset(...), AssetAny(...), ..."""
    if isinstance(value, (ast.List, ast.Tuple)):
        return bool(value.elts)
    if isinstance(value, ast.BinOp) and isinstance(value.op, (ast.BitAnd, ast.BitOr)):
        return True
    if isinstance(value, ast.Call):
        return callee_last(value) in _ASSET_CLASSES
    return False


def module_constant(ctx: FileContext, name: str) -> ast.expr | None:
    """The value of a module-level name assigned exactly once (`SCHEDULE = "0 6 * * *"`), else None."""
    values = [
        statement.value
        for statement in ctx.tree.body
        if isinstance(statement, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == name for t in statement.targets)
    ]
    stores = [n for n in ctx.nodes.names.get(name, []) if not isinstance(n.ctx, ast.Load)]
    return values[0] if len(values) == 1 and len(stores) == 1 else None


def file_schedule(ctx: FileContext) -> Schedule | None:
    """The schedule shared by every DAG in the file, or None when there are several different ones."""
    return ctx.memo("file_schedule", lambda: _file_schedule(ctx))


def _file_schedule(ctx: FileContext) -> Schedule | None:
    schedules = {schedule_of(ctx, call) for call in dag_calls(ctx)}
    if len(schedules) == 1:
        return next(iter(schedules))
    return None
