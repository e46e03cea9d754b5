"""AS312: positional DAG / TaskGroup arguments that Airflow 3 takes only by keyword (or in another order)."""

from __future__ import annotations

from tests.upgrade.conftest import assert_fix, codes, run

SELECT = ("AS312",)


def test_dag_description_and_schedule_become_keywords() -> None:
    assert_fix(
        """\
        from airflow import DAG

        dag = DAG("etl", "nightly load", "@daily", default_args={"owner": "x"})
        """,
        """\
        from airflow import DAG

        dag = DAG("etl", description="nightly load", schedule="@daily", default_args={"owner": "x"})
        """,
        select=SELECT,
    )


def test_airflow_110_order_is_known_beyond_the_schedule() -> None:
    source = (
        "from airflow import DAG\n"
        "from airflow.operators.bash_operator import BashOperator\n"
        "import datetime\n"
        "dag = DAG('etl', 'd', None, datetime.datetime(2020, 1, 1))\n"
    )
    result = run(source, select=SELECT)
    assert (
        "DAG('etl', description='d', schedule=None, start_date=datetime.datetime(2020, 1, 1))" in result.text
    )


def test_ambiguous_fourth_argument_of_a_2x_dag_is_reported() -> None:
    source = "from airflow.models.dag import DAG\nfrom airflow.operators.python import PythonOperator\nDAG('etl', 'd', None, x)\n"
    result = run(source, select=SELECT)
    assert codes(result) == ["AS312"] and result.text == source


def test_task_group_positional_flag_keeps_its_meaning() -> None:
    assert_fix(
        """\
        from airflow.utils.task_group import TaskGroup

        with TaskGroup("g", False) as group:
            pass
        """,
        """\
        from airflow.utils.task_group import TaskGroup

        with TaskGroup("g", prefix_group_id=False) as group:
            pass
        """,
        select=SELECT,
    )


def test_aliased_dag_class_is_rewritten() -> None:
    result = run("from airflow import DAG as Dag\nDag('a', 'b')\n", select=SELECT)
    assert result.text == "from airflow import DAG as Dag\nDag('a', description='b')\n"


def test_no_op_cases() -> None:
    for source in (
        "from airflow import DAG\nDAG('only_the_id', schedule=None)\n",  # nothing positional but the id
        "from mylib import DAG\nDAG('a', 'b')\n",  # not Airflow's DAG
        "def DAG(*a):\n    return a\nDAG('a', 'b')\n",  # shadowed, no Airflow import
        "try:\n    from airflow.sdk import DAG\nexcept ImportError:\n    from airflow import DAG\nDAG('a', 'b')\n",
        "from airflow import DAG\nDAG('a', *rest)\n",
    ):
        result = run(source, select=SELECT)
        assert result.text == source and not codes(result), source


def test_version_gate_2_11_keeps_positional_arguments() -> None:
    source = "from airflow import DAG\nDAG('a', 'b')\n"
    assert not codes(run(source, target="2.11", select=SELECT))
    assert codes(run(source, target="3.0", select=SELECT)) == ["AS312"]
