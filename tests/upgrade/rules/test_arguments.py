"""AS301-AS311: renamed and removed arguments in calls and in default_args."""

from __future__ import annotations

import textwrap

import pytest

from tests.upgrade.conftest import assert_fix, assert_no_op, codes, run

SDK_DAG = "from airflow.sdk import DAG\n"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('schedule_interval="@daily"', 'schedule="@daily"'),
        ("timetable=MyTimetable()", "schedule=MyTimetable()"),
        ("concurrency=4", "max_active_tasks=4"),
        ("fail_stop=True", "fail_fast=True"),
    ],
)
def test_dag_argument_renamed(old: str, new: str) -> None:
    assert_fix(
        f'{SDK_DAG}dag = DAG("d", {old}, catchup=False)\n',
        f'{SDK_DAG}dag = DAG("d", {new}, catchup=False)\n',
        dedent=False,
    )


@pytest.mark.parametrize("argument", ['default_view="graph"', 'orientation="LR"'])
def test_dag_ui_argument_removed(argument: str) -> None:
    assert_fix(
        f'{SDK_DAG}dag = DAG("d", schedule=None, {argument})\n',
        f'{SDK_DAG}dag = DAG("d", schedule=None)\n',
        dedent=False,
    )


def test_dag_decorator_arguments_too() -> None:
    assert_fix(
        """\
        from airflow.sdk import dag

        @dag(schedule_interval=None, concurrency=2)
        def pipeline():
            pass
        """,
        """\
        from airflow.sdk import dag

        @dag(schedule=None, max_active_tasks=2)
        def pipeline():
            pass
        """,
    )


def test_both_old_and_new_given_is_reported_not_fixed() -> None:
    source = f'{SDK_DAG}dag = DAG("d", schedule="@daily", schedule_interval="@daily")\n'
    result = run(source)
    assert result.text == source
    assert codes(result) == ["AS301"]
    assert "both" in result.findings[0].message


def test_removal_of_an_argument_on_its_own_line_drops_the_line_and_its_comment() -> None:
    assert_fix(
        """\
        from airflow.providers.standard.operators.python import PythonOperator

        t = PythonOperator(
            task_id="t",
            provide_context=True,  # needed on 1.10
            python_callable=print,
        )
        """,
        """\
        from airflow.providers.standard.operators.python import PythonOperator

        t = PythonOperator(
            task_id="t",
            python_callable=print,
        )
        """,
    )


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("task_concurrency=1", "max_active_tis_per_dag=1"),
        ("xcom_push=True", "do_xcom_push=True"),
        ("provide_context=True, ", ""),
    ],
)
def test_operator_arguments(old: str, new: str) -> None:
    head = "from airflow.providers.standard.operators.bash import BashOperator\n"
    assert_fix(
        f'{head}t = BashOperator(task_id="t", {old}bash_command="x")\n'.replace("=1b", "=1, b").replace(
            "=Trueb", "=True, b"
        ),
        f'{head}t = BashOperator(task_id="t", {new}bash_command="x")\n'.replace("=1b", "=1, b").replace(
            "=Trueb", "=True, b"
        ),
        dedent=False,
    )


def test_custom_operator_defined_in_the_file_counts_as_operator() -> None:
    assert_fix(
        """\
        from airflow.sdk import BaseOperator

        class Loader(BaseOperator):
            pass

        load = Loader(task_id="load", task_concurrency=2)
        """,
        """\
        from airflow.sdk import BaseOperator

        class Loader(BaseOperator):
            pass

        load = Loader(task_id="load", max_active_tis_per_dag=2)
        """,
    )


def test_trigger_dagrun_execution_date_on_3x_only() -> None:
    before = """\
    from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator

    go = TriggerDagRunOperator(task_id="go", trigger_dag_id="other", execution_date="{{ ds }}")
    """
    assert_fix(before, before.replace("execution_date=", "logical_date="))
    result = run(textwrap.dedent(before), target="2.11", select=("AS308",))
    assert codes(result) == []


def test_default_args_literal_dict_call_and_variable() -> None:
    assert_fix(
        """\
        from airflow.sdk import DAG

        default_args = {
            "owner": "data",
            "provide_context": True,
            'task_concurrency': 3,
            "xcom_push": False,
        }
        more = dict(owner="x", provide_context=True, task_concurrency=1)
        dag = DAG("d", schedule=None, default_args=default_args)
        other = DAG("e", schedule=None, default_args=more)
        """,
        """\
        from airflow.sdk import DAG

        default_args = {
            "owner": "data",
            'max_active_tis_per_dag': 3,
            "do_xcom_push": False,
        }
        more = dict(owner="x", max_active_tis_per_dag=1)
        dag = DAG("d", schedule=None, default_args=default_args)
        other = DAG("e", schedule=None, default_args=more)
        """,
    )


def test_default_args_subscript_and_update() -> None:
    assert_fix(
        """\
        from airflow.sdk import DAG

        default_args = {"owner": "data"}
        default_args["provide_context"] = True
        default_args["task_concurrency"] = 2
        default_args.update({"xcom_push": True})
        dag = DAG("d", schedule=None, default_args=default_args)
        """,
        """\
        from airflow.sdk import DAG

        default_args = {"owner": "data"}
        default_args["max_active_tis_per_dag"] = 2
        default_args.update({"do_xcom_push": True})
        dag = DAG("d", schedule=None, default_args=default_args)
        """,
    )


def test_default_args_inline_literal() -> None:
    assert_fix(
        """\
        from airflow.sdk import DAG

        dag = DAG("d", schedule=None, default_args={"owner": "x", "provide_context": True})
        """,
        """\
        from airflow.sdk import DAG

        dag = DAG("d", schedule=None, default_args={"owner": "x"})
        """,
    )


def test_sla_is_reported_not_removed() -> None:
    source = textwrap.dedent(
        """\
        from datetime import timedelta
        from airflow.sdk import DAG

        dag = DAG("d", schedule=None, sla_miss_callback=print, default_args={"sla": timedelta(hours=1)})
        """
    )
    result = run(source)
    assert result.text == source
    assert codes(result) == ["AS310", "AS310"]
    assert all("Deadline" in f.message for f in result.findings)


def test_variable_get_default_var_after_move_to_sdk() -> None:
    assert_fix(
        """\
        from airflow.models import Variable

        bucket = Variable.get("bucket", default_var="raw")
        """,
        """\
        from airflow.sdk import Variable

        bucket = Variable.get("bucket", default="raw")
        """,
    )


def test_version_gate_2_11_keeps_fail_stop_and_ui_arguments() -> None:
    source = f'{SDK_DAG}dag = DAG("d", schedule=None, fail_stop=True, default_view="grid")\n'
    source = source.replace("airflow.sdk", "airflow")
    result = run(source, target="2.11")
    assert result.text == source


def test_schedule_interval_on_2_11_is_a_suggestion() -> None:
    result = run('from airflow import DAG\ndag = DAG("d", schedule_interval="@daily")\n', target="2.11")
    assert 'schedule="@daily"' in result.text
    assert [f.category.value for f in result.findings] == ["suggested"]


def test_trigger_dagrun_callable_with_a_constant_payload_becomes_conf() -> None:
    head = "from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator\n\n\n"
    callable_ = 'def always(context, dag_run_obj):\n    """Send the same payload."""\n    dag_run_obj.payload = {"mode": "full"}\n    return dag_run_obj\n\n\n'
    assert_fix(
        head
        + callable_
        + 't = TriggerDagRunOperator(task_id="t", trigger_dag_id="x", python_callable=always)\n',
        head
        + callable_
        + 't = TriggerDagRunOperator(task_id="t", trigger_dag_id="x", conf={"mode": "full"})\n',
        select=("AS309",),
        dedent=False,
    )


def test_trigger_dagrun_callable_that_reads_the_context_is_reported() -> None:
    source = (
        "from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator\n"
        "def maybe(context, dag_run_obj):\n"
        "    if context['params']['go']:\n        dag_run_obj.payload = {'ds': context['ds']}\n        return dag_run_obj\n"
        "t = TriggerDagRunOperator(task_id='t', trigger_dag_id='x', python_callable=maybe)\n"
    )
    result = run(source, select=("AS309",))
    assert codes(result) == ["AS309"] and result.text == source


def test_no_op_cases() -> None:
    assert_no_op(
        (
            'from mylib import DAG\nDAG("d", schedule_interval="@daily", concurrency=2)\n',  # not Airflow's DAG
            'from airflow import DAG\nDAG("d", schedule="@daily", max_active_tasks=2)\n',  # already new
            # the file's own DAG factory, in a file that imports Airflow: not Airflow's DAG either
            "from airflow import models\n\ndef DAG(dag_id, **kw):\n    return dag_id\n\n"
            'DAG("d", schedule_interval="@daily", concurrency=2)\n',
        ),
        select=("AS3",),
    )
