"""AS315 keyword arguments the target class does not take; AS316 required ones not given (from the
signatures table generated from the real wheels)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.upgrade.conftest import codes, run

SELECT = ("AS315", "AS316")
TABLE = Path(__file__).parents[3] / "src" / "airshift" / "upgrade" / "tables" / "signatures.json"


def test_table_is_generated_from_the_wheels() -> None:
    data = json.loads(TABLE.read_text())
    assert data["generated_by"] == "scripts/generate_signatures.py"
    pubsub = data["targets"]["3.3"]["classes"][
        "airflow.providers.google.cloud.operators.pubsub.PubSubPublishMessageOperator"
    ]
    assert "topic_project" not in pubsub["own"] and {"topic", "messages"} <= set(pubsub["required"])
    assert "retries" in data["targets"]["3.3"]["base"]


def test_removed_provider_argument_and_missing_required_one() -> None:
    source = (
        "from airflow.contrib.operators.pubsub_operator import PubSubPublishOperator\n"
        "PubSubPublishOperator(task_id='p', project='proj', topic_project='proj', topic='t', messages=[{}])\n"
    )
    result = run(source, select=SELECT, fix=False)
    # 1.10's project / topic_project are gone from the provider's PubSubPublishMessageOperator
    assert codes(result) == ["AS315", "AS315"]
    assert {"`project=`", "`topic_project=`"} <= {m.split()[4] for m in (f.message for f in result.findings)}
    missing = "from airflow.providers.google.cloud.operators.pubsub import PubSubPublishMessageOperator\nPubSubPublishMessageOperator(task_id='p', project_id='x')\n"
    found = run(missing, select=SELECT)
    assert codes(found) == ["AS316"] and "`messages=`" in found.findings[0].message and found.text == missing


def test_unknown_keyword_that_1_10_only_warned_about() -> None:
    source = "from airflow.operators.bash_operator import BashOperator\nBashOperator(task_id='t', bash_command='x', bogus=1)\n"
    result = run(source, select=SELECT)
    assert codes(result) == ["AS315"] and "`bogus=`" in result.findings[0].message
    assert codes(run(source, select=SELECT, target="2.11")) == ["AS315"]  # 2.x raises too


def test_no_op_cases() -> None:
    for source in (
        # known arguments, BaseOperator's included
        "from airflow.operators.bash import BashOperator\nBashOperator(task_id='t', bash_command='x', retries=2, pool='p')\n",
        # **kwargs: airshift cannot see what it holds
        "from airflow.operators.bash import BashOperator\nBashOperator(task_id='t', **common)\n",
        # required argument from default_args
        "from airflow.operators.bash import BashOperator\ndefault_args = {'bash_command': 'x'}\nBashOperator(task_id='t', default_args=default_args)\n",
        # not Airflow, and a compat block
        "from mylib import BashOperator\nBashOperator(task_id='t', bogus=1)\n",
        "try:\n    from airflow.operators.bash import BashOperator\nexcept ImportError:\n    pass\nBashOperator(task_id='t', bash_command='x', bogus=1)\n",
        # keywords other rules rewrite are theirs
        "from airflow.operators.bash_operator import BashOperator\nBashOperator(task_id='t', bash_command='x', provide_context=True)\n",
    ):
        result = run(source, select=SELECT)
        assert not codes(result), source


def test_version_gate_1_10_style_is_checked_from_2_0() -> None:
    source = "from airflow.operators.bash import BashOperator\nBashOperator(task_id='t', bash_command='x', bogus=1)\n"
    assert codes(run(source, select=SELECT, target="3.0")) == ["AS315"]
