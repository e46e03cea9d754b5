"""Duplicate task ids in one DAG (AS350) and duplicate DAG ids across the folder (AS351).

Airflow 1.10 let a second task or DAG with the same id replace the first, with a warning; Airflow 2 and 3
raise (DuplicateTaskIdFound; the DAG processor reports a duplicate DAG id as an import error in 3.x).
Only literal ids are compared, and only tasks built in straight-line code of a `with DAG(...)` block or
given `dag=` (a task built in a loop or a branch may be built once). DAG ids are collected per file by
`dag_calls.dag_ids` and compared across every file of the run by the runner.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from airshift.upgrade.context import FileContext
from airshift.upgrade.dag_calls import is_dag_call, keyword, string_literal
from airshift.upgrade.model import Category, Finding, FixSafety, RuleMeta

DUPLICATE_TASK_ID = RuleMeta(
    code="AS350",
    name="duplicate-task-id",
    title="Two tasks with the same task_id in one DAG",
    why="Airflow 1.10 replaced the first task with a warning; Airflow 2.0 and later raise "
    "DuplicateTaskIdFound when the DAG file is parsed.",
    category=Category.REQUIRED,
    fix=FixSafety.NONE,
    deprecated_from="2.0",
    removed_in="2.0",
    limits="Ids built at run time (f-strings, loops, factories) are not compared.",
)
DUPLICATE_DAG_ID = RuleMeta(
    code="AS351",
    name="duplicate-dag-id",
    title="The same dag_id defined twice in the folder",
    why="Airflow 1.10 kept the last DAG parsed; Airflow 3's DAG processor reports the duplicate as an "
    "import error and loads neither reliably.",
    category=Category.REQUIRED,
    fix=FixSafety.NONE,
    deprecated_from="2.0",
    removed_in="2.0",
    limits="Only literal dag ids (DAG('id') / DAG(dag_id='id')) are compared; ids built at run time are not.",
)


def _calls_of(statements: list[ast.stmt]) -> Iterator[ast.Call]:
    """Calls that are the whole value of a straight-line statement (not inside if/for/def)."""
    for statement in statements:
        value = statement.value if isinstance(statement, ast.Expr | ast.Assign | ast.AnnAssign) else None
        if isinstance(value, ast.Call):
            yield value


class DuplicateIds:
    metas: tuple[RuleMeta, ...] = (DUPLICATE_TASK_ID, DUPLICATE_DAG_ID)

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if not ctx.imports.imports_airflow() or ctx.text.count("task_id") < 2:
            return
        groups: dict[str, list[ast.Call]] = {}
        for statement in ctx.tree.body:
            if isinstance(statement, ast.With):
                for item in statement.items:
                    if (
                        isinstance(item.context_expr, ast.Call)
                        and is_dag_call(ctx, item.context_expr)
                        and isinstance(item.optional_vars, ast.Name | type(None))
                    ):
                        name = (
                            item.optional_vars.id
                            if isinstance(item.optional_vars, ast.Name)
                            else f"<with {statement.lineno}>"
                        )
                        groups.setdefault(name, []).extend(
                            c for c in _calls_of(statement.body) if keyword(c, "dag") is None
                        )
        for call in _calls_of(ctx.tree.body):
            dag = keyword(call, "dag")
            if dag is not None and isinstance(dag.value, ast.Name):
                groups.setdefault(dag.value.id, []).append(call)
        for calls in groups.values():
            seen: dict[str, ast.Call] = {}
            for call in calls:
                task = keyword(call, "task_id")
                task_id = string_literal(task.value) if task is not None else None
                if task is None or task_id is None:
                    continue
                if task_id in seen:
                    yield ctx.finding(
                        DUPLICATE_TASK_ID, task,
                        f"task_id {task_id!r} is already used at line {seen[task_id].lineno} of this DAG: "
                        "Airflow 2+ raises DuplicateTaskIdFound; rename one"
                    )  # fmt: skip
                else:
                    seen[task_id] = call
