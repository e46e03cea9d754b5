"""`airshift deploy compose`: the project is valid against the Compose specification (the compose-spec
schema check-jsonschema vendors, run through its own CLI), has the services the executor needs with
health checks, and keeps every secret in `.env` (mode 600)."""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from airshift.cli import app
from airshift.platform.config_helm import yaml_round_trip
from airshift.platform.inventory_model import SCHEMA, DagFolder, Inventory


def _check_compose_spec(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def _inventory(tmp_path: Path, executor: str) -> Path:
    inventory = Inventory(
        schema=SCHEMA,
        generated_at="2026-12-03T00:00:00+00:00",
        airshift_version="test",
        airflow_version="2.x",
        executor=executor,
        dag_folders=[DagFolder(path="dags", queues={"heavy": 2, "Reports Q": 1})],
    )
    path = tmp_path / "inventory.json"
    path.write_text(inventory.to_json())
    return path


@pytest.mark.parametrize("executor", ["CeleryExecutor", "LocalExecutor"])
def test_project_is_valid_and_complete(tmp_path: Path, executor: str) -> None:
    config = tmp_path / "airflow.cfg"
    config.write_text("[core]\nparallelism = 64\n")
    secrets = tmp_path / "airflow-secrets.env"
    secrets.write_text("AIRFLOW__API_AUTH__JWT_SECRET=jwt-from-config-migrate-123\n")
    folder = tmp_path / "project"
    result = CliRunner().invoke(
        app,
        [
            "deploy",
            "compose",
            "-o",
            str(folder),
            "--inventory",
            str(_inventory(tmp_path, executor)),
            "--config",
            str(config),
            "--secrets-file",
            str(secrets),
        ],
    )
    assert result.exit_code == 0, result.output
    compose_file = folder / "docker-compose.yaml"
    checked = _check_compose_spec(compose_file)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    compose = yaml_round_trip().load(compose_file.read_text())
    services = compose["services"]
    for name in (
        "postgres",
        "airflow-init",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
    ):
        assert name in services
        if name != "airflow-init":
            assert services[name]["healthcheck"]["test"]
    if executor == "CeleryExecutor":
        assert {
            "redis",
            "flower",
            "airflow-worker-default",
            "airflow-worker-heavy",
            "airflow-worker-reports-q",
        } <= set(services)
        assert services["airflow-worker-heavy"]["command"] == "celery worker --queues heavy"
    else:
        assert not any(name.startswith("airflow-worker") for name in services) and "redis" not in services
    assert services["airflow-scheduler"]["environment"]["AIRFLOW__CORE__EXECUTOR"] == executor
    assert (folder / "config" / "airflow.cfg").read_text() == config.read_text()
    for sub in ("dags", "logs", "plugins"):
        assert (folder / sub).is_dir()
    env = folder / ".env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    env_values = dict(
        line.split("=", 1)
        for line in env.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert env_values["AIRFLOW__API_AUTH__JWT_SECRET"] == "jwt-from-config-migrate-123"
    text = compose_file.read_text()
    for name, value in env_values.items():
        if name not in ("AIRFLOW_UID", "AIRFLOW_IMAGE_NAME", "_AIRFLOW_WWW_USER_USERNAME"):
            assert value not in text and value not in result.output


def test_the_spec_check_is_not_vacuous(tmp_path: Path) -> None:
    bad = tmp_path / "docker-compose.yaml"
    bad.write_text("services:\n  web:\n    image: x\n    healthchek:\n      test: [CMD, true]\n")
    assert _check_compose_spec(bad).returncode != 0


def _docker_compose_v1(folder: Path, compose_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker-compose", "-f", str(compose_file), *args],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="Debian's docker-compose (Compose v1) is not installed (.ci/run installs it with apt)",
)
@pytest.mark.parametrize("executor", ["CeleryExecutor", "LocalExecutor"])
def test_docker_compose_parses_and_interpolates_the_project(tmp_path: Path, executor: str) -> None:
    """A second, independent parser: Compose v1's `config` reads the project with its .env, no daemon
    needed. v1 predates the spec's top-level `name`, so a copy without that one key is checked; it is
    a syntax and interpolation check (v1 is older than the Compose v2.14 Airflow documents)."""
    folder = tmp_path / "project"
    written = CliRunner().invoke(
        app, ["deploy", "compose", "-o", str(folder), "--executor", executor, "--queue", "etl"]
    )
    assert written.exit_code == 0, written.output
    original = (folder / "docker-compose.yaml").read_text()
    assert "\nname: airflow\n" in original
    v1_file = folder / "compose-v1.yaml"
    v1_file.write_text("\n".join(line for line in original.splitlines() if not line.startswith("name: ")))
    quiet = _docker_compose_v1(folder, v1_file, "config", "-q")
    assert quiet.returncode == 0, quiet.stderr
    services = _docker_compose_v1(folder, v1_file, "config", "--services").stdout.split()
    celery = {"redis", "flower", "airflow-worker-default", "airflow-worker-etl"}
    assert celery <= set(services) if executor == "CeleryExecutor" else not celery & set(services)
    full = _docker_compose_v1(folder, v1_file, "config")
    assert full.returncode == 0 and "is not set" not in full.stderr, full.stderr  # .env covers every ${VAR}
    assert not re.search(r"(?<!\$)\$\{", full.stdout)  # only the $$-escaped shell variables remain

    broken = folder / "broken.yaml"
    broken.write_text(v1_file.read_text().replace("healthcheck:", "healthchek:", 1))
    refused = _docker_compose_v1(folder, broken, "config", "-q")
    assert refused.returncode != 0 and "healthchek" in refused.stderr
