"""`airshift deploy helm`: values valid against the official chart's values.schema.json (1.21 and 1.22)
for every executor choice, and `--upgrade-values` moving an old values file to the current layout."""

from __future__ import annotations

import gzip
import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from airshift.cli import app
from airshift.platform.config_helm import yaml_round_trip
from airshift.platform.deploy_helm import HelmRequest, build_values
from airshift.platform.deploy_helm_upgrade import schema_errors, upgrade_values
from airshift.platform.inventory_model import SCHEMA, DagFolder, DatabaseInfo, Inventory

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "helm"


def _schema(version: str) -> dict:
    return json.loads(gzip.decompress((FIXTURES / f"values.schema-{version}.json.gz").read_bytes()))


def _inventory(executor: str = "CeleryExecutor", peak: int = 120) -> Inventory:
    return Inventory(
        schema=SCHEMA,
        generated_at="2026-12-03T00:00:00+00:00",
        airshift_version="test",
        airflow_version="2.x",
        executor=executor,
        dag_folders=[DagFolder(path="dags", queues={"heavy": 3, "etl_reports": 1})],
        databases=[
            DatabaseInfo(
                url="postgresql://db/airflow",
                dialect="postgresql",
                airflow_version="2.x",
                peak_concurrency=peak,
            )
        ],
    )


def _plain(result_text: str) -> dict:
    return json.loads(json.dumps(yaml_round_trip().load(result_text)))


@pytest.mark.parametrize("chart", ["1.21", "1.22"])
@pytest.mark.parametrize("executor", ["CeleryExecutor", "KubernetesExecutor"])
@pytest.mark.parametrize("logs", ["volume", "remote"])
def test_values_are_valid_for_every_executor_and_chart(chart: str, executor: str, logs: str) -> None:
    result = build_values(
        HelmRequest(
            inventory=_inventory(),
            chart_version=chart,
            executor=executor,
            git_repo="git@github.com:acme/dags.git",
            git_branch="release",
            git_subpath="dags",
            git_ssh_key_secret="airflow-git-ssh",
            remote_logs="s3://acme-logs/airflow" if logs == "remote" else None,
        )
    )
    values = _plain(result.text())
    assert schema_errors(values, _schema(chart)) == []
    assert values["executor"] == executor
    assert values["dags"]["gitSync"] == {
        "enabled": True,
        "repo": "git@github.com:acme/dags.git",
        "branch": "release",
        "depth": 1,
        "subPath": "dags",
        "sshKeySecret": "airflow-git-ssh",
    }
    assert values["pgbouncer"]["enabled"] and values["pgbouncer"]["maxClientConn"] == 50 + 2 * 120
    if executor == "CeleryExecutor":
        celery = values["workers"]["celery"]
        assert celery["keda"]["enabled"] and celery["keda"]["maxReplicaCount"] == 2 * 8
        assert [s["queue"] for s in celery["sets"]] == ["etl_reports", "heavy"]
        assert celery["sets"][0]["name"] == "etl-reports"
    else:
        assert "workers" not in values and values["redis"] == {"enabled": False}
    if logs == "remote":
        assert values["config"]["logging"]["remote_base_log_folder"] == "s3://acme-logs/airflow"
        assert "logs" not in values
    else:
        assert values["logs"]["persistence"]["enabled"]
    # Secrets by name only.
    assert values["fernetKeySecretName"] == "airflow-fernet-key"
    assert values["data"] == {"metadataSecretName": "airflow-metadata"}
    assert "fernetKey" not in values and "jwtSecret" not in values


def test_the_schema_check_is_not_vacuous() -> None:
    values = _plain(build_values(HelmRequest(inventory=_inventory())).text())
    values["pgbouncer"]["maxClientConnections"] = 10  # a misspelt key the chart rejects
    values["workers"]["celery"]["keda"]["enabled"] = "yes"
    errors = schema_errors(values, _schema("1.22"))
    assert any("maxClientConnections" in error for error in errors)
    assert any("keda.enabled" in error for error in errors)


def test_chart_122_refuses_airflow_2_and_121_accepts_it() -> None:
    with pytest.raises(Exception, match=r"1\.22 needs Airflow 3\.1"):
        build_values(HelmRequest(chart_version="1.22", airflow_version="2.11.2"))
    values = _plain(build_values(HelmRequest(chart_version="1.21", airflow_version="2.11.2")).text())
    assert values["webserverSecretKeySecretName"] == "airflow-webserver-secret-key"
    assert schema_errors(values, _schema("1.21")) == []


OLD_VALUES = textwrap.dedent(
    """\
    # our values for chart 1.15 / Airflow 2.9
    airflowVersion: 2.9.3
    defaultAirflowTag: 2.9.3
    executor: CeleryKubernetesExecutor
    webserverSecretKeySecretName: my-webserver-secret
    webserver:
      replicas: 2   # two UIs
      defaultUser:
        enabled: true
        username: admin
      webserverConfig: |
        AUTH_TYPE = 1
    workers:
      replicas: 3
      keda:
        enabled: true
        maxReplicaCount: 12
      persistence:
        enabled: false
    ingress:
      web:
        enabled: true
    config:
      webserver:
        base_url: https://airflow.acme.com
      scheduler:
        max_threads: 4
      core:
        dag_concurrency: 32
    """
)


def test_upgrade_values_moves_and_drops_and_says_so(tmp_path: Path) -> None:
    schema = tmp_path / "values.schema.json.gz"
    schema.write_bytes((FIXTURES / "values.schema-1.22.json.gz").read_bytes())
    text, report = upgrade_values(OLD_VALUES, "old.yaml", "1.22", "3.3.2", schema)
    values = _plain(text)
    assert schema_errors(values, _schema("1.22")) == []
    assert values["workers"]["celery"]["keda"] == {"enabled": True, "maxReplicaCount": 12}
    assert values["workers"]["celery"]["replicas"] == 3
    assert values["apiServer"]["replicas"] == 2
    assert values["createUserJob"]["defaultUser"]["username"] == "admin"
    assert values["apiSecretKeySecretName"] == "my-webserver-secret"
    assert values["ingress"]["apiServer"]["enabled"] is True
    assert values["executor"] == "CeleryExecutor,KubernetesExecutor"
    assert values["airflowVersion"] == "3.3.2"
    assert values["config"]["api"]["base_url"] == "https://airflow.acme.com"
    assert values["config"]["dag_processor"]["parsing_processes"] == 4
    assert values["config"]["core"]["max_active_tasks_per_dag"] == 32
    assert "webserver" not in values
    moved = {(old, new) for old, new, _why in report.moved}
    assert ("workers.keda", "workers.celery.keda") in moved
    assert ("webserver.replicas", "apiServer.replicas") in moved
    assert ("config.webserver.base_url", "config.api.base_url") in moved
    dropped = {path for path, _why in report.dropped}
    assert "webserver.webserverConfig" in dropped
    assert "# our values for chart 1.15" in text and "two UIs" in text


def test_cli_writes_values_from_an_inventory_and_validates(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.json"
    inventory.write_text(_inventory().to_json())
    schema = tmp_path / "values.schema.json"
    schema.write_bytes(gzip.decompress((FIXTURES / "values.schema-1.22.json.gz").read_bytes()))
    output = tmp_path / "values.yaml"
    result = CliRunner().invoke(
        app,
        [
            "deploy",
            "helm",
            "--inventory",
            str(inventory),
            "-o",
            str(output),
            "--schema",
            str(schema),
            "--git-repo",
            "https://github.com/acme/dags.git",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "CeleryExecutor" in result.output and output.exists()
    old = tmp_path / "old.yaml"
    old.write_text(OLD_VALUES)
    upgraded = CliRunner().invoke(
        app,
        [
            "deploy",
            "helm",
            "--upgrade-values",
            str(old),
            "-o",
            str(tmp_path / "new.yaml"),
            "--schema",
            str(schema),
        ],
    )
    assert upgraded.exit_code == 0, upgraded.output
    assert "moved   workers.keda -> workers.celery.keda" in upgraded.output
    assert "dropped webserver.webserverConfig" in upgraded.output
