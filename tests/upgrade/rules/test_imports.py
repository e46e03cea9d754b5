"""AS101-AS105: import moves, renames, module imports, unused old imports, compat blocks."""

from __future__ import annotations

import textwrap

from tests.upgrade.conftest import assert_fix, codes, run


def test_shim_module_moves_to_standard_provider() -> None:
    result = assert_fix(
        """\
        from airflow.operators.bash_operator import BashOperator

        t = BashOperator(task_id="t", bash_command="echo")
        """,
        """\
        from airflow.providers.standard.operators.bash import BashOperator

        t = BashOperator(task_id="t", bash_command="echo")
        """,
    )
    assert codes(result) == ["AS101"]
    assert {r.distribution for r in result.requirements} == {"apache-airflow-providers-standard"}


def test_version_gate_target_2_11_stops_at_the_core_module() -> None:
    assert_fix(
        """\
        from airflow.operators.bash_operator import BashOperator

        t = BashOperator(task_id="t", bash_command="echo")
        """,
        """\
        from airflow.operators.bash import BashOperator

        t = BashOperator(task_id="t", bash_command="echo")
        """,
        target="2.11",
    )


def test_renamed_class_renames_every_reference() -> None:
    assert_fix(
        """\
        from airflow.operators.dummy_operator import DummyOperator

        start = DummyOperator(task_id="start")
        end = DummyOperator(task_id="end")
        assert isinstance(start, DummyOperator)
        """,
        """\
        from airflow.providers.standard.operators.empty import EmptyOperator

        start = EmptyOperator(task_id="start")
        end = EmptyOperator(task_id="end")
        assert isinstance(start, EmptyOperator)
        """,
    )


def test_alias_is_kept_when_the_class_is_renamed() -> None:
    assert_fix(
        """\
        from airflow.operators.dummy_operator import DummyOperator as Noop

        start = Noop(task_id="start")
        """,
        """\
        from airflow.providers.standard.operators.empty import EmptyOperator as Noop

        start = Noop(task_id="start")
        """,
    )


def test_plugin_style_import_of_airflow_1() -> None:
    assert_fix(
        """\
        from airflow.operators import BashOperator

        t = BashOperator(task_id="t", bash_command="echo")
        """,
        """\
        from airflow.providers.standard.operators.bash import BashOperator

        t = BashOperator(task_id="t", bash_command="echo")
        """,
    )


def test_module_imported_by_name_and_used_by_attribute() -> None:
    result = assert_fix(
        """\
        from airflow.contrib.operators import ssh_operator

        run = ssh_operator.SSHOperator(task_id="run", ssh_conn_id="box", command="ls")
        """,
        """\
        from airflow.providers.ssh.operators.ssh import SSHOperator

        run = SSHOperator(task_id="run", ssh_conn_id="box", command="ls")
        """,
    )
    assert [r.distribution for r in result.requirements] == ["apache-airflow-providers-ssh"]
    assert all(r.min_version for r in result.requirements)


def test_aliased_module_import() -> None:
    assert_fix(
        """\
        import airflow.contrib.operators.ssh_operator as ssh

        run = ssh.SSHOperator(task_id="run", ssh_conn_id="box", command="ls")
        """,
        """\
        from airflow.providers.ssh.operators.ssh import SSHOperator

        run = SSHOperator(task_id="run", ssh_conn_id="box", command="ls")
        """,
    )


def test_dotted_module_import_used_by_full_path() -> None:
    assert_fix(
        """\
        import airflow.contrib.operators.ssh_operator

        run = airflow.contrib.operators.ssh_operator.SSHOperator(task_id="run", command="ls")
        """,
        """\
        from airflow.providers.ssh.operators.ssh import SSHOperator

        run = SSHOperator(task_id="run", command="ls")
        """,
    )


def test_dag_moves_to_sdk_on_3x_only() -> None:
    source = """\
    from airflow import DAG

    with DAG("d", schedule=None) as dag:
        pass
    """
    result = assert_fix(source, source.replace("from airflow import DAG", "from airflow.sdk import DAG"))
    assert codes(result) == ["AS102"]
    assert result.findings[0].category.value == "suggested"
    assert_fix(source, source, target="2.11")


def test_partial_statement_keeps_the_names_that_did_not_move() -> None:
    assert_fix(
        """\
        from airflow.models import DAG, DagRun

        runs = DagRun.find(dag_id="x")
        dag = DAG("d", schedule=None)
        """,
        """\
        from airflow.models import DagRun
        from airflow.sdk import DAG

        runs = DagRun.find(dag_id="x")
        dag = DAG("d", schedule=None)
        """,
    )


def test_new_name_is_merged_into_an_existing_from_line() -> None:
    assert_fix(
        """\
        from airflow.sdk import task
        from airflow.models.baseoperator import chain

        chain(task(lambda: 1)(), task(lambda: 2)())
        """,
        """\
        from airflow.sdk import task, chain

        chain(task(lambda: 1)(), task(lambda: 2)())
        """,
    )


def test_no_op_compat_try_except_block_is_left_alone() -> None:
    source = """\
    try:
        from airflow.providers.standard.operators.bash import BashOperator
    except ImportError:
        from airflow.operators.bash import BashOperator

    t = BashOperator(task_id="t", bash_command="echo")
    """
    result = assert_fix(source, source)
    assert result.findings == []


def test_unused_old_import_is_removed() -> None:
    result = assert_fix(
        """\
        import os
        from airflow.operators.bash_operator import BashOperator
        from airflow.utils.dates import days_ago

        print(os.getcwd())
        """,
        """\
        import os

        print(os.getcwd())
        """,
    )
    assert sorted(codes(result)) == ["AS105", "AS105"]


def test_import_inside_a_function_is_replaced_in_place() -> None:
    assert_fix(
        """\
        def build():
            from airflow.operators.bash_operator import BashOperator

            return BashOperator(task_id="t", bash_command="echo")
        """,
        """\
        def build():
            from airflow.providers.standard.operators.bash import BashOperator

            return BashOperator(task_id="t", bash_command="echo")
        """,
    )


def test_removed_name_without_replacement_is_reported_not_touched() -> None:
    source = textwrap.dedent(
        """\
        from airflow.operators.subdag import SkippedStatePropagationOptions

        mode = SkippedStatePropagationOptions.ALL_LEAVES
        """
    )
    result = run(source)
    assert result.text == source
    assert codes(result) == ["AS103"]
    assert "SkippedStatePropagationOptions" in result.findings[0].message


def test_subdag_operator_without_a_factory_is_reported_once() -> None:
    source = textwrap.dedent(
        """\
        from airflow.operators.subdag_operator import SubDagOperator

        section = SubDagOperator(task_id="section", subdag=None)
        """
    )
    result = run(source)
    assert result.text == source
    assert codes(result) == ["AS501"]
    assert "by hand" in result.findings[0].message


def test_star_import_of_moved_module_is_reported() -> None:
    source = "from airflow.contrib.operators.ssh_operator import *\n"
    result = run(source)
    assert result.text == source
    assert codes(result) == ["AS104"]


def test_comments_and_crlf_are_kept() -> None:
    before = (
        "# header comment\r\n"
        "from airflow.operators.bash_operator import BashOperator  # old path\r\n"
        "\r\n"
        "t = BashOperator(task_id='t', bash_command='echo')  # the task\r\n"
    )
    after = (
        "# header comment\r\n"
        "from airflow.providers.standard.operators.bash import BashOperator\r\n"
        "\r\n"
        "t = BashOperator(task_id='t', bash_command='echo')  # the task\r\n"
    )
    assert_fix(before, after, dedent=False)


def test_multiline_parenthesized_import_keeps_its_shape() -> None:
    assert_fix(
        """\
        from airflow.models import (
            DAG,
            DagRun,
            TaskInstance,
        )

        print(DAG, DagRun, TaskInstance)
        """,
        """\
        from airflow.models import (
            DagRun,
            TaskInstance,
        )
        from airflow.sdk import DAG

        print(DAG, DagRun, TaskInstance)
        """,
    )


def test_scan_reports_without_changing_text() -> None:
    source = "from airflow.operators.bash_operator import BashOperator\nBashOperator(task_id='t')\n"
    result = run(source, fix=False, select=("AS1",))
    assert result.text == source
    assert codes(result) == ["AS101"]
    assert result.findings[0].fixable


def test_airflow_1_operators_sensors_module_follows_its_reexports() -> None:
    assert_fix(
        """\
        from airflow.operators.sensors import ExternalTaskSensor

        wait = ExternalTaskSensor(task_id="wait", external_dag_id="upstream")
        """,
        """\
        from airflow.providers.standard.sensors.external_task import ExternalTaskSensor

        wait = ExternalTaskSensor(task_id="wait", external_dag_id="upstream")
        """,
    )
