"""The upgrader's statement of intended changes (what verify's normalisation undoes) is what its rules do."""

from __future__ import annotations

import re

from airshift.upgrade.intended_changes import intended_changes
from tests.upgrade.conftest import run


def test_every_declared_trigger_rule_rename_is_what_the_fix_writes() -> None:
    renames = intended_changes().trigger_rules
    assert renames  # the trigger-rule rule declares its renames
    for old, new in renames.items():
        source = f"from airflow.operators.empty import EmptyOperator\nEmptyOperator(task_id='t', trigger_rule='{old}')\n"
        assert f"trigger_rule='{new}'" in run(source).text


def test_every_declared_default_args_change_is_what_the_fix_writes() -> None:
    changes = intended_changes().default_args
    assert {"task_concurrency", "bigquery_conn_id"} <= set(changes)  # declared by two different rules
    for old, new in changes.items():
        source = (  # a Google operator in the file: Google connection keys in default_args are its
            "from airflow import DAG\n"
            "from airflow.providers.google.cloud.operators.gcs import GCSCreateBucketOperator\n"
            f"default_args = {{'{old}': 'x'}}\n"
            "with DAG('d', default_args=default_args):\n"
            "    GCSCreateBucketOperator(task_id='t', bucket_name='b')\n"
        )
        keys = re.findall(r"'(\w+)': 'x'", run(source, target="3.3").text)
        assert keys == ([] if new is None else [new]), old
