"""AS320 trigger-rule values."""

from __future__ import annotations

from tests.upgrade.conftest import assert_fix, assert_no_op


def test_trigger_rule_strings_and_enum() -> None:
    assert_fix(
        """\
        from airflow.providers.standard.operators.empty import EmptyOperator
        from airflow.utils.trigger_rule import TriggerRule

        a = EmptyOperator(task_id="a", trigger_rule="dummy")
        b = EmptyOperator(task_id="b", trigger_rule='none_failed_or_skipped')
        c = EmptyOperator(task_id="c", trigger_rule=TriggerRule.NONE_FAILED_OR_SKIPPED)
        d = EmptyOperator(task_id="d", trigger_rule=TriggerRule.DUMMY)
        e = EmptyOperator(task_id="e", trigger_rule="all_done")
        """,
        """\
        from airflow.providers.standard.operators.empty import EmptyOperator
        from airflow.utils.trigger_rule import TriggerRule

        a = EmptyOperator(task_id="a", trigger_rule="always")
        b = EmptyOperator(task_id="b", trigger_rule='none_failed_min_one_success')
        c = EmptyOperator(task_id="c", trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)
        d = EmptyOperator(task_id="d", trigger_rule=TriggerRule.ALWAYS)
        e = EmptyOperator(task_id="e", trigger_rule="all_done")
        """,
        select=("AS320",),
    )


def test_trigger_rule_in_default_args() -> None:
    assert_fix(
        'default_args = {"trigger_rule": "dummy"}\nimport airflow\n',
        'default_args = {"trigger_rule": "always"}\nimport airflow\n',
        dedent=False,
    )


def test_no_op_cases() -> None:
    assert_no_op(
        (
            'from airflow.operators.empty import EmptyOperator\nEmptyOperator(task_id="t", trigger_rule="always")\n',
            'from mylib import Op\nOp(task_id="t", trigger_rule="dummy")\n',  # not an Airflow operator
            'rules = {"trigger_rule": "dummy"}\n',  # no Airflow in the file
        ),
        select=("AS320",),
    )
