"""Inventory of managed sources from the layouts their users can download (built from the platforms'
documentation: Composer bucket + `gcloud composer environments describe`, MWAA bundle +
`aws mwaa get-environment`, Astro project + Deployment file), and of DAG folders and plugins."""

from __future__ import annotations

import json
import textwrap
import zipfile
from pathlib import Path

from typer.testing import CliRunner

from airshift.cli import app
from airshift.platform.inventory import InventoryRequest, build_inventory, classify
from airshift.platform.inventory_model import SCHEMA, read_inventory

DAG_2 = textwrap.dedent(
    """\
    from datetime import datetime
    from airflow import DAG
    from airflow.operators.bash import BashOperator
    from airflow.providers.google.cloud.operators.bigquery import BigQueryInsertJobOperator

    with DAG("sales_daily", start_date=datetime(2024, 1, 1), schedule_interval="@daily",
             default_args={"queue": "etl", "pool": "warehouse"}) as dag:
        BashOperator(task_id="extract", bash_command="echo", queue="heavy")
        BigQueryInsertJobOperator(task_id="load", configuration={}, pool="bq")
    """
)
DAG_DB = textwrap.dedent(
    """\
    from datetime import datetime
    from airflow.decorators import dag, task
    from airflow.settings import Session

    @dag(start_date=datetime(2024, 1, 1), schedule=None)
    def cleanup():
        @task
        def purge():
            Session().execute("delete from log")
        purge()

    cleanup()
    """
)
PLUGIN = textwrap.dedent(
    """\
    from airflow.plugins_manager import AirflowPlugin
    from flask import Blueprint

    class MyOperator: ...

    bp = Blueprint("x", __name__)

    class CompanyPlugin(AirflowPlugin):
        name = "company"
        operators = [MyOperator]
        flask_blueprints = [bp]
        macros = [len]
        timetables = []
    """
)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _composer(root: Path) -> Path:
    _write(root / "dags" / "sales.py", DAG_2)
    _write(root / "dags" / "cleanup.py", DAG_DB)
    _write(root / "dags" / "copy_of_sales.py", DAG_2)  # a duplicate DAG id
    _write(root / "plugins" / "company.py", PLUGIN)
    (root / "data").mkdir()
    # `gcloud composer environments describe ENV --location L --format yaml` (fields as the API names them)
    _write(
        root / "environment.yaml",
        textwrap.dedent(
            """\
            name: projects/acme/locations/europe-west1/environments/prod
            state: RUNNING
            config:
              dagGcsPrefix: gs://europe-west1-prod-1234-bucket/dags
              airflowUri: https://abc-dot-europe-west1.composer.googleusercontent.com
              environmentSize: ENVIRONMENT_SIZE_MEDIUM
              softwareConfig:
                imageVersion: composer-2.9.7-airflow-2.9.3
                pythonVersion: '3'
                airflowConfigOverrides:
                  core-dags_are_paused_at_creation: 'True'
                  webserver-dag_default_view: tree
                  celery-worker_concurrency: '12'
                pypiPackages:
                  pandas: '>=2.0'
                envVariables:
                  API_TOKEN: do-not-read-me
              workloadsConfig:
                scheduler: {cpu: 2, memoryGb: 7.5, count: 2}
                worker: {cpu: 2, memoryGb: 7.5, minCount: 2, maxCount: 6}
            """
        ),
    )
    return root


def _mwaa(root: Path) -> Path:
    _write(root / "dags" / "sales.py", DAG_2)
    _write(root / "requirements.txt", "apache-airflow-providers-snowflake==5.6.0\n# comment\nboto3\n")
    _write(root / "startup.sh", "#!/bin/sh\nexport ENVIRONMENT_STAGE=prod\n")
    with zipfile.ZipFile(root / "plugins.zip", "w") as bundle:
        bundle.writestr("company_plugin.py", PLUGIN)
    # `aws mwaa get-environment --name prod`
    environment = {
        "Environment": {
            "Name": "prod",
            "AirflowVersion": "2.10.3",
            "EnvironmentClass": "mw1.medium",
            "MinWorkers": 1,
            "MaxWorkers": 10,
            "Schedulers": 2,
            "DagS3Path": "dags",
            "PluginsS3Path": "plugins.zip",
            "RequirementsS3Path": "requirements.txt",
            "StartupScriptS3Path": "startup.sh",
            "AirflowConfigurationOptions": {
                "core.default_task_retries": "3",
                "webserver.dag_default_view": "grid",
            },
            "CeleryExecutorQueue": "arn:aws:sqs:eu-west-1:123:airflow-celery-prod",
        }
    }
    _write(root / "environment.json", json.dumps(environment))
    return root


def _astro(root: Path) -> Path:
    _write(root / "dags" / "sales.py", DAG_2)
    _write(
        root / "Dockerfile",
        "FROM quay.io/astronomer/astro-runtime:12.6.0\nENV AIRFLOW__CORE__TEST_CONNECTION=Enabled\n",
    )
    _write(root / "requirements.txt", "apache-airflow-providers-snowflake\n")
    _write(root / "packages.txt", "libpq-dev\n")
    _write(
        root / "airflow_settings.yaml",
        textwrap.dedent(
            """\
            airflow:
              connections:
                - conn_id: warehouse
                  conn_type: postgres
                  conn_password: never-in-inventory
              pools:
                - pool_name: warehouse
                  pool_slot: 5
              variables:
                - variable_name: env
                  variable_value: prod
            """
        ),
    )
    # `astro deployment inspect <id> > deployment.yaml`
    _write(
        root / "deployment.yaml",
        textwrap.dedent(
            """\
            deployment:
              environment_variables:
                - is_secret: true
                  key: SNOWFLAKE_PASSWORD
                  value: ""
                - is_secret: false
                  key: AIRFLOW__CORE__PARALLELISM
                  value: "64"
              configuration:
                name: prod
                runtime_version: 12.6.0
                executor: CELERY
                scheduler_size: MEDIUM
                dag_deploy_enabled: true
              worker_queues:
                - name: default
                  min_worker_count: 1
                  max_worker_count: 10
                  worker_concurrency: 16
                  worker_type: A10
                - name: heavy
                  min_worker_count: 0
                  max_worker_count: 4
                  worker_concurrency: 4
                  worker_type: A40
            """
        ),
    )
    return root


def test_composer_bucket_and_describe(tmp_path: Path) -> None:
    root = _composer(tmp_path / "composer")
    assert classify(str(root)) == "composer"
    inventory = build_inventory(InventoryRequest(sources=[str(root)]))
    managed = inventory.managed[0]
    assert managed.airflow_version == "2.9.3" and managed.platform_version == "composer-2.9.7"
    assert managed.requirements == ["pandas>=2.0"]
    assert managed.environment_variables == ["API_TOKEN"]
    assert managed.workers == {"cpu": 2, "memoryGb": 7.5, "minCount": 2, "maxCount": 6}
    assert "do-not-read-me" not in inventory.to_json()
    config = inventory.configs[0]
    assert config.format == "composer" and config.settings["celery.worker_concurrency"] == "12"
    folder = inventory.dag_folders[0]
    assert sorted(d.dag_id for d in folder.dags) == ["cleanup", "sales_daily", "sales_daily"]
    assert folder.operators["BashOperator"] == 2
    assert folder.queues == {"etl": 2, "heavy": 2} and folder.pools == {"bq": 2, "warehouse": 2}
    assert "apache-airflow-providers-google" in folder.providers
    assert folder.uses_metadata_db == ["cleanup.py"]
    assert folder.plugins[0].name == "company"
    assert set(folder.plugins[0].removed_extension_points) == {"operators", "flask_blueprints", "macros"}
    codes = {risk.code for risk in inventory.risks}
    assert {"duplicate-dag-id", "dag-uses-metadata-db", "plugin-removed-extension-point"} <= codes
    assert inventory.airflow_version == "2.9.3" and inventory.executor == "CeleryExecutor"


def test_mwaa_bundle(tmp_path: Path) -> None:
    root = _mwaa(tmp_path / "mwaa")
    assert classify(str(root)) == "mwaa"
    inventory = build_inventory(InventoryRequest(sources=[str(root)]))
    managed = inventory.managed[0]
    assert managed.airflow_version == "2.10.3"
    assert managed.requirements == ["apache-airflow-providers-snowflake==5.6.0", "boto3"]
    assert managed.workers["MaxWorkers"] == 10
    assert managed.details["startup_scripts"] == ["startup.sh"]
    assert inventory.configs[0].settings["core.default_task_retries"] == "3"
    plugins = inventory.dag_folders[0].plugins
    assert plugins and plugins[0].file == "plugins.zip:company_plugin.py"


def test_astronomer_project_and_deployment_file(tmp_path: Path) -> None:
    root = _astro(tmp_path / "astro")
    assert classify(str(root)) == "astronomer"
    inventory = build_inventory(InventoryRequest(sources=[str(root)]))
    managed = inventory.managed[0]
    assert managed.airflow_version == "2.10" and managed.platform_version == "astro-runtime 12.6.0"
    assert managed.system_packages == ["libpq-dev"]
    assert managed.settings_counts == {"connections": 1, "pools": 1, "variables": 1}
    assert managed.queues == ["default", "heavy"] and managed.executor == "CELERY"
    assert managed.environment_variables == [
        "AIRFLOW__CORE__PARALLELISM",
        "AIRFLOW__CORE__TEST_CONNECTION",
        "SNOWFLAKE_PASSWORD",
    ]
    assert inventory.configs[0].settings == {"core.parallelism": "64"}
    text = inventory.to_json()
    assert "never-in-inventory" not in text and 'prod"' not in text.replace('"name": "prod"', "")


def test_cli_writes_json_text_and_html_and_the_json_reads_back(tmp_path: Path) -> None:
    root = _composer(tmp_path / "composer")
    output, page = tmp_path / "inventory.json", tmp_path / "inventory.html"
    result = CliRunner().invoke(app, ["inventory", str(root), "-o", str(output), "--html", str(page)])
    assert result.exit_code == 0, result.output
    assert "duplicate-dag-id" in result.output
    inventory = read_inventory(output)
    assert json.loads(output.read_text())["schema"] == SCHEMA
    assert inventory.source_major() == "2"
    html = page.read_text()
    assert html.startswith("<!doctype html>") and "<script" not in html and "sales_daily" in html
    bad = CliRunner().invoke(app, ["inventory", str(tmp_path / "missing")])
    assert bad.exit_code != 0 and "no such file" in str(bad.exception)


def test_configuration_sources_never_carry_secrets(tmp_path: Path) -> None:
    from tests.platform.test_config_migrate import CFG, ENV, HELM, SECRETS

    sources = []
    for name, text in (("airflow.cfg", CFG), ("airflow.env", ENV), ("values.yaml", HELM)):
        sources.append(str(_write(tmp_path / name, text)))
    inventory = build_inventory(InventoryRequest(sources=sources))
    serialized = inventory.to_json()
    for secret in SECRETS:
        assert secret not in serialized
    cfg = inventory.configs[0]
    assert cfg.settings["core.sql_alchemy_conn"] == "***"
    assert cfg.executor == "CeleryExecutor" and "[webserver] base_url" not in cfg.removed
    assert "[api_auth] jwt_secret" in cfg.needs_added
    assert inventory.configs[2].executor == "CeleryExecutor"  # Helm `executor:`
