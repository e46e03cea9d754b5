"""SubDagOperator -> TaskGroup, for the standard factory pattern.

A factory `build_x(parent_dag_id, child_id, default_args, ...)` that creates `DAG("<parent>.<child>")`, adds
tasks with `dag=sub` and returns it becomes a TaskGroup builder: the DAG becomes
`TaskGroup(group_id=child_id, default_args=..., dag=parent_dag)`, tasks join it with
`task_group=sub, dag=sub.dag`, and the function takes the parent DAG as `parent_dag=`. The call site
`SubDagOperator(task_id="x", subdag=build_x(..., "x", ...), dag=dag)` becomes `build_x(..., "x", ...,
parent_dag=dag)`, so the group's tasks keep their place between the same upstream and downstream tasks
(their ids gain the group prefix: "x.task"). Any other shape is reported. The factory may live in another
module of the DAG folder: the project pre-pass (upgrade/project.py) finds it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from airshift.upgrade.context import FileContext
from airshift.upgrade.dag_calls import call_sites, is_dag_call, keyword
from airshift.upgrade.model import Category, Edit, Finding, FixSafety, ImportSpec, RuleMeta
from airshift.upgrade.project import SubdagFactory, factory_shape
from airshift.upgrade.walk import walk

SUBDAG = RuleMeta(
    code="AS501",
    name="subdag-to-taskgroup",
    title="SubDagOperator -> TaskGroup",
    why="Airflow 2.0 deprecated SubDAGs in favour of TaskGroups; Airflow 3.0 removed SubDagOperator.",
    category=Category.REQUIRED,
    fix=FixSafety.UNSAFE,
    deprecated_from="2.0",
    removed_in="3.0",
)
_KEPT_BY_THE_GROUP = {"task_id", "subdag", "dag", "default_args"}


class SubdagToTaskGroup:
    metas: tuple[RuleMeta, ...] = (SUBDAG,)
    rewritten_uses = frozenset(
        {"airflow.operators.subdag_operator.SubDagOperator", "airflow.operators.subdag.SubDagOperator"}
    )

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        factories = {f.qualified: f for f in ctx.settings.subdag_factories}
        # A factory module need not mention SubDAGs at all (it builds a plain DAG): the pre-pass names it.
        defines_factory = any(name.rpartition(".")[0] == ctx.module for name in factories)
        if not defines_factory and "subdag" not in ctx.text.lower():
            return
        if not ctx.imports.imports_airflow():
            return
        for statement in ctx.tree.body:
            if isinstance(statement, ast.FunctionDef):
                factory = factories.get(f"{ctx.module}.{statement.name}")
                if factory is not None and not _converted(statement):
                    yield self._factory(ctx, statement, factory)
        for site in call_sites(ctx).all:
            if site.qualified is not None and site.last == "SubDagOperator":
                yield self._call_site(ctx, site.node, factories)

    def _task_group_import(self, ctx: FileContext) -> ImportSpec:
        if ctx.target >= (3, 0):
            return ImportSpec("airflow.sdk", "TaskGroup")
        return ImportSpec("airflow.utils.task_group", "TaskGroup")

    def _factory(self, ctx: FileContext, function: ast.FunctionDef, factory: SubdagFactory) -> Finding:
        if function.args.vararg or function.args.kwarg or factory_shape(function) is None:
            return ctx.finding(
                SUBDAG,
                function,
                f"`{function.name}` builds a sub-DAG in a way airshift cannot "
                "turn into a TaskGroup; convert it by hand",
            )
        edits = [self._add_parameter(ctx, function)]
        variable = factory.dag_variable
        for statement in function.body:
            if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call):
                target = statement.targets[0]
                if isinstance(target, ast.Name) and target.id == variable:
                    edits.append(self._task_group_call(ctx, statement.value, factory))
                    break
        for node in walk(function):
            if isinstance(node, ast.Call):
                item = keyword(node, "dag")
                if item is not None and isinstance(item.value, ast.Name) and item.value.id == variable:
                    edits.append(
                        Edit(ctx.start(item), ctx.end(item), f"task_group={variable}, dag={variable}.dag")
                    )
        return ctx.finding(
            SUBDAG,
            function,
            f"`{function.name}` now builds a TaskGroup (group_id={factory.group_param}) in the DAG passed as "
            "`parent_dag`; the sub-DAG's own schedule and DAG arguments no longer apply",
            edits=edits,
            imports=[self._task_group_import(ctx)],
        )

    def _add_parameter(self, ctx: FileContext, function: ast.FunctionDef) -> Edit:
        args = function.args
        candidates: list[ast.AST] = [*args.posonlyargs, *args.args, *args.kwonlyargs, *args.defaults]
        candidates += [d for d in args.kw_defaults if d is not None]
        if not candidates:
            opening = ctx.text.index("(", ctx.start(function))
            return Edit(opening + 1, opening + 1, "parent_dag=None")
        end = max(ctx.end(node) for node in candidates)
        return Edit(end, end, ", parent_dag=None")

    def _task_group_call(self, ctx: FileContext, call: ast.Call, factory: SubdagFactory) -> Edit:
        default_args = keyword(call, "default_args")
        parts = [f"group_id={factory.group_param}"]
        if default_args is not None:
            parts.append(f"default_args={ctx.segment(default_args.value)}")
        parts.append("dag=parent_dag")
        return ctx.replace(call, f"TaskGroup({', '.join(parts)})")

    def _call_site(self, ctx: FileContext, call: ast.Call, factories: dict[str, SubdagFactory]) -> Finding:
        subdag = keyword(call, "subdag")
        if subdag is None or not isinstance(subdag.value, ast.Call):
            return ctx.finding(
                SUBDAG,
                call,
                "SubDagOperator without a factory call as `subdag=`: convert the sub-DAG "
                "to a TaskGroup by hand",
            )
        factory_call = subdag.value
        qualified = ctx.imports.qualified(factory_call.func)
        if qualified is None and isinstance(factory_call.func, ast.Name):
            qualified = f"{ctx.module}.{factory_call.func.id}"
        factory = factories.get(qualified or "")
        if factory is None:
            return ctx.finding(
                SUBDAG,
                call,
                f"SubDagOperator: `{qualified}` does not build its sub-DAG the standard way "
                "(DAG id '<parent>.<child>', tasks added with dag=, returned); convert by hand",
            )
        extra = sorted(k.arg or "**" for k in call.keywords if k.arg not in _KEPT_BY_THE_GROUP)
        if call.args or extra:
            return ctx.finding(
                SUBDAG,
                call,
                "SubDagOperator arguments a TaskGroup cannot take: "
                f"{', '.join(extra) or 'positional arguments'}; convert by hand",
            )
        task_id = keyword(call, "task_id")
        group_arg = self._group_argument(factory_call, factory)
        if task_id is None or group_arg is None or ctx.segment(group_arg) != ctx.segment(task_id.value):
            return ctx.finding(
                SUBDAG,
                call,
                "SubDagOperator: the factory's child id is not the operator's task_id; convert by hand",
            )
        dag = keyword(call, "dag")
        # The official 1.10 pattern has no dag=: the operator joined the `with DAG(...) as dag:` block. The
        # TaskGroup must get that DAG explicitly, or it is built with dag=None and fails on 3.x.
        parent = ctx.segment(dag.value) if dag is not None else _enclosing_dag(ctx, call)
        text = ctx.segment(factory_call)
        if parent is not None:
            items: list[ast.AST] = [*factory_call.args, *factory_call.keywords]
            if items:
                end = max(ctx.end(item) for item in items) - ctx.start(factory_call)
                text = f"{text[:end]}, parent_dag={parent}{text[end:]}"
            else:
                opening = text.index("(")
                text = f"{text[: opening + 1]}parent_dag={parent}{text[opening + 1 :]}"
        elif _inside_with_dag(ctx, call):
            return ctx.finding(
                SUBDAG,
                call,
                "SubDagOperator inside `with DAG(...):` without `as name`: name the DAG (`as dag`) and pass "
                "it as the factory's parent_dag, or the TaskGroup is built without a DAG",
            )
        return ctx.finding(
            SUBDAG,
            call,
            f"SubDagOperator `{ctx.segment(task_id.value)}` is now the TaskGroup its factory builds",
            edits=[ctx.replace(call, text)],
        )

    def _group_argument(self, call: ast.Call, factory: SubdagFactory) -> ast.expr | None:
        item = keyword(call, factory.group_param)
        if item is not None:
            return item.value
        if 0 <= factory.group_index < len(call.args):
            return call.args[factory.group_index]
        return None


def _converted(function: ast.FunctionDef) -> bool:
    """A factory this rule already rewrote takes `parent_dag`."""
    return any(a.arg == "parent_dag" for a in [*function.args.args, *function.args.kwonlyargs])


def _dag_withs(ctx: FileContext, call: ast.Call) -> list[ast.withitem]:
    """The `with DAG(...)` items whose block holds `call`, innermost last."""
    found: list[tuple[int, ast.withitem]] = []
    for node in ast.walk(ctx.tree):
        if not isinstance(node, ast.With | ast.AsyncWith):
            continue
        if not (node.lineno <= call.lineno <= (node.end_lineno or node.lineno)):
            continue
        for item in node.items:
            if isinstance(item.context_expr, ast.Call) and is_dag_call(ctx, item.context_expr):
                found.append((node.lineno, item))
    return [item for _, item in sorted(found, key=lambda pair: pair[0])]


def _enclosing_dag(ctx: FileContext, call: ast.Call) -> str | None:
    withs = _dag_withs(ctx, call)
    if withs and isinstance(withs[-1].optional_vars, ast.Name):
        return withs[-1].optional_vars.id
    return None


def _inside_with_dag(ctx: FileContext, call: ast.Call) -> bool:
    return bool(_dag_withs(ctx, call))
