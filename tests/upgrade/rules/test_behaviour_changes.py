"""AS340-AS342: renames that load but change behaviour (S3ToRedshift key, pod resources, email connection)."""

from __future__ import annotations

from tests.upgrade.conftest import assert_fix, codes, run

SELECT = ("AS34",)


def test_s3_to_redshift_key_gets_the_table_1_10_appended() -> None:
    result = run(
        "from airflow.operators.s3_to_redshift_operator import S3ToRedshiftTransfer\n"
        "S3ToRedshiftTransfer(task_id='load', schema='s', table='orders', s3_bucket='b', s3_key='exports')\n",
        select=SELECT,
    )
    assert "s3_key='exports/orders'" in result.text
    assert run(result.text, select=SELECT).text == result.text  # idempotent


def test_s3_to_redshift_key_not_literal_is_reported() -> None:
    source = (
        "from airflow.operators.s3_to_redshift_operator import S3ToRedshiftTransfer\n"
        "S3ToRedshiftTransfer(task_id='load', schema='s', table=TABLE, s3_bucket='b', s3_key=KEY)\n"
    )
    result = run(source, select=SELECT)
    assert codes(result) == ["AS340"] and result.text == source


def test_pod_resources_become_container_resources() -> None:
    assert_fix(
        """\
        from airflow.contrib.operators.kubernetes_pod_operator import KubernetesPodOperator

        KubernetesPodOperator(
            task_id="train", name="train", namespace="ml", image="img",
            resources={"request_memory": "1Gi", "limit_cpu": "2", "limit_gpu": 1},
        )
        """,
        """\
        from airflow.contrib.operators.kubernetes_pod_operator import KubernetesPodOperator
        from kubernetes.client import models as k8s

        KubernetesPodOperator(
            task_id="train", name="train", namespace="ml", image="img",
            container_resources=k8s.V1ResourceRequirements(requests={"memory": "1Gi"}, limits={"cpu": "2", "nvidia.com/gpu": 1}),
        )
        """,
        select=SELECT,
    )


def test_email_operator_without_connection_is_reported_until_conn_id_is_given() -> None:
    source = "from airflow.operators.email import EmailOperator\nEmailOperator(task_id='e', to='a', subject='s', html_content='h')\n"
    assert codes(run(source, select=SELECT)) == ["AS342"]
    given = source.replace("html_content='h'", "html_content='h', conn_id='smtp_default'")
    assert not codes(run(given, select=SELECT))


def test_no_op_cases() -> None:
    for source in (
        "from mylib import EmailOperator\nEmailOperator(task_id='e')\n",
        "from airflow.providers.amazon.aws.transfers.s3_to_redshift import S3ToRedshiftOperator\n"
        "from airflow.operators.python import PythonOperator\n"
        "S3ToRedshiftOperator(task_id='l', schema='s', table='t', s3_bucket='b', s3_key='k')\n",  # 2.x code
        "try:\n    from airflow.operators.email import EmailOperator\nexcept ImportError:\n    pass\n"
        "EmailOperator(task_id='e')\n",
        "def KubernetesPodOperator(**k):\n    return k\nKubernetesPodOperator(resources={})\n",
    ):
        result = run(source, select=SELECT)
        assert result.text == source and not codes(result), source


def test_version_gate_email_only_on_3x() -> None:
    source = "from airflow.operators.email import EmailOperator\nEmailOperator(task_id='e', to='a', subject='s', html_content='h')\n"
    assert not codes(run(source, target="2.11", select=SELECT))
