"""AS350 duplicate task ids in one DAG; AS351 duplicate DAG ids across the folder (through the runner)."""

from __future__ import annotations

from pathlib import Path

from airshift.upgrade.context import Settings
from airshift.upgrade.discovery import discover
from airshift.upgrade.registry import Selection
from airshift.upgrade.runner import RunOptions, run
from airshift.upgrade.versions import parse_target
from tests.upgrade.conftest import TODAY, codes
from tests.upgrade.conftest import run as analyse

SELECT = ("AS35",)


def test_duplicate_task_id_in_a_with_block_and_by_dag_argument() -> None:
    source = (
        "from airflow import DAG\nfrom airflow.operators.bash import BashOperator\n"
        "with DAG('d', schedule=None) as dag:\n"
        "    BashOperator(task_id='load', bash_command='a')\n"
        "    BashOperator(task_id='load', bash_command='b')\n"
        "other = DAG('o', schedule=None)\n"
        "BashOperator(task_id='x', bash_command='a', dag=other)\n"
        "BashOperator(task_id='x', bash_command='b', dag=other)\n"
    )
    result = analyse(source, select=SELECT)
    assert codes(result) == ["AS350", "AS350"] and result.text == source


def test_no_op_cases() -> None:
    for source in (
        # same id in two DAGs
        "from airflow import DAG\nfrom airflow.operators.bash import BashOperator\n"
        "with DAG('a', schedule=None):\n    BashOperator(task_id='t', bash_command='x')\n"
        "with DAG('b', schedule=None):\n    BashOperator(task_id='t', bash_command='x')\n",
        # branches and loops may build a task once
        "from airflow import DAG\nfrom airflow.operators.bash import BashOperator\n"
        "with DAG('a', schedule=None):\n    if X:\n        BashOperator(task_id='t', bash_command='x')\n"
        "    else:\n        BashOperator(task_id='t', bash_command='y')\n",
        # not Airflow
        "with Flow('a') as f:\n    Task(task_id='t')\n    Task(task_id='t')\n",
    ):
        result = analyse(source, select=SELECT)
        assert not codes(result), source


def _run(folder: Path, target: str = "3.3") -> dict[str, list[str]]:
    options = RunOptions(
        settings=Settings(target=parse_target(target), today=TODAY),
        selection=Selection(SELECT),
        fix=False,
        write=False,
    )
    result = run(discover([folder]), options)
    return {Path(r.path).name: [p.message for p in r.problems if p.code == "AS351"] for r in result.files}


def test_duplicate_dag_id_across_files(tmp_path: Path) -> None:
    dag = "from airflow import DAG\nwith DAG({!r}, schedule=None) as dag:\n    pass\n"
    (tmp_path / "a.py").write_text(dag.format("sales"))
    (tmp_path / "b.py").write_text(dag.format("sales"))
    (tmp_path / "c.py").write_text(dag.format("finance"))
    (tmp_path / "d.py").write_text("from mylib import DAG\nDAG('sales')\n")  # not Airflow's DAG
    found = _run(tmp_path)
    assert len(found["a.py"]) == 1 and "b.py:2" in found["a.py"][0]
    assert len(found["b.py"]) == 1 and "a.py:2" in found["b.py"][0]
    assert found["c.py"] == [] and found["d.py"] == []


def test_version_gate_duplicates_fail_on_every_target(tmp_path: Path) -> None:
    dag = "from airflow import DAG\nDAG(dag_id='same', schedule=None)\n"
    (tmp_path / "a.py").write_text(dag)
    (tmp_path / "b.py").write_text(dag)
    assert _run(tmp_path, target="2.11")["a.py"]  # 2.x rejects duplicates too
