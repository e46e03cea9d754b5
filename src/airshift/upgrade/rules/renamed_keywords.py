"""Keyword arguments of Airflow classes renamed or removed in 3.0 beyond the DAG/operator basics.

- `use_task_execution_day=` of BranchDayOfWeekOperator and DayOfWeekSensor is `use_task_logical_date=`.
- `filename_template=` of the task log handlers is gone: the template is [logging] log_filename_template.
"""

from __future__ import annotations

from collections.abc import Iterator

from airshift.upgrade.context import FileContext, keyword_items
from airshift.upgrade.dag_calls import call_sites, keyword
from airshift.upgrade.model import Category, Finding, FixSafety, RuleMeta

USE_TASK_EXECUTION_DAY = RuleMeta(
    code="AS313",
    name="use-task-execution-day",
    title="`use_task_execution_day=` -> `use_task_logical_date=`",
    why="Airflow 3.0 renamed the argument of BranchDayOfWeekOperator and DayOfWeekSensor "
    "(standard provider; ruff AIR301).",
    category=Category.REQUIRED,
    fix=FixSafety.SAFE,
    deprecated_from="2.2",
    removed_in="3.0",
    acts_from="3.0",
)
FILENAME_TEMPLATE = RuleMeta(
    code="AS314",
    name="task-handler-filename-template",
    title="Task log handler `filename_template=` removed",
    why="Airflow 3.0 removed filename_template from FileTaskHandler and its subclasses; the name pattern is "
    "[logging] log_filename_template (Airflow 3 release notes; ruff AIR301).",
    category=Category.REQUIRED,
    fix=FixSafety.UNSAFE,  # the configured pattern applies from then on
    deprecated_from="2.3",
    removed_in="3.0",
    acts_from="3.0",
)

DAY_OF_WEEK_CLASSES = ("BranchDayOfWeekOperator", "DayOfWeekSensor")


class RenamedKeywords:
    metas: tuple[RuleMeta, ...] = (USE_TASK_EXECUTION_DAY, FILENAME_TEMPLATE)
    owned_arguments = frozenset({"use_task_execution_day", "filename_template"})

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if not ctx.imports.imports_airflow():
            return
        if "use_task_execution_day" not in ctx.text and "filename_template" not in ctx.text:
            return
        for site in call_sites(ctx).airflow:
            call, last = site.node, site.last
            item = keyword(call, "use_task_execution_day")
            if item is not None and last in DAY_OF_WEEK_CLASSES:
                if keyword(call, "use_task_logical_date") is not None:
                    yield ctx.finding(
                        USE_TASK_EXECUTION_DAY, item, f"{last}: keep `use_task_logical_date=` only"
                    )  # fmt: skip
                else:
                    yield ctx.finding(
                        USE_TASK_EXECUTION_DAY, item, f"{last}: `use_task_execution_day=` is `use_task_logical_date=`",
                        edits=[ctx.keyword_name_edit(item, "use_task_logical_date")]
                    )  # fmt: skip
            item = keyword(call, "filename_template")
            if item is not None and last.endswith("TaskHandler"):
                items = keyword_items(call)
                yield ctx.finding(
                    FILENAME_TEMPLATE, item,
                    f"{last}: `filename_template=` is no longer accepted; the pattern is [logging] "
                    f"log_filename_template (value here: {ctx.segment(item.value)})",
                    edits=[ctx.remove_item(items, items.index(item))]
                )  # fmt: skip
