"""AS401-AS403 removed helpers: days_ago, DAG.cli(), @apply_defaults."""

from __future__ import annotations

import textwrap

from tests.upgrade.conftest import assert_fix, codes, run


def test_days_ago_literal_becomes_a_fixed_date() -> None:
    result = assert_fix(
        """\
        from airflow.utils.dates import days_ago

        default_args = {"start_date": days_ago(2)}
        later = days_ago(1, hour=6)
        """,
        """\
        import pendulum

        default_args = {"start_date": pendulum.datetime(2026, 11, 20, tz="UTC")}
        later = pendulum.datetime(2026, 11, 21, 6, tz="UTC")
        """,
    )
    assert sorted(codes(result)) == ["AS105", "AS401", "AS401"]


def test_days_ago_with_a_variable_stays_dynamic() -> None:
    assert_fix(
        """\
        import pendulum
        from airflow.utils.dates import days_ago

        N = 3
        start = days_ago(N)
        """,
        """\
        import pendulum

        N = 3
        start = pendulum.today("UTC").subtract(days=N)
        """,
    )


def test_dag_cli_becomes_dag_test() -> None:
    assert_fix(
        """\
        from airflow.sdk import DAG

        dag = DAG("d", schedule=None)

        if __name__ == "__main__":
            dag.cli()
        """,
        """\
        from airflow.sdk import DAG

        dag = DAG("d", schedule=None)

        if __name__ == "__main__":
            dag.test()
        """,
    )


def test_apply_defaults_decorator_removed() -> None:
    result = assert_fix(
        """\
        from airflow.models import BaseOperator
        from airflow.utils.decorators import apply_defaults


        class Loader(BaseOperator):
            @apply_defaults
            def __init__(self, table, **kwargs):
                super().__init__(**kwargs)
                self.table = table
        """,
        """\
        from airflow.sdk import BaseOperator


        class Loader(BaseOperator):
            def __init__(self, table, **kwargs):
                super().__init__(**kwargs)
                self.table = table
        """,
    )
    assert "AS403" in codes(result)


def test_no_op_helpers_untouched_without_airflow_import() -> None:
    source = textwrap.dedent(
        """\
        def days_ago(n):
            return n

        x = days_ago(2)
        """
    )
    assert run(source).text == source
