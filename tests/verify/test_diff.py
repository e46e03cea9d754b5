"""The diff on hand-made snapshots: what counts as the same, what is reported, and where."""

from __future__ import annotations

import itertools
import json
from typing import Any

from rich.console import Console

from airshift.report import verify_html, verify_json, verify_text
from airshift.verify.canonical import canonical_class
from airshift.verify.diff import compare
from airshift.verify.result import Difference, VerifyResult
from airshift.verify.snapshot_model import DagSnapshot, FileProblem, Snapshot, TaskSnapshot


def task(task_id: str, cls: str = "airflow.operators.bash.BashOperator", **fields: Any) -> TaskSnapshot:
    values: dict[str, Any] = {
        "task_id": task_id,
        "operator_class": cls,
        "trigger_rule": "all_success",
        "retries": 1,
        "retry_delay_s": 300.0,
        "pool": "default_pool",
        "queue": "default",
        "priority_weight": 1,
        "template_fields": ["bash_command"],
        "rendered": {"bash_command": f"echo {task_id} 2024-03-01"},
    }
    values.update(fields)
    made = TaskSnapshot(**values)
    made.canonical_operator = canonical_class(made.operator_class)
    return made


def chain(*tasks: TaskSnapshot) -> dict[str, TaskSnapshot]:
    """a >> b >> c."""
    for up, down in itertools.pairwise(tasks):
        up.downstream = sorted({*up.downstream, down.task_id})
        down.upstream = sorted({*down.upstream, up.task_id})
    return {t.task_id: t for t in tasks}


def dag(dag_id: str, tasks: dict[str, TaskSnapshot], **fields: Any) -> DagSnapshot:
    values: dict[str, Any] = {
        "dag_id": dag_id,
        "file": f"{dag_id}.py",
        "schedule": {"kind": "cron", "expression": "0 0 * * *", "timezone": "UTC", "data_intervals": True},
        "start_date": "2024-01-01T00:00:00Z",
        "catchup": True,
        "max_active_runs": 16,
        "max_active_tasks": 16,
        "default_args": {"owner": "data", "retries": 1},
        "tasks": tasks,
        "render_run": {
            "data_interval_start": "2024-03-01T00:00:00Z",
            "data_interval_end": "2024-03-02T00:00:00Z",
        },
    }
    values.update(fields)
    return DagSnapshot(**values)


def snap(version: str, *dags: DagSnapshot, problems: list[FileProblem] | None = None) -> Snapshot:
    return Snapshot(
        airflow_version=version,
        python_version="3.12.1",
        folder=f"/dags-{version}",
        logical_date="2024-03-01T00:00:00",
        dags={d.dag_id: d for d in dags},
        problems=problems or [],
    )


def pipeline(version: str = "2.11.2", cls: str = "airflow.operators.bash.BashOperator") -> DagSnapshot:
    return dag("etl", chain(task("extract", cls), task("transform", cls), task("load", cls)))


def mismatches(result: VerifyResult) -> list[tuple[str | None, str, str]]:
    return [(d.task_id, d.field, d.kind) for c in result.dags for d in c.differences if d.is_mismatch]


def test_identical_snapshots_match() -> None:
    result = compare(snap("2.11.2", pipeline()), snap("3.3.2", pipeline()))
    assert result.ok and mismatches(result) == []
    assert result.summary().matching == 1


def test_moved_class_paths_are_the_same_operator() -> None:
    before = pipeline(cls="airflow.operators.bash_operator.BashOperator")
    after = pipeline(cls="airflow.providers.standard.operators.bash.BashOperator")
    assert compare(snap("1.10.15", before), snap("3.3.2", after)).ok


def test_a_different_operator_is_reported() -> None:
    after = pipeline()
    after.tasks["load"] = task("load", "airflow.operators.python.PythonOperator", upstream=["transform"])
    assert mismatches(compare(snap("2.11.2", pipeline()), snap("3.3.2", after))) == [
        ("load", "operator", "changed")
    ]


def test_dropped_dependency_is_reported_on_the_downstream_task() -> None:
    after = pipeline()
    after.tasks["transform"].downstream = []
    after.tasks["load"].upstream = []
    result = compare(snap("2.11.2", pipeline()), snap("3.3.2", after))
    assert mismatches(result) == [("load", "upstream", "missing")]
    difference = result.dags[0].differences[0]
    assert difference.before == "transform >> load"
    assert "dependency lost: transform >> load" in verify_text.describe(difference)


def test_lost_retries_are_reported() -> None:
    after = pipeline()
    after.tasks["load"].retries = 0
    result = compare(snap("2.11.2", pipeline()), snap("3.3.2", after))
    assert mismatches(result) == [("load", "retries", "changed")]
    assert not result.ok and result.summary().mismatched == 1


def test_changed_rendered_template_is_reported_with_both_texts() -> None:
    after = pipeline()
    after.tasks["extract"].rendered = {"bash_command": "echo extract 2024-03-02"}
    result = compare(snap("2.11.2", pipeline()), snap("3.3.2", after))
    [difference] = result.dags[0].differences
    assert (difference.field, difference.before, difference.after) == (
        "rendered.bash_command",
        "echo extract 2024-03-01",
        "echo extract 2024-03-02",
    )


def test_render_error_on_one_side_is_a_difference_on_both_sides_is_not() -> None:
    before, after = pipeline(), pipeline()
    after.tasks["load"].rendered = {}
    after.tasks["load"].render_errors = {"bash_command": "UndefinedError: 'next_ds' is undefined"}
    assert mismatches(compare(snap("2.11.2", before), snap("3.3.2", after))) == [
        ("load", "rendered.bash_command", "changed")
    ]
    before.tasks["load"].rendered = {}
    before.tasks["load"].render_errors = {"bash_command": "KeyError: Variable x does not exist"}
    assert compare(snap("2.11.2", before), snap("3.3.2", after)).ok


def test_a_field_only_one_release_templates_is_not_compared() -> None:
    after = pipeline()
    after.tasks["load"].template_fields = ["bash_command", "env"]
    after.tasks["load"].rendered["env"] = {"A": "1"}
    assert compare(snap("2.11.2", pipeline()), snap("3.3.2", after)).ok


def test_renamed_task_is_one_missing_and_one_extra_task() -> None:
    after = dag("etl", chain(task("extract"), task("transform"), task("load_rows")))
    assert mismatches(compare(snap("2.11.2", pipeline()), snap("3.3.2", after))) == [
        ("load", "task", "missing"),
        ("load_rows", "task", "extra"),
    ]


def test_missing_and_extra_dags_and_import_errors_fail_the_verification() -> None:
    problem = FileProblem(file="broken.py", kind="import_error", message="SyntaxError: x", line=3)
    result = compare(snap("2.11.2", pipeline()), snap("3.3.2", dag("other", {}), problems=[problem]))
    assert [(d.dag_id, d.status) for d in result.dags] == [("etl", "missing"), ("other", "extra")]
    summary = result.summary()
    assert (summary.missing, summary.extra, summary.import_errors_after) == (1, 1, 1)
    assert not result.ok


def test_stdout_alone_is_not_an_import_error() -> None:
    printed = FileProblem(file="noisy.py", kind="stdout", message="printed 5 characters")
    assert compare(snap("2.11.2", pipeline()), snap("3.3.2", pipeline(), problems=[printed])).ok


def test_rule_renames_are_normalized() -> None:
    before = pipeline()
    before.tasks["load"].trigger_rule = "none_failed_or_skipped"
    before.default_args = {
        "owner": "data",
        "task_concurrency": 2,
        "bigquery_conn_id": "gcp",
        "provide_context": True,
    }
    after = pipeline()
    after.tasks["load"].trigger_rule = "none_failed_min_one_success"
    after.default_args = {"owner": "data", "max_active_tis_per_dag": 2, "gcp_conn_id": "gcp"}
    result = compare(snap("1.10.15", before), snap("3.3.2", after))
    assert result.ok
    [intended] = result.dags[0].differences
    assert intended.field == "default_args.provide_context" and intended.intended


def test_schedule_spellings_of_one_schedule_match() -> None:
    delta_110 = {"kind": "delta", "seconds": 3600.0}
    delta_3 = {"kind": "delta", "seconds": 3600.0, "data_intervals": True}
    before = dag(
        "d", {}, schedule=delta_110, start_date=None, default_args={"start_date": "2024-01-01T00:00:00Z"}
    )
    after = dag("d", {}, schedule=delta_3, default_args={"start_date": "2024-01-01T00:00:00Z"})
    assert compare(snap("1.10.15", before), snap("3.3.2", after)).ok


def test_lost_data_intervals_are_reported() -> None:
    after = pipeline()
    after.schedule = {**after.schedule, "data_intervals": False}
    after.render_run = {
        "data_interval_start": "2024-03-01T00:00:00Z",
        "data_interval_end": "2024-03-01T00:00:00Z",
    }
    assert mismatches(compare(snap("2.11.2", pipeline()), snap("3.3.2", after))) == [
        (None, "schedule", "changed"),
        (None, "render_run.data_interval_end", "changed"),
    ]


def test_subdag_folds_into_a_task_group() -> None:
    sub = dag("parent.section", chain(task("a"), task("b")))
    parent = dag(
        "parent",
        chain(
            task("start"), task("section", "airflow.operators.subdag_operator.SubDagOperator"), task("end")
        ),
    )
    for t in parent.tasks.values():
        t.template_fields, t.rendered = [], {}
    after_tasks = chain(
        task("start", template_fields=[], rendered={}),
        task("section.a", task_group="section", rendered={"bash_command": "echo a 2024-03-01"}),
        task("section.b", task_group="section", rendered={"bash_command": "echo b 2024-03-01"}),
        task("end", template_fields=[], rendered={}),
    )
    result = compare(snap("1.10.15", parent, sub), snap("3.3.2", dag("parent", after_tasks)))
    assert mismatches(result) == []
    assert result.dags[0].differences == []
    assert "parent.section" not in {d.dag_id for d in result.dags}


def test_sla_miss_callback_gone_on_airflow_3_is_intended() -> None:
    before = pipeline()
    before.callbacks = ["on_failure_callback", "sla_miss_callback"]
    after = pipeline()
    after.callbacks = ["on_failure_callback"]
    result = compare(snap("2.11.2", before), snap("3.3.2", after))
    assert result.ok and result.summary().intended == 1
    after.callbacks = []
    assert mismatches(compare(snap("2.11.2", before), snap("3.3.2", after))) == [
        (None, "callbacks.on_failure_callback", "missing")
    ]


def test_reports_escape_user_data_and_agree() -> None:
    after = pipeline()
    after.tasks["load"].rendered = {"bash_command": "<script>alert(1)</script>"}
    problem = FileProblem(file="<b>bad</b>.py", kind="import_error", message="Error: <img src=x>", line=2)
    result = compare(snap("2.11.2", pipeline()), snap("3.3.2", after, problems=[problem]))
    page = verify_html.render(result)
    assert "<script>" not in page and "&lt;script&gt;" in page and "<img" not in page
    assert "http://" not in page and "https://" not in page  # self-contained: no external assets
    document = json.loads(verify_json.render(result))
    assert document["ok"] is False and document["summary"]["differences"] == 1
    assert document["dags"][0]["differences"][0]["mismatch"] is True
    console = Console(record=True, width=200)
    verify_text.render(console, result)
    text = console.export_text()
    assert "rendered.bash_command" in text and "<b>bad</b>.py:2" in text and "FAILED" in text


def test_difference_where_names_dag_and_task() -> None:
    assert Difference(dag_id="d", task_id="t", field="retries", kind="changed").where() == "d.t"


def test_objects_printed_whole_are_compared_by_their_fields_or_reported_not_comparable() -> None:
    from airshift.verify import diff
    from airshift.verify.probe import snapshot_probe

    assert diff.NOT_COMPARABLE == snapshot_probe.NOT_COMPARABLE
    run = "<dag_run dag_id=etl run_id=scheduled__2024-03-01 logical_date=2024-03-01T00:00:00Z>"
    same = compare(
        snap("1.10.15", dag("etl", {"t": task("t", rendered={"bash_command": f"echo {run}"})})),
        snap("3.3.2", dag("etl", {"t": task("t", rendered={"bash_command": f"echo {run}"})})),
    )
    assert same.ok and not same.dags[0].differences
    other_run = run.replace("etl", "other")
    different = compare(
        snap("1.10.15", dag("etl", {"t": task("t", rendered={"bash_command": f"echo {run}"})})),
        snap("3.3.2", dag("etl", {"t": task("t", rendered={"bash_command": f"echo {other_run}"})})),
    )
    assert mismatches(different) == [("t", "rendered.bash_command", "changed")]
    marker = "<conf: not comparable across releases>"
    opaque = compare(
        snap("1.10.15", dag("etl", {"t": task("t", rendered={"bash_command": f"echo {marker}"})})),
        snap("3.3.2", dag("etl", {"t": task("t", rendered={"bash_command": f"echo {marker}"})})),
    )
    assert opaque.ok and mismatches(opaque) == []
    noted = opaque.dags[0].differences
    assert [(d.field, d.intended) for d in noted] == [("rendered.bash_command", diff.NOT_COMPARABLE_REASON)]


def test_objects_known_only_by_their_text_are_not_comparable_when_the_text_differs() -> None:
    from airshift.verify import diff
    from airshift.verify.probe import snapshot_probe

    assert diff.OPAQUE == snapshot_probe.OPAQUE
    old_tz, new_tz = "<opaque Timezone <Timezone [UTC]>>", "<opaque Timezone Timezone('UTC')>"
    result = compare(
        snap(
            "1.10.15",
            dag("etl", pipeline().tasks, default_args={"owner": "data", "retries": 1, "tz": old_tz}),
        ),
        snap(
            "3.3.2", dag("etl", pipeline().tasks, default_args={"owner": "data", "retries": 1, "tz": new_tz})
        ),
    )
    assert result.ok and mismatches(result) == []
    noted = [d for d in result.dags[0].differences if d.field == "default_args.tz"]
    assert noted and noted[0].intended == diff.NOT_COMPARABLE_REASON
    # a plain value that changed is still a mismatch
    changed = compare(
        snap("1.10.15", dag("etl", pipeline().tasks, default_args={"owner": "data", "retries": 1})),
        snap("3.3.2", dag("etl", pipeline().tasks, default_args={"owner": "ops", "retries": 1})),
    )
    assert [(d.field, d.kind) for c in changed.dags for d in c.differences if d.is_mismatch] == [
        ("default_args.owner", "changed")
    ]


def test_probe_pictures_objects_by_their_fields_when_they_have_them() -> None:
    from airshift.verify.probe import snapshot_probe as probe

    class Resources:  # a Kubernetes client model: to_dict() gives its fields
        def to_dict(self) -> dict[str, object]:
            return {"limits": {"memory": "1Gi"}, "requests": None}

    class Opaque:
        def __str__(self) -> str:
            return "Opaque(1)"

    assert probe._plain(Resources()) == {"limits": {"memory": "1Gi"}, "requests": None}
    assert probe._plain(Opaque()) == "<opaque Opaque Opaque(1)>"


def _bigquery(cls: str, **fields: Any) -> DagSnapshot:
    return dag("bq", {"q": task("q", cls, **fields)})


def test_a_replaced_operators_moved_query_is_still_compared() -> None:
    old = _bigquery(
        "airflow.contrib.operators.bigquery_operator.BigQueryOperator",
        template_fields=["sql"],
        rendered={"sql": "SELECT 1 FROM t WHERE day = '2024-03-01'"},
    )

    def migrated(query: str) -> DagSnapshot:
        return _bigquery(
            "airflow.providers.google.cloud.operators.bigquery.BigQueryInsertJobOperator",
            template_fields=["configuration"],
            rendered={"configuration": {"query": {"query": query, "useLegacySql": True}}},
        )

    same = compare(snap("1.10.15", old), snap("3.3.2", migrated("SELECT 1 FROM t WHERE day = '2024-03-01'")))
    assert same.ok and same.dags[0].differences == []  # the move table already calls them one operator

    wrong = compare(snap("1.10.15", old), snap("3.3.2", migrated("SELECT 1 FROM t WHERE day = '2024-03-02'")))
    assert mismatches(wrong) == [("q", "rendered.sql -> configuration.query.query", "changed")]


def test_the_kubernetes_conversion_is_intended_but_not_any_other_operator_change() -> None:
    python = pipeline(cls="airflow.providers.standard.operators.python.PythonOperator")
    pod = pipeline(cls="airflow.providers.cncf.kubernetes.decorators.kubernetes._KubernetesDecoratedOperator")
    assert compare(snap("2.11.2", python), snap("3.3.2", pod)).ok
    bash = pipeline(cls="airflow.providers.standard.operators.bash.BashOperator")
    assert mismatches(compare(snap("2.11.2", python), snap("3.3.2", bash))) == [
        (t, "operator", "changed") for t in ("extract", "load", "transform")
    ]
