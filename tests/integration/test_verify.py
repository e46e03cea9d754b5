"""`airshift verify` in real Airflow installs: the bundled examples (1.10.15 -> 3.3.2) and the golden Airflow 2
inputs (2.11.2 -> 3.3.2) verify after `fix`, deliberately wrong migrations are each reported, `--run`
reports task outcomes, and the snapshot survives DAG files that hang, crash, print or fail to import.

The bundled 1.10 examples must match completely. For the Airflow 2 inputs, the only differences allowed are
the two manual steps listed in UPGRADER_GAPS with the reason; any other difference fails the test."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from airshift.cli import app
from airshift.report import verify_html
from airshift.upgrade.context import Settings
from airshift.upgrade.discovery import discover
from airshift.upgrade.registry import Selection
from airshift.upgrade.runner import RunOptions, run
from airshift.upgrade.versions import parse_target
from airshift.verify.pipeline import FIX_REQUIREMENTS, Side, VerifyOptions, verify
from airshift.verify.result import VerifyResult
from airshift.verify.runtimes import read_requirements_file
from airshift.verify.snapshot_model import read_snapshot

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "src" / "airshift" / "examples" / "airflow110"
GOLDEN = ROOT / "tests" / "golden"
FIXTURES = ROOT / "tests" / "verify" / "fixtures"

_MANUAL = (
    "manual step: on a Dataset-scheduled DAG Airflow 2 rendered next_*/prev_* as None; airshift reports them "
    "(AS601/AS602) and the golden overlay in tests/golden/manual replaces them as a person would"
)
# (source, dag_id, task_id or None, field) -> why the migrated DAG still differs on purpose.
UPGRADER_GAPS: dict[tuple[str, str, str | None, str], str] = {
    ("airflow2", "ml_feature_refresh", "notify_ml_channel", "rendered.message"): _MANUAL,
    ("airflow2", "orders_warehouse_load", "upsert_orders", "rendered.sql"): _MANUAL,
}


def _migrate(source: Path, out: Path, target: str = "3.3") -> None:
    """`airshift fix --out` as a user runs it today (days_ago() rewrites count from today)."""
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    options = RunOptions(
        settings=Settings(target=parse_target(target), today=today),
        selection=Selection(),
        fix=True,
        write=True,
        out_dir=out,
    )
    result = run(discover([source]), options)
    assert not [f for f in result.files if f.status == "failed"]
    (out / FIX_REQUIREMENTS).write_text(
        "".join(f"{r.render()}\n" for r in result.requirements), encoding="utf-8"
    )


def _verify(original: Path, source: str, migrated: Path, **options: object) -> VerifyResult:
    requirements = original / "requirements-source.txt"
    extras = read_requirements_file(requirements) if requirements.exists() else []
    return verify(
        VerifyOptions(
            original=Side(original, source, requirements=extras),
            migrated=Side(
                migrated, "3.3.2", requirements=read_requirements_file(migrated / FIX_REQUIREMENTS)
            ),
            **options,  # type: ignore[arg-type]
        )
    )


def _unexplained(result: VerifyResult, source: str) -> list[str]:
    return [
        f"{d.where()} {d.field}: {d.before!r} -> {d.after!r}"
        for dag in result.dags
        for d in dag.mismatches
        if (source, d.dag_id, d.task_id, d.field) not in UPGRADER_GAPS
    ]


def test_bundled_examples_verify_from_110_to_33(tmp_path: Path) -> None:
    out = tmp_path / "migrated"
    _migrate(EXAMPLES, out)
    # The one change airshift flags for a person to make (TriggerDagRunOperator's python_callable).
    shutil.copytree(GOLDEN / "manual" / "target-3.3" / "airflow110", out, dirs_exist_ok=True)
    result = _verify(EXAMPLES, "1.10.15", out)
    assert result.problems_before == [] and result.problems_after == []
    assert {d.status for d in result.dags} <= {"match", "mismatch"}
    assert len(result.dags) == 6  # the SubDAG folded into its parent
    assert _unexplained(result, "airflow110") == []
    assert {d.dag_id: d.status for d in result.dags} == {d.dag_id: "match" for d in result.dags}


def test_golden_airflow2_inputs_verify_from_211_to_33(tmp_path: Path) -> None:
    source = GOLDEN / "inputs" / "airflow2"
    out = tmp_path / "migrated"
    _migrate(source, out)
    shutil.copytree(GOLDEN / "manual" / "target-3.3" / "airflow2", out, dirs_exist_ok=True)
    result = _verify(source, "2.11.2", out)
    assert result.problems_before == [] and result.problems_after == []
    assert {d.status for d in result.dags} <= {"match", "mismatch"}
    assert _unexplained(result, "airflow2") == []


def _break(text: str) -> str:
    """One wrong migration per DAG copy, written into the correctly migrated fixture's source."""
    edits = {
        "extract >> count >> load": "extract >> count\n        if name != 'dependency':\n            count >> load",
        "retries=3)": "retries=0 if name == 'retries' else 3)",
        '"echo load {{ ds_nodash }}"': '"echo load {{ ds }}" if name == "template" else "echo load {{ ds_nodash }}"',
        'task_id="load"': 'task_id="load_rows" if name == "rename" else "load"',
    }
    for old, new in edits.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def test_wrong_migrations_are_each_reported(tmp_path: Path) -> None:
    source = FIXTURES / "airflow2_pipeline"
    out = tmp_path / "migrated"
    _migrate(source, out)
    good = _verify(source, "2.11.2", out)
    assert good.ok, [d.mismatches for d in good.dags]
    dag_file = out / "pipelines.py"
    dag_file.write_text(_break(dag_file.read_text(encoding="utf-8")), encoding="utf-8")
    result = _verify(source, "2.11.2", out)
    found = {(d.dag_id, d.task_id, d.field, d.kind) for dag in result.dags for d in dag.mismatches}
    assert ("pipeline_dependency", "load", "upstream", "missing") in found
    assert ("pipeline_retries", "load", "retries", "changed") in found
    assert ("pipeline_template", "load", "rendered.bash_command", "changed") in found
    assert ("pipeline_rename", "load", "task", "missing") in found
    assert ("pipeline_rename", "load_rows", "task", "extra") in found
    assert not result.ok
    assert {d.dag_id: d.status for d in result.dags} == {
        "pipeline_dependency": "mismatch",
        "pipeline_retries": "mismatch",
        "pipeline_template": "mismatch",
        "pipeline_rename": "mismatch",
    }


def test_cli_verify_reports_a_mismatch_and_task_outcomes_of_a_run(tmp_path: Path) -> None:
    source = FIXTURES / "airflow2_pipeline"
    out = tmp_path / "migrated"
    _migrate(source, out)
    dag_file = out / "pipelines.py"
    # pipeline_retries: the load task now fails when run (and is not retried), the others succeed.
    dag_file.write_text(
        dag_file.read_text(encoding="utf-8")
        .replace("retries=3)", "retries=0 if name == 'retries' else 3)")
        .replace(
            '"echo load {{ ds_nodash }}"', '"exit 3" if name == "retries" else "echo load {{ ds_nodash }}"'
        ),
        encoding="utf-8",
    )
    report = tmp_path / "report.json"
    completed = CliRunner().invoke(
        app,
        [
            "verify", str(source), str(out), "--source-airflow", "2.11.2", "--target-airflow", "3.3.2",
            "--format", "json", "--output", str(report), "--run", "pipeline_retries",
        ],
    )  # fmt: skip
    assert completed.exit_code == 1, completed.output
    document = json.loads(report.read_text(encoding="utf-8"))
    assert document["ok"] is False and document["summary"]["runs_failed"] == 1
    result = VerifyResult.model_validate(document)
    [run_outcome] = result.runs
    states = {t.task_id: t.state for t in run_outcome.tasks}
    assert states["extract"] == "success" and states["count"] == "success" and states["load"] == "failed"
    page = verify_html.render(result)
    assert "pipeline_retries" in page and "rendered.bash_command" in page and "exit 3" in page
    assert "Task runs" in page and "<td>failed</td>" in page


def test_snapshot_reports_hanging_crashing_printing_and_broken_files(tmp_path: Path) -> None:
    output = tmp_path / "snap.json"
    completed = CliRunner().invoke(
        app,
        ["snapshot", str(FIXTURES / "bad_files"), "--airflow", "3.3.2", "-o", str(output), "--timeout", "2"],
    )
    assert completed.exit_code == 1, completed.output  # import errors
    snapshot = read_snapshot(output)
    assert sorted(snapshot.dags) == ["after_the_bad_ones", "good", "prints"]
    problems = {(p.file, p.kind) for p in snapshot.problems}
    assert problems == {
        ("hangs.py", "timeout"),
        ("crashes.py", "crash"),
        ("prints.py", "stdout"),
        ("missing_module.py", "import_error"),
    }
    [missing] = [p for p in snapshot.problems if p.file == "missing_module.py"]
    assert missing.line == 4 and "not_installed_anywhere_xyz" in missing.message
    assert not list((FIXTURES / "bad_files").glob("__pycache__"))  # nothing written into the DAG folder


def test_110_to_211_verifies_and_runs_in_airflow_211(tmp_path: Path) -> None:
    """A 1.10 estate that stops at 2.11: `fix --target 2.11`, verify 1.10.15 -> 2.11.2, and `--run` the
    migrated DAG with `airflow dags test` in real Airflow 2.11.2."""
    source = FIXTURES / "airflow110_pipeline"
    out = tmp_path / "migrated"
    _migrate(source, out, target="2.11")
    result = verify(
        VerifyOptions(
            original=Side(source, "1.10.15"),
            migrated=Side(out, "2.11.2", requirements=read_requirements_file(out / FIX_REQUIREMENTS)),
            run=["legacy_pipeline"],
        )
    )
    assert result.problems_before == [] and result.problems_after == []
    assert [(d.dag_id, d.status) for d in result.dags] == [("legacy_pipeline", "match")], [
        f"{d.where()} {d.field}: {d.before!r} -> {d.after!r}" for dag in result.dags for d in dag.mismatches
    ]
    [outcome] = result.runs
    assert outcome.ok, outcome.log_tail
    assert {t.task_id: t.state for t in outcome.tasks} == {
        "extract": "success",
        "count": "success",
        "load": "success",
    }

    # A date before the DAG's start: `dags test` exits 0 having run nothing, which is no proof.
    early = verify(
        VerifyOptions(
            original=Side(source, "1.10.15"),
            migrated=Side(out, "2.11.2", requirements=read_requirements_file(out / FIX_REQUIREMENTS)),
            logical_date="2023-06-01T00:00:00",
            run=["legacy_pipeline"],
        )
    )
    [nothing] = early.runs
    assert not nothing.ok and nothing.error is not None and "no task ran" in nothing.error


def test_fix_verify_in_place_proves_the_rewrite(tmp_path: Path) -> None:
    """`airshift fix --verify` on a folder in place: the original is kept aside for the comparison."""
    folder = tmp_path / "dags"
    shutil.copytree(FIXTURES / "airflow110_pipeline", folder)
    completed = CliRunner().invoke(
        app,
        ["fix", str(folder), "--target", "2.11", "--verify", "--source-airflow", "1.10.15",
         "--target-airflow", "2.11.2"],
    )  # fmt: skip
    assert completed.exit_code == 0, completed.output
    rewritten = (folder / "legacy_pipeline.py").read_text(encoding="utf-8")
    assert "airflow.operators.bash_operator" not in rewritten and "provide_context=True" not in rewritten
    assert "from airflow.operators.bash import BashOperator" in rewritten


POD_DAG = """\
from datetime import datetime

from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from airflow.sdk import DAG

with DAG("pod_job", start_date=datetime(2024, 1, 1), schedule=None):
    KubernetesPodOperator(task_id="job", image="busybox", cmds=["echo", "{{ ds }}"])
"""


def test_each_runtime_gets_the_providers_its_dags_import(tmp_path: Path) -> None:
    """No requirements given: the runtime of the side gets the provider the DAG imports (the cached
    3.3.2 + cncf-kubernetes runtime of the conversion test); with --no-auto-requirements the import fails."""
    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "pod_job.py").write_text(POD_DAG)
    empty = tmp_path / "empty"
    empty.mkdir()

    def run_verify(auto: bool) -> VerifyResult:
        return verify(
            VerifyOptions(
                original=Side(empty, "3.3.2"), migrated=Side(folder, "3.3.2"), auto_requirements=auto
            )
        )

    with_providers = run_verify(True)
    assert with_providers.problems_after == []
    assert [d.dag_id for d in with_providers.dags] == [
        "pod_job"
    ]  # loaded (an extra DAG: the other side is empty)
    without = run_verify(False)
    assert [p.kind for p in without.problems_after] == ["import_error"]
    assert "cncf" in without.problems_after[0].message
