"""AS951 runtime-varying values in DAG/task arguments (ruff AIR304); AS952 task variable vs task_id (AIR001)."""

from __future__ import annotations

from tests.upgrade.conftest import codes, run

SELECT = ("AS95",)


def test_dynamic_values_in_dag_and_task_arguments() -> None:
    source = (
        "import datetime as dt\nimport pendulum\nfrom airflow import DAG\nfrom airflow.operators.bash import BashOperator\n"
        "dag = DAG('d', start_date=dt.datetime.now(), schedule=None)\n"
        "run = BashOperator(task_id='run', bash_command='x', execution_timeout=pendulum.now() - pendulum.now())\n"
    )
    result = run(source, select=SELECT)
    assert codes(result) == ["AS951", "AS951", "AS951"] and result.text == source


def test_task_variable_named_differently() -> None:
    source = "from airflow.operators.bash import BashOperator\nload = BashOperator(task_id='extract', bash_command='x')\n"
    assert codes(run(source, select=SELECT)) == ["AS952"]


def test_no_op_cases() -> None:
    for source in (
        "import datetime\nfrom airflow import DAG\nDAG('d', start_date=datetime.datetime(2024, 1, 1), schedule=None)\n",
        "from airflow.operators.bash import BashOperator\nextract = BashOperator(task_id='extract', bash_command='x')\n",
        "import datetime\nfrom mylib import Operatorish\nx = Operatorish(start=datetime.datetime.now())\n",
        "import datetime\nclass Job:\n    pass\nJob(when=datetime.datetime.now())\n",  # no Airflow
    ):
        assert not codes(run(source, select=SELECT)), source


def test_version_gate_dynamic_values_matter_from_3_0() -> None:
    source = "import datetime\nfrom airflow import DAG\nDAG('d', start_date=datetime.datetime.now())\n"
    assert not codes(run(source, select=SELECT, target="2.11"))
