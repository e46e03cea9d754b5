"""Runtime parity: every templated field of the parity DAGs renders to the same string in the source Airflow
(1.10.15, 2.11.2) as in Airflow 3.3.2 after `airshift fix`, for the run that covers the same data interval.

The snapshot probe (verify/snapshot) renders each task for a fixed logical date without a database; the
differences Airflow itself introduced on purpose (and airshift cannot or should not hide) are listed in
BY_DESIGN with the reason, so a new difference fails the test.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from airshift.verify.dagrun import run_dag
from airshift.verify.runtimes import Runtime, ensure_runtime
from airshift.verify.snapshot import take_snapshot
from tests.upgrade.test_golden import migrate

pytestmark = pytest.mark.integration

PARITY = Path(__file__).resolve().parent.parent / "parity"
SOURCE_AIRFLOW = {"airflow110": "1.10.15", "airflow2": "2.11.2"}
LOGICAL_DATE = "2024-03-05T00:00:00"

# (source, dag_id, task_id, field) -> why the rendered text differs by design
BY_DESIGN: dict[tuple[str, str, str, str], str] = {}


def _requirements(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [
        line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")
    ]


def _rendered(snapshot: Any) -> dict[tuple[str, str, str], Any]:
    values: dict[tuple[str, str, str], Any] = {}
    for dag_id, dag in snapshot.dags.items():
        for task_id, task in dag.tasks.items():
            for field, value in task.rendered.items():
                values[(dag_id, task_id, field)] = value
            for field, error in task.render_errors.items():
                values[(dag_id, task_id, field)] = f"RENDER ERROR: {error}"
    return values


@pytest.mark.parametrize("source", sorted(SOURCE_AIRFLOW))
def test_templates_render_the_same_before_and_after(tmp_path: Path, source: str) -> None:
    folder = PARITY / source
    out = tmp_path / "migrated"
    migrate(folder, out, "3.3")
    before_runtime = ensure_runtime(
        SOURCE_AIRFLOW[source], extra_requirements=_requirements(folder / "requirements-source.txt")
    )
    after_runtime = ensure_runtime(
        "3.3.2", extra_requirements=_requirements(out / "airshift-requirements.txt")
    )
    before = take_snapshot(before_runtime, folder, logical_date=LOGICAL_DATE)
    after = take_snapshot(after_runtime, out, logical_date=LOGICAL_DATE)
    assert not before.problems and not after.problems, (before.problems, after.problems)
    old, new = _rendered(before), _rendered(after)
    assert old, "nothing was rendered"
    # The migrated operator may template more fields than the original (SQLExecuteQueryOperator templates
    # conn_id, parameters, ...): every original field must be there; the new ones must render.
    assert set(old) <= set(new), sorted(set(old) - set(new))
    assert not [key for key in set(new) - set(old) if str(new[key]).startswith("RENDER ERROR")]
    differences = {
        key: (old[key], new[key]) for key in old if old[key] != new[key] and (source, *key) not in BY_DESIGN
    }
    assert differences == {}


# Three migrated DAGs with bash, python and TaskFlow tasks and a template file (no external systems needed):
# `airflow dags test` in real Airflow 3.3.2 must run every task to success.
RUNNABLE = {
    "airflow110": ["parity_daily_bash", "parity_every_six_hours"],
    "airflow2": ["parity_taskflow_hourly"],
}


@pytest.mark.parametrize("source", sorted(RUNNABLE))
def test_migrated_dags_run_in_airflow_3(tmp_path: Path, source: str) -> None:
    out = tmp_path / "migrated"
    migrate(PARITY / source, out, "3.3")
    runtime = ensure_runtime("3.3.2", extra_requirements=_requirements(out / "airshift-requirements.txt"))
    for dag_id in RUNNABLE[source]:
        outcome = run_dag(runtime, out, dag_id, "2024-03-05T00:00:00+00:00", timeout=300)
        assert outcome.tasks, (dag_id, outcome.log_tail)
        states = {t.task_id: t.state for t in outcome.tasks}
        assert outcome.exit_code == 0 and set(states.values()) == {"success"}, (
            dag_id,
            states,
            outcome.log_tail,
        )


DEPLOYED_DAG = '''\
"""Parity: a script under an absolute deploy path (what /usr/local/airflow/dags is in production)."""
from datetime import datetime

from airflow import DAG
from airflow.operators.bash_operator import BashOperator

dag = DAG(
    "parity_deploy_path",
    start_date=datetime(2024, 1, 1),
    schedule_interval="@daily",
    catchup=False,
    template_searchpath=["{deploy}/scripts"],
)
nightly = BashOperator(task_id="nightly", bash_command="nightly.sh", dag=dag)
'''
NIGHTLY = 'echo "{{ ds }} {{ execution_date }} {{ next_ds }} {{ yesterday_ds_nodash }}"\n'


def _fix(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "airshift", "fix", "--no-cache", *arguments],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_templates_under_a_mapped_deploy_path_render_the_same(
    tmp_path: Path, runtime_110: Runtime, runtime_33: Runtime
) -> None:
    """The DAGs run from a deploy folder named by an absolute template_searchpath; airshift migrates the
    repository checkout with --path-map DEPLOY=CHECKOUT; the migration, deployed, renders what 1.10 did."""
    deploy, checkout = tmp_path / "deploy" / "dags", tmp_path / "checkout" / "dags"
    (checkout / "scripts").mkdir(parents=True)
    (checkout / "deploy_path.py").write_text(DEPLOYED_DAG.replace("{deploy}", str(deploy)))
    (checkout / "scripts" / "nightly.sh").write_text(NIGHTLY)
    # Where airshift runs, the deploy folder does not exist: unmapped, the entry is reported ...
    unmapped = _fix(str(checkout), "--out", str(tmp_path / "unmapped"))
    assert f"{deploy}/scripts is not on this machine" in unmapped.stdout, unmapped.stdout
    assert "template file nightly.sh is not in the folders airshift can see" in unmapped.stdout
    assert (tmp_path / "unmapped" / "scripts" / "nightly.sh").read_text() == NIGHTLY  # copied, not migrated
    # ... mapped, the checkout's copy of the script is migrated into --out.
    migrated = tmp_path / "migrated"
    fixed = _fix(str(checkout), "--out", str(migrated), "--path-map", f"{deploy}={checkout}")
    assert fixed.returncode in (0, 1), fixed.stdout + fixed.stderr
    assert (migrated / "scripts" / "nightly.sh").read_text() != NIGHTLY

    shutil.copytree(checkout, deploy)  # the estate as it runs today
    before = take_snapshot(runtime_110, deploy, logical_date=LOGICAL_DATE)
    shutil.rmtree(deploy)
    shutil.copytree(migrated, deploy)  # deploying the migration
    after = take_snapshot(runtime_33, deploy, logical_date=LOGICAL_DATE)
    assert not before.problems and not after.problems, (before.problems, after.problems)
    old, new = _rendered(before), _rendered(after)
    key = ("parity_deploy_path", "nightly", "bash_command")
    assert "2024-03-05" in str(old[key])
    assert old[key] == new[key]
