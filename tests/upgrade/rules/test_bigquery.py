"""AS201: BigQueryOperator / BigQueryExecuteQueryOperator -> BigQueryInsertJobOperator with a job config."""

from __future__ import annotations

from tests.upgrade.conftest import assert_fix, assert_no_op, run

SELECT = ("AS1", "AS201")  # the import rule leaves this name to the adapter; it removes the old import


def test_fix_contrib_operator_becomes_an_insert_job_with_its_query_configuration() -> None:
    assert_fix(
        """\
        from airflow.contrib.operators.bigquery_operator import BigQueryOperator

        BigQueryOperator(task_id="q", sql="SELECT 1", use_legacy_sql=False, bigquery_conn_id="gcp")
        """,
        """\
        from airflow.providers.google.cloud.operators.bigquery import BigQueryInsertJobOperator

        BigQueryInsertJobOperator(
            task_id="q",
            configuration={
                "query": {
                    "query": "SELECT 1",
                    "useLegacySql": False,
                    "priority": "INTERACTIVE",
                },
            },
            gcp_conn_id="gcp",
        )
        """,
        select=SELECT,
    )


def test_no_op_cases() -> None:
    assert_no_op(
        (
            'from mylib import BigQueryExecuteQueryOperator\nBigQueryExecuteQueryOperator(task_id="q", sql="x")\n',
            "from airflow.providers.google.cloud.operators.bigquery import BigQueryInsertJobOperator\n"
            'BigQueryInsertJobOperator(task_id="q", configuration={})\n',
        ),
        select=("AS201",),
    )


def test_no_op_compat_import_is_left_alone() -> None:
    source = (
        "try:\n    from airflow.contrib.operators.bigquery_operator import BigQueryOperator\n"
        "except ImportError:\n    BigQueryOperator = None\n"
        'BigQueryOperator(task_id="q", sql="SELECT 1")\n'
    )
    assert run(source, select=("AS201",)).text == source
