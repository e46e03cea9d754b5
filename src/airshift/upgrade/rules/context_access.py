"""Task-context keys removed in Airflow 3, read from Python: `context["execution_date"]`, `kwargs.get(...)`,
parameters named after context keys (`def load(ds, execution_date, **_)`), and attributes such as
`dag_run.external_trigger`.

Context reaches Python in several places, and all of them are covered: python_callable functions (their
`**kwargs` and named parameters), callbacks (on_failure_callback and friends, in calls and default_args),
`execute`/`poke` of operators defined in the file, @task functions, and anything that calls
get_current_context() (imported from any of its historic modules).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field

from airshift.upgrade.context import FileContext
from airshift.upgrade.dag_calls import callee_last, default_args_dicts, local_operator_classes
from airshift.upgrade.model import Category, Edit, Finding, FixSafety, RuleMeta
from airshift.upgrade.schedule import file_schedule
from airshift.upgrade.templates import NONE_ON_ASSET_RUNS, Schedule
from airshift.upgrade.walk import walk_instances

CONTEXT_KEY = RuleMeta(
    code="AS701",
    name="context-key",
    title="Removed task-context keys read from Python (execution_date, next_ds, ...)",
    why="Airflow 2.2 deprecated execution_date and the next_*/prev_*/tomorrow_*/yesterday_* context keys; Airflow "
    "3.0 removed them, so the task fails with KeyError or a missing-argument TypeError when it runs.",
    category=Category.REQUIRED,
    fix=FixSafety.SAFE,
    deprecated_from="2.2",
    removed_in="3.0",
)

RENAMED_KEYS = {
    "execution_date": "logical_date",
    "next_execution_date": "data_interval_end",
    "prev_execution_date_success": "prev_data_interval_start_success",
    "triggering_dataset_events": "triggering_asset_events",
}
DATE_FORMATS = {"ds": "%Y-%m-%d", "ds_nodash": "%Y%m%d"}
CALLBACKS = (
    "on_failure_callback",
    "on_success_callback",
    "on_retry_callback",
    "on_execute_callback",
    "on_skipped_callback",
)
CONTEXT_METHODS = ("execute", "poke", "pre_execute", "post_execute", "execute_complete")
REMOVED_KEYS = frozenset(
    {
        *RENAMED_KEYS,
        "next_ds",
        "next_ds_nodash",
        "tomorrow_ds",
        "tomorrow_ds_nodash",
        "yesterday_ds",
        "yesterday_ds_nodash",
        "prev_ds",
        "prev_ds_nodash",
        "prev_execution_date",
        "conf",
    }
)


@dataclass
class ContextFunction:
    function: ast.FunctionDef | ast.AsyncFunctionDef
    dict_names: set[str] = field(default_factory=set)  # names bound to the context dict
    by_keyword: bool = False  # Airflow passes context keys to its named parameters


def _computed(key: str, context: str, schedule: Schedule | None) -> str | None:
    """A Python expression equal to the removed key, reading only keys Airflow 3 has."""
    macros = f'{context}["macros"]'
    ds = f'{context}["ds"]'
    if key in ("next_ds", "next_ds_nodash"):
        fmt = DATE_FORMATS[key.removeprefix("next_")]
        return f'{context}["data_interval_end"].strftime("{fmt}")'
    for prefix, days in (("tomorrow_", 1), ("yesterday_", -1)):
        if key.startswith(prefix):
            value = f"{macros}.ds_add({ds}, {days})"
            return value if key.endswith("_ds") else f'{macros}.ds_format({value}, "%Y-%m-%d", "%Y%m%d")'
    if key in ("prev_ds", "prev_ds_nodash", "prev_execution_date") and schedule and schedule.manual_only:
        # schedule=None on 1.10/2.x: every run is triggered, and a triggered run's "previous" date is its own
        return f'{context}["logical_date"]' if key == "prev_execution_date" else f'{context}["{key[5:]}"]'
    if key in ("prev_ds", "prev_ds_nodash", "prev_execution_date") and schedule and schedule.period:
        seconds = int(schedule.period.total_seconds())
        previous = f'({context}["logical_date"] - {macros}.timedelta(seconds={seconds}))'
        if key == "prev_execution_date":
            return previous
        return f'{previous}.strftime("{DATE_FORMATS[key.removeprefix("prev_")]}")'
    return None


class ContextAccess:
    metas: tuple[RuleMeta, ...] = (CONTEXT_KEY,)

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if not ctx.imports.imports_airflow():
            return
        if not any(key in ctx.text for key in REMOVED_KEYS) and "external_trigger" not in ctx.text:
            return
        reads, parameters = _may_read(ctx), _may_take(ctx)
        if not reads and not parameters:
            return  # none of the nodes a finding is made from occurs in the file
        schedule = file_schedule(ctx)
        # A context function nested in another (a get_current_context() task inside a @dag function) is
        # walked from both; report each read once.
        reported: set[tuple[int, str]] = set()
        for info in self._context_functions(ctx):
            findings = list(self._dict_reads(ctx, info, schedule)) if reads else []
            if info.by_keyword and parameters:
                findings += self._parameters(ctx, info)
            for finding in findings:
                if (finding.offset, finding.message) not in reported:
                    reported.add((finding.offset, finding.message))
                    yield finding

    # -- where context reaches Python ------------------------------------------------------------
    def _context_functions(self, ctx: FileContext) -> list[ContextFunction]:
        by_name: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
        for function in ctx.nodes.functions:
            by_name.setdefault(function.name, []).append(function)
        found: dict[int, ContextFunction] = {}

        def add(
            function: ast.FunctionDef | ast.AsyncFunctionDef, *, by_keyword: bool, positional: int | None
        ) -> None:
            info = found.setdefault(id(function), ContextFunction(function))
            info.by_keyword = info.by_keyword or by_keyword
            if function.args.kwarg is not None:
                info.dict_names.add(function.args.kwarg.arg)
            positional_args = [*function.args.posonlyargs, *function.args.args]
            if positional is not None and len(positional_args) > positional:
                info.dict_names.add(positional_args[positional].arg)

        def named(node: ast.expr) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
            if isinstance(node, (ast.List, ast.Tuple)):
                return [f for element in node.elts for f in named(element)]
            if isinstance(node, ast.Name) and len(by_name.get(node.id, [])) == 1:
                return by_name[node.id]
            return []

        for call in ctx.nodes.calls:
            for item in call.keywords:
                if item.arg == "python_callable":
                    # 1.10's TriggerDagRunOperator called python_callable(context, dag_run_obj).
                    trigger = callee_last(call) == "TriggerDagRunOperator"
                    for function in named(item.value):
                        add(function, by_keyword=not trigger, positional=0 if trigger else None)
                elif item.arg in CALLBACKS:
                    for function in named(item.value):
                        add(function, by_keyword=False, positional=0)
        for defaults in default_args_dicts(ctx):
            if isinstance(defaults, ast.Dict):
                for key, value in zip(defaults.keys, defaults.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value in CALLBACKS:
                        for function in named(value):
                            add(function, by_keyword=False, positional=0)
        operator_classes = local_operator_classes(ctx)
        for cls in ctx.nodes.classes:
            if cls.name in operator_classes:
                for statement in cls.body:
                    if (
                        isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef))
                        and statement.name in CONTEXT_METHODS
                    ):
                        add(statement, by_keyword=False, positional=1)
        for function in ctx.nodes.functions:
            if any(_is_task_decorator(ctx, d) for d in function.decorator_list):
                add(function, by_keyword=True, positional=None)
        for function in ctx.nodes.functions if "get_current_context" in ctx.text else ():
            for node in walk_instances(function, ast.Assign):
                if isinstance(node.value, ast.Call) and (
                    ctx.imports.qualified(node.value.func) or ""
                ).endswith("get_current_context"):
                    info = found.setdefault(id(function), ContextFunction(function))
                    info.dict_names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        return list(found.values())

    # -- context["key"], context.get("key"), context["dag_run"].external_trigger --------------------
    def _dict_reads(
        self, ctx: FileContext, info: ContextFunction, schedule: Schedule | None
    ) -> Iterator[Finding]:
        for node in walk_instances(info.function, _READ_NODES):
            if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
                name = _dict_name(node.value, info)
                key = _string(node.slice)
                if name is None or key is None or key not in REMOVED_KEYS:
                    continue
                if schedule is not None and schedule.assets and key in NONE_ON_ASSET_RUNS:
                    yield ctx.finding(
                        CONTEXT_KEY,
                        node,
                        f'context["{key}"] was None on this asset-scheduled DAG\'s runs; Airflow 3 has no '
                        "such key: replace it by hand",
                    )
                    continue
                if (key in RENAMED_KEYS and ctx.target >= (3, 0)) or (
                    key in RENAMED_KEYS and key != "triggering_dataset_events"
                ):
                    yield ctx.finding(
                        CONTEXT_KEY,
                        node,
                        f'context["{key}"] is context["{RENAMED_KEYS[key]}"]',
                        edits=[ctx.replace_string(node.slice, RENAMED_KEYS[key])],
                    )
                    continue
                if key == "conf":
                    if ctx.target >= (3, 0):
                        yield ctx.finding(
                            CONTEXT_KEY,
                            node,
                            'context["conf"] (the Airflow configuration) is gone on '
                            "Airflow 3; read settings from airflow.sdk or pass them as params",
                        )
                    continue
                expression = _computed(key, name, schedule)
                if expression is None:
                    yield ctx.finding(
                        CONTEXT_KEY,
                        node,
                        f'context["{key}"] depends on the DAG schedule, which has no '
                        "constant period here: compute it from data_interval_start by hand",
                    )
                    continue
                yield ctx.finding(
                    CONTEXT_KEY,
                    node,
                    f'context["{key}"] is `{expression}`',
                    edits=[ctx.replace(node, expression)],
                )
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
            ):
                name = _dict_name(node.func.value, info)
                key = _string(node.args[0]) if node.args else None
                if name is None or key is None or key not in REMOVED_KEYS:
                    continue
                if key in RENAMED_KEYS:
                    yield ctx.finding(
                        CONTEXT_KEY,
                        node,
                        f'context.get("{key}") is context.get("{RENAMED_KEYS[key]}")',
                        edits=[ctx.replace_string(node.args[0], RENAMED_KEYS[key])],
                    )
                else:
                    yield ctx.finding(
                        CONTEXT_KEY,
                        node,
                        f'context.get("{key}"): the key is gone on Airflow 3; compute '
                        "it from logical_date / data_interval_* by hand",
                    )
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                yield from self._attribute(ctx, node, info)

    def _attribute(self, ctx: FileContext, node: ast.Attribute, info: ContextFunction) -> Iterator[Finding]:
        owner = node.value
        owner_key = None
        if isinstance(owner, ast.Subscript) and _dict_name(owner.value, info):
            owner_key = _string(owner.slice)
        elif isinstance(owner, ast.Name) and info.by_keyword:
            owner_key = owner.id if owner.id in _param_names(info.function) else None
        if owner_key not in ("dag_run", "ti", "task_instance"):
            return
        if node.attr == "execution_date":
            start = ctx.end(node) - len(node.attr)
            yield ctx.finding(
                CONTEXT_KEY,
                node,
                f"{owner_key}.execution_date is {owner_key}.logical_date",
                edits=[Edit(start, ctx.end(node), "logical_date")],
            )
        elif node.attr == "external_trigger" and owner_key == "dag_run":
            text = f'({ctx.segment(owner)}.run_type == "manual")'
            yield ctx.finding(
                CONTEXT_KEY, node, f"dag_run.external_trigger is `{text}`", edits=[ctx.replace(node, text)]
            )

    # -- def load(ds, execution_date, **_) -----------------------------------------------------------
    def _parameters(self, ctx: FileContext, info: ContextFunction) -> Iterator[Finding]:
        function = info.function
        params = [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]
        names = {p.arg for p in params}
        for param in params:
            key = param.arg
            if key not in REMOVED_KEYS:
                continue
            new = RENAMED_KEYS.get(key)
            if key == "triggering_dataset_events" and ctx.target < (3, 0):
                continue
            if new is None and key in ("next_ds", "next_ds_nodash"):
                new = "data_interval_end"
            if new is None or (new in names and new != "data_interval_end"):
                yield ctx.finding(
                    CONTEXT_KEY,
                    param,
                    f"parameter `{key}` is no longer a context key on Airflow 3: "
                    "take **context and compute it by hand",
                )
                continue
            edits: list[Edit] = []
            if new in names:  # data_interval_end is already a parameter: drop the old one
                edits.append(_remove_parameter(ctx, function, param))
            else:
                edits.append(Edit(ctx.start(param), ctx.start(param) + len(key), new))
            replacement = (
                new if key in RENAMED_KEYS else f'{new}.strftime("{DATE_FORMATS[key.removeprefix("next_")]}")'
            )
            for node in walk_instances(function, ast.Name):
                if node.id == key and isinstance(node.ctx, ast.Load):
                    edits.append(ctx.replace(node, replacement))
            yield ctx.finding(CONTEXT_KEY, param, f"parameter `{key}` is `{new}` on Airflow 3", edits=edits)


def _may_read(ctx: FileContext) -> bool:
    """Whether `_dict_reads` can find anything in this file: each of its findings is made from a string
    constant that is a removed key (`context["next_ds"]`, `context.get("conf")`) or from an attribute
    named execution_date or external_trigger. Both are known from the shared walk, without walking
    every context function."""
    if not REMOVED_KEYS.isdisjoint(ctx.nodes.strings):
        return True
    return any(node.attr in _RENAMED_ATTRIBUTES for node in ctx.nodes.attributes)


def _may_take(ctx: FileContext) -> bool:
    """Whether `_parameters` can find anything: it reports parameters named after a removed key, and
    every parameter name is among the names the file binds."""
    return not REMOVED_KEYS.isdisjoint(ctx.assigned)


_RENAMED_ATTRIBUTES = frozenset({"execution_date", "external_trigger"})
_READ_NODES = (ast.Subscript, ast.Call, ast.Attribute)  # the nodes `_dict_reads` makes findings from


def _remove_parameter(
    ctx: FileContext, function: ast.FunctionDef | ast.AsyncFunctionDef, param: ast.arg
) -> Edit:
    items: list[ast.AST] = [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]
    if function.args.kwarg is not None:
        items.append(function.args.kwarg)
    items.sort(key=lambda n: (n.lineno, n.col_offset))  # type: ignore[attr-defined]
    return ctx.remove_item(items, items.index(param))


def _param_names(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    return {p.arg for p in [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]}


def _dict_name(node: ast.expr, info: ContextFunction) -> str | None:
    return node.id if isinstance(node, ast.Name) and node.id in info.dict_names else None


def _string(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _is_task_decorator(ctx: FileContext, decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    qualified = ctx.imports.qualified(target) or ""
    parts = qualified.split(".")
    return qualified.startswith("airflow.") and ("task" in parts[-2:]) and parts[-1] != "task_group"
