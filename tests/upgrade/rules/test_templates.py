"""AS601-AS604: removed context variables in templates the rule finds in DAG code (the Jinja rewriting
itself is tested in tests/upgrade/test_templates.py)."""

from __future__ import annotations

from tests.upgrade.conftest import assert_fix, assert_no_op, codes, run


def test_schedule_from_a_module_constant_gives_the_period() -> None:
    assert_fix(
        """\
        from airflow.providers.standard.operators.bash import BashOperator
        from airflow.sdk import DAG

        SCHEDULE = "0 6 * * *"
        with DAG("d", schedule=SCHEDULE):
            BashOperator(task_id="t", bash_command="run --since {{ prev_ds }}")
        """,
        """\
        from airflow.providers.standard.operators.bash import BashOperator
        from airflow.sdk import DAG

        SCHEDULE = "0 6 * * *"
        with DAG("d", schedule=SCHEDULE):
            BashOperator(task_id="t", bash_command="run --since {{ macros.ds_add(ds, -1) }}")
        """,
        select=("AS601",),
    )


def test_a_constant_assigned_twice_is_not_trusted() -> None:
    source = (
        "from airflow.providers.standard.operators.bash import BashOperator\n"
        "from airflow.sdk import DAG\n\n"
        'SCHEDULE = "@daily"\nSCHEDULE = "@monthly"\n'
        'with DAG("d", schedule=SCHEDULE):\n'
        '    BashOperator(task_id="t", bash_command="{{ prev_ds }}")\n'
    )
    result = run(source, select=("AS601",))
    assert result.text == source and codes(result) == ["AS601"]


def test_unscheduled_dags_of_1_10_and_2_have_prev_ds_equal_to_ds() -> None:
    # 1.10/2.x set prev_execution_date to the run's own date for triggered runs, the only runs of
    # schedule=None; the rewrite keeps that.
    source = (
        "from airflow import DAG\n"
        "from airflow.operators.bash_operator import BashOperator\n\n"
        'with DAG("d", schedule_interval=None) as dag:\n'
        '    BashOperator(task_id="t", bash_command="{{ prev_ds }} {{ prev_ds_nodash }} {{ prev_execution_date }}")\n'
    )
    result = run(source, select=("AS601",))
    assert 'bash_command="{{ ds }} {{ ds_nodash }} {{ logical_date | ts }}"' in result.text


def test_next_and_prev_on_an_asset_scheduled_dag_are_reported_not_rewritten() -> None:
    # Airflow 2 rendered them None on asset-triggered runs: data_interval_end would be a date.
    source = (
        "from airflow import DAG\n"
        "from airflow.datasets import Dataset\n"
        "from airflow.operators.bash import BashOperator\n\n"
        'with DAG("d", schedule=[Dataset("s3://a")]) as dag:\n'
        '    BashOperator(task_id="t", bash_command="{{ next_ds }} {{ prev_ds }} {{ execution_date }}")\n'
    )
    result = run(source, select=("AS601",))
    assert 'bash_command="{{ next_ds }} {{ prev_ds }} {{ logical_date }}"' in result.text
    assert codes(result).count("AS601") == 3
    assert sum("asset-scheduled" in f.message for f in result.findings) == 2


def test_templates_reaching_an_operator_through_a_loop_over_a_module_collection() -> None:
    assert_fix(
        """\
        from airflow.providers.standard.operators.bash import BashOperator
        from airflow.sdk import DAG

        CHECKS = {"fresh": "check --since {{ yesterday_ds }}"}
        STEPS = ["run {{ tomorrow_ds }}"]
        NAMES = {"{{ next_ds }}": "the values of NAMES are never rendered"}
        with DAG("d", schedule="@daily"):
            for name, command in CHECKS.items():
                BashOperator(task_id=name, bash_command=command)
            for step in STEPS:
                BashOperator(task_id="s", bash_command=step)
            for key in NAMES:
                BashOperator(task_id="k", bash_command=key)
        """,
        """\
        from airflow.providers.standard.operators.bash import BashOperator
        from airflow.sdk import DAG

        CHECKS = {"fresh": "check --since {{ macros.ds_add(ds, -1) }}"}
        STEPS = ["run {{ macros.ds_add(ds, 1) }}"]
        NAMES = {"{{ next_ds }}": "the values of NAMES are never rendered"}
        with DAG("d", schedule="@daily"):
            for name, command in CHECKS.items():
                BashOperator(task_id=name, bash_command=command)
            for step in STEPS:
                BashOperator(task_id="s", bash_command=step)
            for key in NAMES:
                BashOperator(task_id="k", bash_command=key)
        """,
        select=("AS601",),
    )


def test_templates_built_with_percent_and_f_strings_are_rewritten() -> None:
    """The 1.10 idiom "echo {{ execution_date }} %s" % x, and f-strings with doubled braces: their literal
    parts render as Jinja, so they are rewritten (never reported as 'not a known templated argument')."""
    result = assert_fix(
        """\
        from airflow.operators.bash import BashOperator

        name = "x"
        a = BashOperator(task_id="a", bash_command="run {{ execution_date }} %s" % name)
        b = BashOperator(task_id="b", bash_command=f"run {{{{ execution_date }}}} {name} {{{{ next_ds }}}}")
        """,
        """\
        from airflow.operators.bash import BashOperator

        name = "x"
        a = BashOperator(task_id="a", bash_command="run {{ logical_date }} %s" % name)
        b = BashOperator(task_id="b", bash_command=f"run {{{{ logical_date }}}} {name} {{{{ data_interval_end | ds }}}}")
        """,
        select=("AS6",),
    )
    assert "AS603" not in codes(result)
    involved = 'from airflow.operators.bash import BashOperator\nBashOperator(task_id="c", bash_command=f"{{{{ execution_date }}}}{x!r:>{w}}")\n'
    reported = run(involved, select=("AS6",))
    assert codes(reported) == ["AS601"] and "AS603" not in codes(reported)


def test_no_op_cases() -> None:
    assert_no_op(
        (
            'from airflow.operators.bash import BashOperator\nBashOperator(task_id="t", bash_command="echo {{ ds }}")\n',
            'from mylib import BashOperator\nBashOperator(task_id="t", bash_command="echo {{ execution_date }}")\n',
            'print("{{ execution_date }}")\n',  # no Airflow in the file
        ),
        select=("AS601",),
    )
