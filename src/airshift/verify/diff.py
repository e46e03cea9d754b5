"""Compare the snapshot of the original DAGs with the snapshot of the migrated ones.

Each DAG and task is compared field by field after normalize.py has undone the changes the rules make on
purpose. Every remaining difference is reported where it is (DAG, task, field) with both values."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from airshift.upgrade.intended_changes import OperatorReplacement, intended_changes
from airshift.verify import normalize
from airshift.verify.result import DagComparison, Difference, VerifyResult
from airshift.verify.snapshot_model import DagSnapshot, Snapshot, TaskSnapshot

# DAG fields compared as plain values.
_DAG_FIELDS = ("end_date", "catchup", "max_active_runs", "max_active_tasks", "params")
# Task fields compared as plain values (after the task's operator and edges).
_TASK_FIELDS = (
    "retries",
    "retry_delay_s",
    "pool",
    "queue",
    "priority_weight",
    "weight_rule",
    "depends_on_past",
    "execution_timeout_s",
    "task_group",
)
_SLA_GONE = "Airflow 3 ignores sla_miss_callback (AS310: use a Deadline Alert)"
_SUBDAG = "SubDAG became a TaskGroup (AS501)"
# The marker the probe writes for a context object printed whole that has no field picture
# (probe/snapshot_probe.py NOT_COMPARABLE; a test keeps the two equal).
NOT_COMPARABLE = "not comparable across releases"
OPAQUE = "<opaque "  # the probe's picture of an object known only by its text (probe: OPAQUE)
NOT_COMPARABLE_REASON = "renders an Airflow object whose text differs between releases: not comparable"


def compare(before: Snapshot, after: Snapshot) -> VerifyResult:
    """Diff two snapshots: the original (source Airflow) and the migrated folder (target Airflow)."""
    original = before.model_copy(deep=True)
    folded = normalize.fold_subdags(original, after)
    comparisons: list[DagComparison] = []
    for dag_id in sorted(set(original.dags) | set(after.dags)):
        old, new = original.dags.get(dag_id), after.dags.get(dag_id)
        if old is None and new is not None:
            comparisons.append(
                DagComparison(
                    dag_id=dag_id,
                    file_after=new.file,
                    status="extra",
                    tasks_after=len(new.tasks),
                    differences=[Difference(dag_id=dag_id, field="dag", kind="extra", after=new.file)],
                )
            )
        elif new is None and old is not None:
            comparisons.append(
                DagComparison(
                    dag_id=dag_id,
                    file_before=old.file,
                    status="missing",
                    tasks_before=len(old.tasks),
                    differences=[Difference(dag_id=dag_id, field="dag", kind="missing", before=old.file)],
                )
            )
        elif old is not None and new is not None:
            differences = [_opaque_objects(d) for d in compare_dag(old, new, folded, after.airflow_version)]
            mismatch = any(d.is_mismatch for d in differences)
            comparisons.append(
                DagComparison(
                    dag_id=dag_id,
                    file_before=old.file,
                    file_after=new.file,
                    status="mismatch" if mismatch else "match",
                    tasks_before=len(old.tasks),
                    tasks_after=len(new.tasks),
                    differences=differences,
                )
            )
    return VerifyResult(
        original=before.folder,
        migrated=after.folder,
        source_airflow=before.airflow_version,
        target_airflow=after.airflow_version,
        logical_date=before.logical_date,
        dags=comparisons,
        problems_before=before.problems,
        problems_after=after.problems,
        seconds={"snapshot_before": before.seconds, "snapshot_after": after.seconds},
    )


def _opaque_objects(difference: Difference) -> Difference:
    """An object the probe could picture only by its text (OPAQUE), different on the two sides: its text
    may have changed with the release while its value did not, so it is not comparable, not a mismatch."""
    before, after = difference.before, difference.after
    if (
        difference.intended is None
        and difference.kind == "changed"
        and isinstance(before, str)
        and isinstance(after, str)
        and before.startswith(OPAQUE)
        and after.startswith(OPAQUE)
    ):
        difference.intended = NOT_COMPARABLE_REASON
    return difference


def compare_dag(
    old: DagSnapshot, new: DagSnapshot, folded: dict[str, str], target_version: str = ""
) -> list[Difference]:
    dag_id = old.dag_id
    found: list[Difference] = []

    def add(field: str, kind: str, before: Any = None, after: Any = None, **extra: Any) -> None:
        found.append(
            Difference(dag_id=dag_id, field=field, kind=kind, before=before, after=after, **extra)  # type: ignore[arg-type]
        )

    old_schedule, new_schedule = normalize.schedule(old.schedule), normalize.schedule(new.schedule)
    if old_schedule != new_schedule:
        add("schedule", "changed", old_schedule, new_schedule)
    if normalize.start_date(old) != normalize.start_date(new):
        add("start_date", "changed", normalize.start_date(old), normalize.start_date(new))
    for field in _DAG_FIELDS:
        if getattr(old, field) != getattr(new, field):
            add(field, "changed", getattr(old, field), getattr(new, field))
    if sorted(old.tags) != sorted(new.tags):
        add("tags", "changed", sorted(old.tags), sorted(new.tags))
    found.extend(_default_args(dag_id, old.default_args or {}, new.default_args or {}))
    found.extend(_callbacks(dag_id, None, old.callbacks, new.callbacks, target_version))
    found.extend(_render_run(dag_id, old, new))
    found.extend(_edges(dag_id, old, new))
    for task_id in sorted(set(old.tasks) | set(new.tasks)):
        old_task, new_task = old.tasks.get(task_id), new.tasks.get(task_id)
        if old_task is None:
            add("task", "extra", after=new_task.operator_class if new_task else None, task_id=task_id)
        elif new_task is None:
            add("task", "missing", before=old_task.operator_class, task_id=task_id)
        else:
            found.extend(compare_task(dag_id, old_task, new_task, task_id in folded, target_version))
    return found


def compare_task(
    dag_id: str, old: TaskSnapshot, new: TaskSnapshot, folded: bool = False, target_version: str = ""
) -> list[Difference]:
    task_id = old.task_id
    found: list[Difference] = []

    def add(field: str, before: Any, after: Any, intended: str | None = None) -> None:
        found.append(
            Difference(
                dag_id=dag_id,
                task_id=task_id,
                field=field,
                kind="changed",
                before=before,
                after=after,
                intended=intended,
            )
        )

    replacement = intended_replacement(old, new)
    if not same_operator(old, new):
        add("operator", old.operator_class, new.operator_class, replacement.reason if replacement else None)
    if replacement is not None:
        found.extend(_moved_fields(dag_id, old, new, replacement))
    if normalize.trigger_rule(old.trigger_rule) != new.trigger_rule:
        add("trigger_rule", old.trigger_rule, new.trigger_rule)
    for field in _TASK_FIELDS:
        before, after = getattr(old, field), getattr(new, field)
        if before != after:
            add(field, before, after, _SUBDAG if folded and field == "task_group" else None)
    found.extend(_callbacks(dag_id, task_id, old.callbacks, new.callbacks, target_version))
    found.extend(_rendered(dag_id, old, new))
    return found


def intended_replacement(old: TaskSnapshot, new: TaskSnapshot) -> OperatorReplacement | None:
    """The rule's declared replacement when the new operator is exactly what a rule turns the old one into."""
    replacement = intended_changes().operators.get(old.operator_class.rpartition(".")[2])
    if replacement is None or new.operator_class.rpartition(".")[2] != replacement.new_class:
        return None
    return replacement


def _moved_fields(
    dag_id: str, old: TaskSnapshot, new: TaskSnapshot, replacement: OperatorReplacement
) -> list[Difference]:
    """A templated value the replacement moved (BigQuery's `sql` into `configuration.query.query`) must
    render the same in its new place."""
    found = []
    for old_field, new_path in sorted(replacement.moved_fields.items()):
        if old_field in old.render_errors or old_field not in old.rendered:
            continue
        root, *rest = new_path.split(".")
        after: Any = new.rendered.get(root)
        for key in rest:
            after = after.get(key) if isinstance(after, dict) else None
        before = old.rendered[old_field]
        if before != after:
            found.append(
                Difference(
                    dag_id=dag_id,
                    task_id=old.task_id,
                    field=f"rendered.{old_field} -> {new_path}",
                    kind="changed",
                    before=before,
                    after=after,
                )
            )
    return found


def same_operator(old: TaskSnapshot, new: TaskSnapshot) -> bool:
    """One class, wherever it lives: the move table's canonical path, else the class name when both sides
    are Airflow's own classes (modules Airflow reorganised without a public alias, e.g. @task's)."""
    if (old.canonical_operator or old.operator_class) == (new.canonical_operator or new.operator_class):
        return True
    old_module, _, old_name = old.operator_class.rpartition(".")
    new_module, _, new_name = new.operator_class.rpartition(".")
    internal = old_module.startswith("airflow.") and new_module.startswith("airflow.")
    return internal and old_name == new_name and old_name.startswith("_")


def _edges(dag_id: str, old: DagSnapshot, new: DagSnapshot) -> list[Difference]:
    """Dependencies as 'a >> b' edges, each reported once on the downstream task."""

    def edges(dag: DagSnapshot) -> set[tuple[str, str]]:
        return {(up, t.task_id) for t in dag.tasks.values() for up in t.upstream}

    before, after = edges(old), edges(new)
    found = []
    both = set(old.tasks) & set(new.tasks)
    for up, down in sorted(before - after):
        if up in both and down in both:  # a missing task is reported once, as a task
            found.append(
                Difference(
                    dag_id=dag_id, task_id=down, field="upstream", kind="missing", before=f"{up} >> {down}"
                )
            )
    for up, down in sorted(after - before):
        if up in both and down in both:
            found.append(
                Difference(
                    dag_id=dag_id, task_id=down, field="upstream", kind="extra", after=f"{up} >> {down}"
                )
            )
    return found


def _default_args(dag_id: str, old: dict[str, Any], new: dict[str, Any]) -> list[Difference]:
    found = []
    renamed: dict[str, Any] = {}
    for key, value in old.items():
        if key == "trigger_rule" and isinstance(value, str):
            value = normalize.trigger_rule(value)
        if key not in normalize.DEFAULT_ARG_RENAMES or key in new:
            renamed[key] = value
            continue
        new_key = normalize.DEFAULT_ARG_RENAMES[key]
        if new_key is None:
            reason = f"the upgrade rules drop `{key}` (the target Airflow rejects it)"
            found.append(
                Difference(
                    dag_id=dag_id, field=f"default_args.{key}", kind="missing", before=value, intended=reason
                )
            )
        else:
            renamed[new_key] = value
    for key in sorted(set(renamed) | set(new)):
        if key not in new:
            found.append(
                Difference(dag_id=dag_id, field=f"default_args.{key}", kind="missing", before=renamed[key])
            )
        elif key not in renamed:
            found.append(Difference(dag_id=dag_id, field=f"default_args.{key}", kind="extra", after=new[key]))
        elif renamed[key] != new[key]:
            found.append(
                Difference(
                    dag_id=dag_id,
                    field=f"default_args.{key}",
                    kind="changed",
                    before=renamed[key],
                    after=new[key],
                )
            )
    return found


def _callbacks(
    dag_id: str, task_id: str | None, old: Iterable[str], new: Iterable[str], target_version: str
) -> list[Difference]:
    found = []
    before, after = set(old), set(new)
    for name in sorted(before - after):
        intended = _SLA_GONE if name == "sla_miss_callback" and target_version[:1] >= "3" else None
        found.append(
            Difference(
                dag_id=dag_id, task_id=task_id, field=f"callbacks.{name}", kind="missing", intended=intended
            )
        )
    for name in sorted(after - before):
        found.append(Difference(dag_id=dag_id, task_id=task_id, field=f"callbacks.{name}", kind="extra"))
    return found


def _render_run(dag_id: str, old: DagSnapshot, new: DagSnapshot) -> list[Difference]:
    """The run templates were rendered for must cover the same data interval on both sides.

    Its logical date may differ on purpose: on Airflow 3 a run's logical date is when it was triggered
    for some schedules, so the same interval can carry a different logical date."""
    if old.render_run is None or new.render_run is None:
        return []
    found = []
    for key in ("data_interval_start", "data_interval_end"):
        if old.render_run.get(key) != new.render_run.get(key):
            found.append(
                Difference(
                    dag_id=dag_id,
                    field=f"render_run.{key}",
                    kind="changed",
                    before=old.render_run.get(key),
                    after=new.render_run.get(key),
                )
            )
    return found


def _rendered(dag_id: str, old: TaskSnapshot, new: TaskSnapshot) -> list[Difference]:
    """Rendered templated fields both releases template. Both sides failing to render (e.g. a Variable
    with no DB) is the same outcome; one side failing, or different text, is a difference. A field only
    one release templates (a provider made `http_conn_id` templated) has nothing to compare against."""
    found = []
    fields = sorted(set(old.template_fields) & set(new.template_fields))
    if ("*" in old.render_errors) != ("*" in new.render_errors):  # no context at all on one side
        fields = ["*", *fields]
    for field in fields:
        old_error = old.render_errors.get(field, old.render_errors.get("*"))
        new_error = new.render_errors.get(field, new.render_errors.get("*"))
        if old_error is not None and new_error is not None:
            continue
        before: Any = f"RENDER ERROR: {old_error}" if old_error is not None else old.rendered.get(field)
        after: Any = f"RENDER ERROR: {new_error}" if new_error is not None else new.rendered.get(field)
        not_comparable = NOT_COMPARABLE in json.dumps([before, after])
        if before != after or not_comparable:
            found.append(
                Difference(
                    dag_id=dag_id,
                    task_id=old.task_id,
                    field=f"rendered.{field}",
                    kind="changed",
                    before=before,
                    after=after,
                    # An object printed whole whose text changed between releases (the probe pictures
                    # runs and task instances by their fields): not comparable, so never a mismatch.
                    intended=NOT_COMPARABLE_REASON if not_comparable else None,
                )
            )
    return found
