"""Defaults that changed meaning between the source and Airflow 3, written into the DAG so it keeps
behaving as before (unless the user chooses `--adopt-new-defaults`).

- No schedule: 1.10/2.x ran the DAG daily; 3.0 does not schedule it at all.
- No catchup: 1.10/2.x caught up missed intervals (catchup_by_default = True); 3.0 does not.
- A cron string or preset: 1.10/2.x gave each run a data interval ending at the cron tick
  (CronDataIntervalTimetable); 3.0 runs at the tick with a zero-length interval (CronTriggerTimetable), which
  shifts `ds` and every date a task reads by one period.
- A timedelta (or relativedelta) schedule, the old daily default included: the same change,
  DeltaDataIntervalTimetable before, DeltaTriggerTimetable on 3.x ([scheduler] create_delta_data_intervals).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from airshift.upgrade.context import FileContext, keyword_items
from airshift.upgrade.dag_calls import dag_calls, keyword
from airshift.upgrade.model import Category, Edit, Finding, FixSafety, ImportSpec, RuleMeta
from airshift.upgrade.schedule import is_cron_string, module_constant, schedule_argument

DEFAULT_SCHEDULE = RuleMeta(
    code="AS801",
    name="implicit-daily-schedule",
    title="DAG without a schedule: keep it daily",
    why="Airflow 3.0 changed the default schedule from daily (timedelta(days=1)) to None.",
    category=Category.BEHAVIOUR,
    fix=FixSafety.SAFE,
    deprecated_from="3.0",
    removed_in="3.0",
)
DEFAULT_CATCHUP = RuleMeta(
    code="AS802",
    name="implicit-catchup",
    title="DAG without catchup: keep catching up",
    why="Airflow 3.0 changed [scheduler] catchup_by_default from True to False.",
    category=Category.BEHAVIOUR,
    fix=FixSafety.SAFE,
    deprecated_from="3.0",
    removed_in="3.0",
)
CRON_INTERVALS = RuleMeta(
    code="AS803",
    name="cron-data-intervals",
    title="Cron or timedelta schedule: keep data intervals (Cron/DeltaDataIntervalTimetable)",
    why="Airflow 3.0 set [scheduler] create_cron_data_intervals and create_delta_data_intervals to False: "
    "cron strings and timedeltas now mean Cron/DeltaTriggerTimetable, so logical_date and ds move to the "
    "end of what used to be the interval.",
    category=Category.BEHAVIOUR,
    fix=FixSafety.SAFE,
    deprecated_from="3.0",
    removed_in="3.0",
)
CONF_OVERRIDES_PARAMS = RuleMeta(
    code="AS804",
    name="dag-run-conf-overrides-params",
    title="Airflow 1.10 DAG with params: trigger conf now overrides them",
    why="Airflow 2.0 turned [core] dag_run_conf_overrides_params on: values in a triggered run's conf replace "
    "params of the same name.",
    category=Category.BEHAVIOUR,
    fix=FixSafety.NONE,
    deprecated_from="2.0",
    removed_in="2.0",
    sources=("1.10",),  # 2.x already lets conf override params
)
_NO_CATCHUP_NEEDED = {"None", "'@once'", '"@once"'}
_DELTA_TYPES = ("datetime.timedelta", "dateutil.relativedelta.relativedelta")


_NEW_DEFAULTS = (DEFAULT_SCHEDULE, DEFAULT_CATCHUP, CRON_INTERVALS)  # what _schedule reports


class BehaviourDefaults:
    metas: tuple[RuleMeta, ...] = (DEFAULT_SCHEDULE, DEFAULT_CATCHUP, CRON_INTERVALS, CONF_OVERRIDES_PARAMS)

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if not ctx.imports.imports_airflow():
            return
        for call in dag_calls(ctx):
            if any(k.arg is None for k in call.keywords):
                continue  # **kwargs may carry schedule or catchup: cannot tell
            if keyword(call, "params") is not None:
                yield ctx.finding(
                    CONF_OVERRIDES_PARAMS,
                    call,
                    "this DAG has params: on Airflow 2+ a triggered run's "
                    "conf overrides params of the same name (dag_run_conf_overrides_params)",
                )
            if ctx.settings.adopt_new_defaults or not any(map(ctx.acts, _NEW_DEFAULTS)):
                continue
            yield from self._schedule(ctx, call)

    def _insert_point(self, ctx: FileContext, call: ast.Call) -> tuple[int, str]:
        """Where a new keyword goes (after the last argument) and the separator that keeps the layout."""
        items = keyword_items(call)
        if not items:
            opening = ctx.text.index("(", ctx.end(call.func))
            return opening + 1, ""
        last = items[-1]
        end = ctx.end(last)
        if ctx.lines.line_of(ctx.start(items[0])) != ctx.lines.line_of(ctx.start(call)):
            # one argument per line: add a line in the same style (with the trailing comma rule of the call)
            indent = ctx.line_indent(last)
            rest = ctx.text[end : ctx.end(call)]
            if rest.lstrip().startswith(","):
                comma = end + rest.index(",") + 1
                return comma, f"{ctx.lines.newline()}{indent}"
            return end, f",{ctx.lines.newline()}{indent}"
        return end, ", "

    def _add(self, ctx: FileContext, call: ast.Call, text: str) -> Edit:
        position, separator = self._insert_point(ctx, call)
        if separator.startswith(ctx.lines.newline()) and ctx.text[position - 1] == ",":
            return Edit(position, position, f"{separator}{text},")
        return Edit(position, position, f"{separator}{text}")

    def _schedule(self, ctx: FileContext, call: ast.Call) -> Iterator[Finding]:
        value = schedule_argument(call)
        new_schedule = None
        interval_module = "airflow.sdk" if ctx.target >= (3, 2) else "airflow.timetables.interval"
        if value is None:
            imports = [ImportSpec("datetime", "timedelta")] if self._timedelta_free(ctx) else []
            delta = (
                "timedelta(days=1)"
                if imports or _bound_to(ctx, "timedelta", "datetime.timedelta")
                else "datetime.timedelta(days=1)"
            )
            if not imports and delta.startswith("datetime"):
                imports = [ImportSpec("datetime")]
            # A bare timedelta means DeltaTriggerTimetable on 3.x; the old default had data intervals.
            text = f"schedule=DeltaDataIntervalTimetable({delta})"
            imports.append(ImportSpec(interval_module, "DeltaDataIntervalTimetable"))
            new_schedule = text
            yield ctx.finding(
                DEFAULT_SCHEDULE,
                call,
                "no schedule: Airflow 3 would not schedule this DAG; the old daily default (with its data "
                "intervals) is now explicit",
                edits=[self._add(ctx, call, text)],
                imports=imports,
            )
            yield from self._catchup(ctx, call, value, new_schedule)
            return
        resolved = value
        if isinstance(value, ast.Name):
            resolved = module_constant(ctx, value.id) or value  # SCHEDULE = "0 6 * * *" at module level
        if (
            isinstance(resolved, ast.Constant)
            and isinstance(resolved.value, str)
            and is_cron_string(resolved.value.strip())
        ):
            timezone = self._timezone(ctx, call)
            cls = "CronDataIntervalTimetable"
            literal = ctx.segment(value)
            quote = '"' if value is not resolved else literal[-1]
            text = f"{cls}({literal}, timezone={quote}{timezone}{quote})"
            yield ctx.finding(
                CRON_INTERVALS,
                value,
                f"cron schedule {resolved.value!r} keeps its data intervals "
                f"(CronDataIntervalTimetable, timezone {timezone})",
                edits=[ctx.replace(value, text)],
                imports=[ImportSpec(interval_module, cls)],
            )
        elif isinstance(resolved, ast.Call) and ctx.imports.qualified(resolved.func) in _DELTA_TYPES:
            cls = "DeltaDataIntervalTimetable"
            yield ctx.finding(
                CRON_INTERVALS,
                value,
                f"timedelta schedule {ctx.segment(resolved)} keeps its data intervals (DeltaDataIntervalTimetable)",
                edits=[ctx.replace(value, f"{cls}({ctx.segment(value)})")],
                imports=[ImportSpec(interval_module, cls)],
            )
        yield from self._catchup(ctx, call, value, new_schedule)

    def _catchup(
        self, ctx: FileContext, call: ast.Call, value: ast.expr | None, new_schedule: str | None
    ) -> Iterator[Finding]:
        if keyword(call, "catchup") is None:
            shown = new_schedule or (ctx.segment(value) if value is not None else "")
            if shown not in _NO_CATCHUP_NEEDED:
                yield ctx.finding(
                    DEFAULT_CATCHUP,
                    call,
                    "no catchup: Airflow 3 would skip missed intervals; the old "
                    "default catchup=True is now explicit",
                    edits=[self._add(ctx, call, "catchup=True")],
                )

    def _timedelta_free(self, ctx: FileContext) -> bool:
        return "timedelta" not in ctx.imports.bindings and "timedelta" not in ctx.assigned

    def _timezone(self, ctx: FileContext, call: ast.Call) -> str:
        """The DAG's timezone: its start_date's tz when written as pendulum.datetime(..., tz=...), else UTC
        (Airflow's default_timezone)."""
        start = keyword(call, "start_date")
        if start is not None and isinstance(start.value, ast.Call):
            tz = keyword(start.value, "tz") or keyword(start.value, "tzinfo")
            if tz is not None and isinstance(tz.value, ast.Constant) and isinstance(tz.value.value, str):
                return tz.value.value
        return "UTC"


def _bound_to(ctx: FileContext, name: str, qualified: str) -> bool:
    binding = ctx.imports.bindings.get(name)
    return binding is not None and binding.qualified == qualified
