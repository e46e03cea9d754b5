"""DAG-authoring checks ruff's AIR rules make that are not version breaks, so that airshift's findings
are a superset of ruff's: runtime-varying values in DAG and task arguments (AIR304) and a task variable
named differently from its task_id (AIR001). Both are report-only.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from airshift.upgrade.context import FileContext
from airshift.upgrade.dag_calls import (
    call_sites,
    is_operator_call,
    keyword,
    local_operator_classes,
)
from airshift.upgrade.model import Category, Finding, FixSafety, RuleMeta
from airshift.upgrade.walk import walk_instances

DYNAMIC_VALUE = RuleMeta(
    code="AS951",
    name="dag-dynamic-value",
    title="Runtime-varying value (datetime.now(), pendulum.now(), random, uuid4...) in DAG or task arguments",
    why="Airflow 3 versions DAGs: a value that changes on every parse makes a new DAG version each time "
    "(unbounded dag_version / serialized_dag growth; ruff AIR304).",
    category=Category.BEHAVIOUR,
    fix=FixSafety.NONE,
    deprecated_from="3.0",
    removed_in="3.0",
)
TASK_ID_NAME = RuleMeta(
    code="AS952",
    name="task-variable-name",
    title="Task variable named differently from its task_id",
    why="Readability: the variable and the task id should name the same thing (ruff AIR001).",
    category=Category.INFO,
    fix=FixSafety.NONE,
)

# Callables whose value differs on every parse (the list ruff AIR304 documents, by qualified name).
DYNAMIC = frozenset(
    {
        "datetime.datetime.now", "datetime.datetime.utcnow", "datetime.datetime.today", "datetime.date.today",
        "pendulum.now", "pendulum.today", "pendulum.yesterday", "pendulum.tomorrow", "pendulum.DateTime.now",
        "time.time", "time.time_ns", "time.monotonic", "uuid.uuid1", "uuid.uuid4",
        "random.random", "random.randint", "random.choice", "random.uniform",
    }
)  # fmt: skip


# The last identifiers of DYNAMIC: a call whose callee ends otherwise cannot be one of them.
_DYNAMIC_LASTS = frozenset(name.rpartition(".")[2] for name in DYNAMIC)


class DagHygiene:
    metas: tuple[RuleMeta, ...] = (DYNAMIC_VALUE, TASK_ID_NAME)

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if not ctx.imports.imports_airflow():
            return
        local_classes = local_operator_classes(ctx)
        # The runtime-varying calls of the file, found first: most files have none, and then no DAG or
        # task call's arguments need to be searched.
        dynamic: set[int] = set()
        if ctx.acts(DYNAMIC_VALUE):
            dynamic = {
                id(site.node)
                for site in call_sites(ctx).all
                if site.written in _DYNAMIC_LASTS and site.qualified in DYNAMIC
            }
        if dynamic:
            for site in call_sites(ctx).all:
                if site.dag or site.operator(local_classes):
                    yield from self._dynamic(ctx, site.node, "DAG" if site.dag else "task", dynamic)
        for assign in ctx.nodes.assigns:
            yield from self._name(ctx, assign, local_classes)

    def _dynamic(self, ctx: FileContext, call: ast.Call, what: str, dynamic: set[int]) -> Iterator[Finding]:
        for item in [*call.args, *(k.value for k in call.keywords)]:
            for node in walk_instances(item, ast.Call):
                if id(node) in dynamic:
                    yield ctx.finding(
                        DYNAMIC_VALUE, node,
                        f"`{ctx.segment(node)}` in {what} arguments changes on every parse: Airflow 3 stores a "
                        "new DAG version each time; use a fixed value (e.g. a literal start_date)"
                    )  # fmt: skip

    def _name(self, ctx: FileContext, assign: ast.Assign, local_classes: set[str]) -> Iterator[Finding]:
        if len(assign.targets) != 1 or not isinstance(assign.targets[0], ast.Name):
            return
        value = assign.value
        if not isinstance(value, ast.Call) or not is_operator_call(ctx, value, local_classes):
            return
        task_id = keyword(value, "task_id")
        if (
            task_id is None
            or not isinstance(task_id.value, ast.Constant)
            or not isinstance(task_id.value.value, str)
        ):
            return
        name = assign.targets[0].id
        if name != task_id.value.value:
            yield ctx.finding(
                TASK_ID_NAME, assign.targets[0], f"variable `{name}` holds task `{task_id.value.value}`"
            )
