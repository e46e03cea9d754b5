"""Bring an original snapshot into the shape the upgrade rules give the migrated one.

Only changes the rules make on purpose are undone here, read from the upgrader's one public statement of
them (airshift.upgrade.intended_changes: default_args renames, trigger-rule renames), which the rules
themselves declare, so verify and fix cannot drift apart. What remains different afterwards is a real
difference."""

from __future__ import annotations

from typing import Any

from airshift.upgrade.intended_changes import intended_changes
from airshift.verify.snapshot_model import DagSnapshot, Snapshot, TaskSnapshot

# default_args keys the rules rename (new name) or drop (None).
DEFAULT_ARG_RENAMES: dict[str, str | None] = dict(intended_changes().default_args)
TRIGGER_RULE_RENAMES: dict[str, str] = dict(intended_changes().trigger_rules)


def trigger_rule(value: str) -> str:
    return TRIGGER_RULE_RENAMES.get(value, value)


def schedule(value: dict[str, Any]) -> dict[str, Any]:
    """Spell one schedule one way across releases.

    1.10 has no timetables: a timedelta schedule there always had data intervals, like 2.x's default.
    The asset timetable's summary names the class ("Dataset"/"Asset"), not the schedule."""
    result = dict(value)
    if result.get("kind") == "delta":
        result.setdefault("data_intervals", True)
    if result.get("kind") in ("cron", "delta") and not result.get("timezone"):
        result["timezone"] = "UTC"
    if result.get("kind") == "delta":
        result.pop("timezone", None)
    if result.get("kind") == "assets":
        result.pop("summary", None)
    time_part = result.get("time")
    if isinstance(time_part, dict):
        result["time"] = schedule(time_part)
    return result


def start_date(dag: DagSnapshot) -> str | None:
    """The DAG's start date; 1.10 leaves DAG.start_date unset when only default_args carries it."""
    if dag.start_date is not None:
        return dag.start_date
    value = (dag.default_args or {}).get("start_date")
    return value if isinstance(value, str) else None


def fold_subdags(before: Snapshot, after: Snapshot) -> dict[str, str]:
    """Fold the original's sub-DAGs into their parents the way the SubDAG -> TaskGroup rule does.

    Sub-DAG 'parent.child' with task 't' becomes task 'child.t' of 'parent'; the SubDagOperator task
    'child' disappears and its upstream/downstream edges move to the group's first/last tasks. Only
    sub-DAGs the migrated snapshot no longer has are folded. Returns {folded task id: sub-DAG id}."""
    folded: dict[str, str] = {}
    for sub_id in sorted(before.dags, key=lambda d: -d.count(".")):  # innermost first
        parent_id, dot, child = sub_id.rpartition(".")
        if not dot or sub_id in after.dags or parent_id not in before.dags:
            continue
        parent, sub = before.dags[parent_id], before.dags.pop(sub_id)
        folded.update(_fold(parent, sub, child))
    return folded


def _fold(parent: DagSnapshot, sub: DagSnapshot, child: str) -> dict[str, str]:
    def inner(task_id: str) -> str:
        return f"{child}.{task_id}"

    holder = parent.tasks.pop(child, None)
    above = list(holder.upstream) if holder else []
    below = list(holder.downstream) if holder else []
    roots = [inner(t.task_id) for t in sub.tasks.values() if not t.upstream]
    leaves = [inner(t.task_id) for t in sub.tasks.values() if not t.downstream]
    moved: dict[str, str] = {}
    for task in sub.tasks.values():
        copy = task.model_copy(deep=True)
        copy.task_id = inner(task.task_id)
        copy.upstream = sorted(inner(t) for t in task.upstream)
        copy.downstream = sorted(inner(t) for t in task.downstream)
        if copy.task_id in roots:
            copy.upstream = sorted({*copy.upstream, *above})
        if copy.task_id in leaves:
            copy.downstream = sorted({*copy.downstream, *below})
        copy.task_group = child if not task.task_group else f"{child}.{task.task_group}"
        parent.tasks[copy.task_id] = copy
        moved[copy.task_id] = sub.dag_id
    for task_id in above:
        _replace(parent.tasks.get(task_id), "downstream", child, roots)
    for task_id in below:
        _replace(parent.tasks.get(task_id), "upstream", child, leaves)
    parent.tasks = dict(sorted(parent.tasks.items()))
    return moved


def _replace(task: TaskSnapshot | None, side: str, old: str, new: list[str]) -> None:
    if task is None:
        return
    current = set(getattr(task, side))
    current.discard(old)
    setattr(task, side, sorted(current | set(new)))
