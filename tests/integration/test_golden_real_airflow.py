"""The migrated golden DAGs load in real Airflow (3.3.2 and 2.11.2, plus the providers `fix` asked for) with
zero import errors, and hold the same DAGs and tasks as the originals loaded in their real source Airflow.

Where airshift reports a change it cannot make exactly (a required finding left unfixed), the golden set
holds the reviewer's manual change in tests/golden/manual/; the test checks those are exactly the files
airshift flagged, applies them, and then expects zero import errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from airshift.verify.dagbag import DagBagResult, load_dagbag
from airshift.verify.runtimes import ensure_runtime
from tests.upgrade.test_golden import GOLDEN, migrate

pytestmark = pytest.mark.integration

SOURCE_AIRFLOW = {"airflow110": "1.10.15", "airflow2": "2.11.2"}
TARGET_AIRFLOW = {"3.3": "3.3.2", "2.11": "2.11.2"}


def _requirements(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _structure(result: DagBagResult) -> dict[str, set[str]]:
    """DAG id -> task ids, with sub-DAGs folded into their parent as TaskGroups do it:
    DAG 'parent.child' task 't' is task 'child.t' of DAG 'parent'."""
    folded: dict[str, set[str]] = {}
    for dag_id, info in result.dags.items():
        parent, dot, child = dag_id.rpartition(".")
        if dot and parent in result.dags:
            folded.setdefault(parent, set()).update(f"{child}.{task}" for task in info.task_ids)
        else:
            folded.setdefault(dag_id, set()).update(info.task_ids)
    for dag_id in result.dags:  # the SubDagOperator task itself becomes the group
        parent, dot, child = dag_id.rpartition(".")
        if dot and parent in folded:
            folded[parent].discard(child)
    return folded


@pytest.fixture(scope="module")
def sources() -> dict[str, DagBagResult]:
    loaded: dict[str, DagBagResult] = {}
    for name, version in SOURCE_AIRFLOW.items():
        folder = GOLDEN / "inputs" / name
        runtime = ensure_runtime(
            version, extra_requirements=_requirements(folder / "requirements-source.txt")
        )
        loaded[name] = load_dagbag(runtime, folder)
        assert loaded[name].import_errors == {}, f"the {name} inputs must load in Airflow {version}"
    return loaded


@pytest.mark.parametrize("target", sorted(TARGETS := TARGET_AIRFLOW))
@pytest.mark.parametrize("source", sorted(SOURCE_AIRFLOW))
def test_migrated_golden_dags_load_in_real_airflow(
    tmp_path: Path, sources: dict[str, DagBagResult], source: str, target: str
) -> None:
    out = tmp_path / "migrated"
    result = migrate(GOLDEN / "inputs" / source, out, target)
    flagged = {
        Path(report.path).name
        for report in result.files
        if any(p.category == "required" and not p.fixed for p in report.problems)
    }
    manual = GOLDEN / "manual" / f"target-{target}" / source
    overlays = sorted(p for p in manual.rglob("*") if p.is_file()) if manual.exists() else []
    assert {p.name for p in overlays} == flagged
    for overlay in overlays:
        shutil.copyfile(overlay, out / overlay.relative_to(manual))
    runtime = ensure_runtime(
        TARGETS[target], extra_requirements=_requirements(out / "airshift-requirements.txt")
    )
    result = load_dagbag(runtime, out)
    errors = {Path(f).name: e.message for f, e in result.import_errors.items()}
    assert errors == {}
    assert _structure(result) == _structure(sources[source])
