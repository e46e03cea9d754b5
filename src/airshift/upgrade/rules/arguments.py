"""Renamed and removed arguments of DAGs and operators, in calls and inside default_args.

Each change is data: which calls it concerns, the old and new keyword, and the Airflow versions that
deprecated and removed the old one. A rename is skipped (and reported) when the call already passes the
new name; an argument that only has a meaning on older versions is removed.
"""

from __future__ import annotations

import ast
from collections.abc import Container, Iterator
from dataclasses import dataclass

from airshift.upgrade.context import DictItem, FileContext, dict_items, keyword_items
from airshift.upgrade.dag_calls import (
    call_sites,
    callee_last,
    default_args_dicts,
    keyword,
    local_operator_classes,
    subscript_assignments,
)
from airshift.upgrade.intended_changes import IntendedChanges
from airshift.upgrade.model import Category, Edit, Finding, FixSafety, RuleMeta


def _meta(
    code: str, name: str, title: str, why: str, fix: FixSafety, deprecated: str, removed: str | None
) -> RuleMeta:
    return RuleMeta(code, name, title, why, Category.REQUIRED, fix, deprecated, removed)


SCHEDULE = _meta(
    "AS301",
    "dag-schedule-argument",
    "`schedule_interval=` / `timetable=` -> `schedule=`",
    "Airflow 2.4 merged schedule_interval and timetable into `schedule`; Airflow 3.0 removed the old names.",
    FixSafety.SAFE,
    "2.4",
    "3.0",
)
CONCURRENCY = _meta(
    "AS302",
    "dag-concurrency",
    "DAG `concurrency=` -> `max_active_tasks=`",
    "Airflow 2.2 renamed DAG concurrency to max_active_tasks; Airflow 3.0 removed the old name.",
    FixSafety.SAFE,
    "2.2",
    "3.0",
)
FAIL_STOP = _meta(
    "AS303",
    "dag-fail-stop",
    "DAG `fail_stop=` -> `fail_fast=`",
    "Airflow 3.0 renamed the DAG argument fail_stop to fail_fast.",
    FixSafety.SAFE,
    "3.0",
    "3.0",
)
VIEW = _meta(
    "AS304",
    "dag-ui-arguments",
    "DAG `default_view=` and `orientation=` removed",
    "Airflow 3.0's new UI removed the DAG arguments default_view and orientation.",
    FixSafety.SAFE,
    "3.0",
    "3.0",
)
TASK_CONCURRENCY = _meta(
    "AS305",
    "task-concurrency",
    "Operator `task_concurrency=` -> `max_active_tis_per_dag=`",
    "Airflow 2.2 renamed task_concurrency to max_active_tis_per_dag; Airflow 3.0 removed the old name.",
    FixSafety.SAFE,
    "2.2",
    "3.0",
)
PROVIDE_CONTEXT = _meta(
    "AS306",
    "provide-context",
    "`provide_context=` removed",
    "Airflow 2.0 passes the context to python_callable automatically and rejects provide_context.",
    FixSafety.SAFE,
    "2.0",
    "2.0",
)
XCOM_PUSH = _meta(
    "AS307",
    "xcom-push-argument",
    "Operator `xcom_push=` -> `do_xcom_push=`",
    "Airflow 2.0 removed the per-operator xcom_push argument in favour of BaseOperator's do_xcom_push.",
    FixSafety.SAFE,
    "2.0",
    "2.0",
)
TRIGGER_DATE = _meta(
    "AS308",
    "trigger-dagrun-logical-date",
    "TriggerDagRunOperator `execution_date=` -> `logical_date=`",
    "Airflow 3.0 renamed execution_date to logical_date everywhere, TriggerDagRunOperator included.",
    FixSafety.SAFE,
    "3.0",
    "3.0",
)
TRIGGER_CALLABLE = _meta(
    "AS309",
    "trigger-dagrun-callable",
    "TriggerDagRunOperator `python_callable=` removed",
    "Airflow 2.0 removed TriggerDagRunOperator's python_callable; pass `conf=` instead (rewritten when the "
    "callable always sends one literal payload).",
    FixSafety.SAFE,
    "2.0",
    "2.0",
)
SLA = RuleMeta(
    "AS310",
    "sla",
    "`sla=` / `sla_miss_callback=` no longer do anything",
    "Airflow 3.0 removed SLAs (the arguments only warn); Airflow 3.1 added Deadline Alerts (`deadline=` on the DAG).",
    Category.BEHAVIOUR,
    FixSafety.NONE,
    "3.0",
    "3.0",
)
VARIABLE_DEFAULT = _meta(
    "AS311",
    "variable-get-default",
    "`Variable.get(default_var=)` -> `default=`",
    "The Task SDK's Variable.get (airflow.sdk, Airflow 3.0) names the fallback `default`.",
    FixSafety.SAFE,
    "3.0",
    "3.0",
)


@dataclass(frozen=True)
class Change:
    meta: RuleMeta
    old: str
    new: str | None  # None: remove the argument
    scope: str  # "dag", "operator", "trigger", "default_args-only"
    in_default_args: bool = False
    message: str | None = None


CHANGES: tuple[Change, ...] = (
    Change(SCHEDULE, "schedule_interval", "schedule", "dag"),
    Change(SCHEDULE, "timetable", "schedule", "dag"),
    Change(CONCURRENCY, "concurrency", "max_active_tasks", "dag"),
    Change(FAIL_STOP, "fail_stop", "fail_fast", "dag"),
    Change(VIEW, "default_view", None, "dag"),
    Change(VIEW, "orientation", None, "dag"),
    Change(TASK_CONCURRENCY, "task_concurrency", "max_active_tis_per_dag", "operator", in_default_args=True),
    Change(PROVIDE_CONTEXT, "provide_context", None, "operator", in_default_args=True),
    Change(XCOM_PUSH, "xcom_push", "do_xcom_push", "operator", in_default_args=True),
    Change(TRIGGER_DATE, "execution_date", "logical_date", "trigger"),
)
REPORTS: tuple[Change, ...] = (
    Change(
        TRIGGER_CALLABLE,
        "python_callable",
        None,
        "trigger",
        message="TriggerDagRunOperator no longer takes python_callable; compute the payload and pass `conf=`",
    ),
    Change(
        SLA,
        "sla",
        None,
        "operator",
        in_default_args=True,
        message="`sla` is ignored since Airflow 3.0 (it only warns); use a Deadline Alert (`deadline=` on the DAG, Airflow 3.1+)",
    ),
    Change(
        SLA,
        "sla_miss_callback",
        None,
        "dag",
        message="`sla_miss_callback` is ignored since Airflow 3.0; use a Deadline Alert with a callback (Airflow 3.1+)",
    ),
)


def _acting(ctx: FileContext) -> tuple[list[Change], list[Change]]:
    """CHANGES and REPORTS whose codes act on this file (the others' findings would be dropped)."""
    return [c for c in CHANGES if ctx.acts(c.meta)], [c for c in REPORTS if ctx.acts(c.meta)]


def _keywords(call: ast.Call) -> dict[str | None, ast.keyword]:
    """The call's keywords by name; the first one wins, as with `keyword()`."""
    found: dict[str | None, ast.keyword] = {}
    for item in call.keywords:
        found.setdefault(item.arg, item)
    return found


def _constant_payload(ctx: FileContext, item: ast.keyword) -> str | None:
    """The payload source when the 1.10 callable is exactly `dag_run_obj.payload = <literal>; return
    dag_run_obj` (a module-level function of two parameters), else None: then it depends on the context or
    decides whether to trigger, which `conf=` cannot express, and the finding asks a person."""
    if not isinstance(item.value, ast.Name):
        return None
    function = next(
        (f for f in ctx.tree.body if isinstance(f, ast.FunctionDef) and f.name == item.value.id), None
    )
    if function is None or len(function.args.args) != 2 or function.decorator_list:
        return None
    run_obj = function.args.args[1].arg
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # docstring
    if len(body) != 2:
        return None
    assign, returned = body
    if not (
        isinstance(assign, ast.Assign)
        and len(assign.targets) == 1
        and isinstance(assign.targets[0], ast.Attribute)
        and assign.targets[0].attr == "payload"
        and isinstance(assign.targets[0].value, ast.Name)
        and assign.targets[0].value.id == run_obj
        and isinstance(returned, ast.Return)
        and isinstance(returned.value, ast.Name)
        and returned.value.id == run_obj
    ):
        return None
    try:
        ast.literal_eval(assign.value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return ctx.segment(assign.value)


def _is_trigger_dagrun(ctx: FileContext, call: ast.Call) -> bool:
    return callee_last(call) == "TriggerDagRunOperator"


class ArgumentChanges:
    metas: tuple[RuleMeta, ...] = (
        SCHEDULE,
        CONCURRENCY,
        FAIL_STOP,
        VIEW,
        TASK_CONCURRENCY,
        PROVIDE_CONTEXT,
        XCOM_PUSH,
        TRIGGER_DATE,
        TRIGGER_CALLABLE,
        SLA,
        VARIABLE_DEFAULT,
    )
    owned_arguments = frozenset(change.old for change in (*CHANGES, *REPORTS))
    intended = IntendedChanges(default_args={c.old: c.new for c in CHANGES if c.in_default_args})

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if not ctx.imports.imports_airflow():
            return
        local_classes = local_operator_classes(ctx)
        for site in call_sites(ctx).all:
            call = site.node
            if not call.keywords:
                continue
            scopes = {"any"}
            if site.dag:
                scopes.add("dag")
            elif site.operator(local_classes):
                scopes.add("operator")
                if _is_trigger_dagrun(ctx, call):
                    scopes.add("trigger")
            if len(scopes) > 1:
                yield from self._call(ctx, call, scopes)
            yield from self._variable_get(ctx, call)
        yield from self._default_args(ctx)

    def _call(self, ctx: FileContext, call: ast.Call, scopes: set[str]) -> Iterator[Finding]:
        changes, reports = ctx.memo("arguments.acting", lambda: _acting(ctx))
        keywords = _keywords(call)
        for change in changes:
            if change.scope not in scopes:
                continue
            item = keywords.get(change.old)
            if item is None:
                continue
            if change.new is None:
                items = keyword_items(call)  # sorted by position: only needed to remove an argument
                edit = ctx.remove_item(items, items.index(item))
                yield ctx.finding(
                    change.meta, item, f"`{change.old}=` is not accepted on the target; removed", edits=[edit]
                )
            elif change.new in keywords:
                yield ctx.finding(
                    change.meta, item, f"`{change.old}=` and `{change.new}=` are both given; keep one"
                )
            else:
                yield ctx.finding(
                    change.meta,
                    item,
                    f"`{change.old}=` is now `{change.new}=`",
                    edits=[ctx.keyword_name_edit(item, change.new)],
                )
        for change in reports:
            if change.scope in scopes:
                item = keywords.get(change.old)
                if item is None:
                    continue
                payload = _constant_payload(ctx, item) if change.meta is TRIGGER_CALLABLE else None
                if payload is not None and "conf" not in keywords:
                    yield ctx.finding(
                        change.meta,
                        item,
                        "TriggerDagRunOperator no longer takes python_callable; its callable always sent the "
                        f"same payload, which is `conf={payload}`",
                        edits=[ctx.replace(item, f"conf={payload}")],
                    )
                    continue
                yield ctx.finding(change.meta, item, change.message or "")

    def _variable_get(self, ctx: FileContext, call: ast.Call) -> Iterator[Finding]:
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr == "get") or not ctx.acts(VARIABLE_DEFAULT):
            return
        owner = ctx.imports.qualified(func.value)
        if owner is None or not owner.endswith("Variable"):
            return
        resolution = ctx.table.resolve(owner, ctx.target)
        final = resolution.new if resolution else owner
        if final != "airflow.sdk.Variable":
            return
        item = keyword(call, "default_var")
        if item is not None and keyword(call, "default") is None:
            yield ctx.finding(
                VARIABLE_DEFAULT,
                item,
                "`Variable.get(default_var=)` is `default=` in airflow.sdk",
                edits=[ctx.keyword_name_edit(item, "default")],
            )

    def _default_args(self, ctx: FileContext) -> Iterator[Finding]:
        changes = [c for c in (*CHANGES, *REPORTS) if c.in_default_args and ctx.acts(c.meta)]
        if not changes:
            return
        names: set[str] = set()
        for node in default_args_dicts(ctx):
            if isinstance(node, ast.Dict):
                yield from self._dict_literal(ctx, node, changes)
            else:
                yield from self._dict_call(ctx, node, changes)
        for name in ctx.nodes.names:
            if "default_args" in name.lower():
                names.add(name)
        for assign, key in subscript_assignments(ctx, names):
            change = next((c for c in changes if c.old == key), None)
            if change is None:
                continue
            target = assign.targets[0]
            assert isinstance(target, ast.Subscript)
            if change.new is None and change.meta.fix is not FixSafety.NONE:
                whole = ctx.owns_lines(ctx.start(assign), ctx.end(assign))
                edits = [Edit(whole[0], whole[1], "")] if whole else []
                yield ctx.finding(
                    change.meta,
                    assign,
                    f"default_args `{key}` is not accepted on the target; removed",
                    edits=edits,
                )
            elif change.new is not None:
                yield ctx.finding(
                    change.meta,
                    assign,
                    f"default_args `{key}` is now `{change.new}`",
                    edits=[ctx.replace_string(target.slice, change.new)],
                )
            else:
                yield ctx.finding(change.meta, assign, change.message or "")

    def _dict_literal(self, ctx: FileContext, node: ast.Dict, changes: list[Change]) -> Iterator[Finding]:
        items = dict_items(node)
        present = {k.value for k in node.keys if isinstance(k, ast.Constant)}
        for index, item in enumerate(items):
            assert isinstance(item, DictItem)
            key = item.key
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                continue
            change = next((c for c in changes if c.old == key.value), None)
            if change is None:
                continue
            yield from self._entry(
                ctx,
                change,
                key,
                present,
                ctx.remove_item(items, index),
                ctx.replace_string(key, change.new or ""),
            )

    def _dict_call(self, ctx: FileContext, node: ast.Call, changes: list[Change]) -> Iterator[Finding]:
        items = keyword_items(node)
        present = {k.arg for k in node.keywords}
        for item in node.keywords:
            change = next((c for c in changes if c.old == item.arg), None)
            if change is None:
                continue
            yield from self._entry(
                ctx,
                change,
                item,
                present,
                ctx.remove_item(items, items.index(item)),
                ctx.keyword_name_edit(item, change.new or "x"),
            )

    def _entry(
        self,
        ctx: FileContext,
        change: Change,
        node: ast.AST,
        present: Container[object],
        remove: Edit,
        rename: Edit,
    ) -> Iterator[Finding]:
        if change.meta.fix is FixSafety.NONE:
            yield ctx.finding(change.meta, node, change.message or "")
        elif change.new is None:
            yield ctx.finding(
                change.meta,
                node,
                f"default_args `{change.old}` is not accepted on the target; removed",
                edits=[remove],
            )
        elif change.new in present:
            yield ctx.finding(
                change.meta, node, f"default_args has both `{change.old}` and `{change.new}`; keep one"
            )
        else:
            yield ctx.finding(
                change.meta, node, f"default_args `{change.old}` is now `{change.new}`", edits=[rename]
            )
