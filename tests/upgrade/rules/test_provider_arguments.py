"""AS202: arguments renamed or removed when an operator moved to its current provider class."""

from __future__ import annotations

from tests.upgrade.conftest import assert_fix, assert_no_op, codes, run


def test_fix_sql_operator_connection_becomes_conn_id_with_the_move() -> None:
    assert_fix(
        """\
        from airflow.providers.postgres.operators.postgres import PostgresOperator

        PostgresOperator(task_id="q", sql="SELECT 1", postgres_conn_id="db")
        """,
        """\
        from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator

        SQLExecuteQueryOperator(task_id="q", sql="SELECT 1", conn_id="db")
        """,
        select=("AS101", "AS202"),
    )


def test_fix_google_connection_key_in_default_args() -> None:
    result = run(
        "from airflow import DAG\n"
        "from airflow.providers.google.cloud.operators.gcs import GCSCreateBucketOperator\n"
        "default_args = {'google_cloud_storage_conn_id': 'gcp'}\n"
        "with DAG('d', default_args=default_args):\n"
        "    GCSCreateBucketOperator(task_id='t', bucket_name='b')\n",
        select=("AS202",),
    )
    assert "{'gcp_conn_id': 'gcp'}" in result.text and codes(result) == ["AS202"]


def test_no_op_cases() -> None:
    assert_no_op(
        (
            'from mylib import PostgresOperator\nPostgresOperator(task_id="q", postgres_conn_id="db")\n',
            "from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator\n"
            'SQLExecuteQueryOperator(task_id="q", sql="SELECT 1", conn_id="db")\n',
            "default_args = {'google_cloud_storage_conn_id': 'gcp'}\n",  # no Airflow in the file
        ),
        select=("AS202",),
    )


def test_no_op_compat_import_is_left_alone() -> None:
    source = (
        "try:\n    from airflow.providers.postgres.operators.postgres import PostgresOperator\n"
        "except ImportError:\n    PostgresOperator = None\n"
        'PostgresOperator(task_id="q", postgres_conn_id="db")\n'
    )
    assert run(source, select=("AS202",)).text == source
