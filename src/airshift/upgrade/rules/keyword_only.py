"""Positional arguments that Airflow 3 takes only by keyword, or in another order.

Airflow 3's DAG takes `dag_id` positionally and everything else by keyword only, so the 1.10/2.x idiom
`DAG("id", "a description", schedule_interval=...)` raises TypeError. TaskGroup still takes positional
arguments but gained `group_display_name` second, so `TaskGroup("g", False)` silently means something else.
Each positional argument is rewritten to the keyword it meant where the old order is known: 1.10 and 2.x
agree on DAG's first three parameters (the third is the schedule, `schedule=` on 3.x), 1.10's order is
fixed beyond that; for a 2.x file a fourth positional DAG argument is ambiguous (2.2 and 2.4 inserted
parameters) and is reported instead. Parameter orders were read from the real 1.10.15, 2.11.2 and 3.3.2
runtimes (`inspect.signature`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from airshift.upgrade.context import FileContext
from airshift.upgrade.dag_calls import call_sites
from airshift.upgrade.model import Category, Finding, FixSafety, RuleMeta

POSITIONAL = RuleMeta(
    code="AS312",
    name="keyword-only-arguments",
    title="Positional arguments to DAG / TaskGroup -> keywords",
    why="Airflow 3.0 made every DAG parameter but dag_id keyword-only and inserted group_display_name "
    "as TaskGroup's second parameter (Airflow 3 DAG and TaskGroup signatures).",
    category=Category.REQUIRED,
    fix=FixSafety.SAFE,
    deprecated_from="3.0",
    removed_in="3.0",
    limits="A 2.x DAG with four or more positional arguments: 2.2 and 2.4 inserted parameters, so the "
    "meaning of the fourth depends on the 2.x release; it is reported, not rewritten.",
)

# Old positional parameter orders, as the 1.10.15 and 2.11.2 signatures list them.
DAG_110 = (
    "dag_id", "description", "schedule_interval", "start_date", "end_date", "full_filepath",
    "template_searchpath", "template_undefined", "user_defined_macros", "user_defined_filters",
    "default_args", "concurrency", "max_active_runs", "dagrun_timeout", "sla_miss_callback",
    "default_view", "orientation", "catchup", "on_success_callback", "on_failure_callback", "doc_md",
    "params", "access_control", "is_paused_upon_creation", "jinja_environment_kwargs", "tags",
)  # fmt: skip
DAG_2X_SURE = 3  # dag_id, description and the schedule: the same in every 2.x release
TASK_GROUP_2X = (
    "group_id", "prefix_group_id", "parent_group", "dag", "default_args", "tooltip", "ui_color",
    "ui_fgcolor", "add_suffix_on_collision",
)  # fmt: skip
TASK_GROUP_CLASSES = frozenset(
    {
        "airflow.utils.task_group.TaskGroup",
        "airflow.sdk.TaskGroup",
        "airflow.sdk.definitions.taskgroup.TaskGroup",
    }
)
# On 3.x the schedule is one keyword; the AS301 rule would rename schedule_interval= next anyway.
RENAMED_ON_3X = {"schedule_interval": "schedule"}


class KeywordOnlyArguments:
    metas: tuple[RuleMeta, ...] = (POSITIONAL,)

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if not ctx.imports.imports_airflow():
            return
        for site in call_sites(ctx).all:
            call = site.node
            if len(call.args) < 2 or any(isinstance(a, ast.Starred) for a in call.args):
                continue
            if site.guarded:
                continue  # compat code written for several versions on purpose
            if site.dag and site.qualified is not None:  # bound by an import, not a name from a star import
                order = DAG_110 if ctx.source_version == "1.10" else DAG_110[:DAG_2X_SURE]
                yield from self._keywords(ctx, call, "DAG", order, keep=1)
            elif site.qualified in TASK_GROUP_CLASSES:
                yield from self._keywords(ctx, call, "TaskGroup", TASK_GROUP_2X, keep=1)

    def _keywords(
        self, ctx: FileContext, call: ast.Call, what: str, order: tuple[str, ...], keep: int
    ) -> Iterator[Finding]:
        extra = call.args[keep:]
        if len(call.args) > len(order):
            yield ctx.finding(
                POSITIONAL,
                call.args[len(order)] if len(order) < len(call.args) else call,
                f"{what}(...) takes only `{order[0]}` positionally on Airflow 3; the meaning of positional "
                f"argument {len(order) + 1} depends on the Airflow 2 release: pass it by keyword",
            )
            return
        given = {k.arg for k in call.keywords}
        names = [RENAMED_ON_3X.get(order[keep + i], order[keep + i]) for i in range(len(extra))]
        clash = [n for n in names if n in given]
        if clash:
            yield ctx.finding(
                POSITIONAL, call, f"{what}(...) gets `{clash[0]}` both positionally and by keyword"
            )
            return
        edits = [
            ctx.replace(arg, f"{name}={ctx.segment(arg)}") for arg, name in zip(extra, names, strict=True)
        ]
        listed = ", ".join(f"`{name}=`" for name in names)
        yield ctx.finding(
            POSITIONAL, extra[0], f"{what}(...) takes these by keyword on Airflow 3: {listed}", edits=edits
        )
