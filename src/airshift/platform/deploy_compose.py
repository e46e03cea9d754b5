"""`airshift deploy compose`: a Docker Compose project for the target Airflow, shaped like the official
docker-compose.yaml (../shared/reference/compose/) but from the inventory and the migrated config.

Services: postgres, redis (Celery), airflow-init (db migrate, first user), airflow-apiserver,
airflow-scheduler, airflow-dag-processor, airflow-triggerer, one Celery worker per queue (or none for
the LocalExecutor), flower (profile `flower`). Every long-running service has a health check; Airflow
services wait for the init service to complete. Secrets live only in `.env` (mode 600), referenced as
`${NAME}`; the compose file itself holds none."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

from airshift.errors import AirshiftError
from airshift.platform.inventory_model import Inventory

EXECUTORS = ("CeleryExecutor", "LocalExecutor")
HEALTH = {"interval": "30s", "timeout": "10s", "retries": 5, "start_period": "30s"}
FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"


@dataclass
class ComposeRequest:
    inventory: Inventory | None = None
    migrated_config: Path | None = None  # airflow.cfg from `config migrate`, mounted as AIRFLOW_CONFIG
    secrets_env: Path | None = None  # the secrets env file `config migrate` wrote (values reused)
    executor: str | None = None
    airflow_version: str = "3.3.2"
    image: str | None = None
    extra_queues: list[str] = field(default_factory=list)
    api_port: int = 8080
    auth_manager: str = "fab"  # fab (keeps 2.x users; the official file's choice) or simple


@dataclass
class ComposeProject:
    compose: dict[str, Any]
    env: dict[str, str]  # written to .env, mode 600
    notes: list[str]

    def compose_text(self) -> str:
        from airshift.platform.config_helm import yaml_round_trip

        buffer = StringIO()
        yaml = yaml_round_trip()
        buffer.write("# Docker Compose project written by airshift deploy compose. Secrets are in .env.\n")
        yaml.dump(self.compose, buffer)
        return buffer.getvalue()

    def env_text(self) -> str:
        lines = ["# Written by airshift deploy compose. Keep private (mode 600)."]
        lines += [f"{name}={value}" for name, value in sorted(self.env.items())]
        return "\n".join(lines) + "\n"


def _service_name(queue: str) -> str:
    return "airflow-worker-" + (re.sub(r"[^a-z0-9-]+", "-", queue.lower()).strip("-") or "queue")


def _health(test: list[str], **overrides: Any) -> dict[str, Any]:
    return {"test": test, **HEALTH, **overrides}


def _secrets_from(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    from airshift.platform.files import read_text

    found = {}
    for line in read_text(path, "secrets file").splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            name, value = line.split("=", 1)
            found[name.strip().removeprefix("export ").strip()] = value.strip()
    return found


def build_project(request: ComposeRequest) -> ComposeProject:
    inventory = request.inventory
    executor = request.executor or (
        "CeleryExecutor"
        if inventory is not None and (inventory.executor or "").lower().startswith("celery")
        else "LocalExecutor"
    )
    if executor not in EXECUTORS:
        raise AirshiftError(f"--executor {executor!r}: choose CeleryExecutor or LocalExecutor")
    if request.auth_manager not in ("fab", "simple"):
        raise AirshiftError(f"--auth-manager {request.auth_manager!r}: choose fab or simple")
    from cryptography.fernet import Fernet

    reused = _secrets_from(request.secrets_env)
    env = {
        "AIRFLOW_UID": "50000",
        "AIRFLOW_IMAGE_NAME": request.image or f"apache/airflow:{request.airflow_version}",
        "POSTGRES_PASSWORD": secrets.token_urlsafe(24),
        "FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW__API_AUTH__JWT_SECRET": reused.get("AIRFLOW__API_AUTH__JWT_SECRET")
        or secrets.token_urlsafe(32),
        "AIRFLOW__API__SECRET_KEY": reused.get("AIRFLOW__API__SECRET_KEY") or secrets.token_urlsafe(32),
        "_AIRFLOW_WWW_USER_USERNAME": "admin",
        "_AIRFLOW_WWW_USER_PASSWORD": secrets.token_urlsafe(16),
    }
    notes = ["FERNET_KEY in .env is new: replace it with the source's key before `airshift transfer`"]
    common_env: dict[str, str] = {
        "AIRFLOW__CORE__EXECUTOR": executor,
        "AIRFLOW__CORE__AUTH_MANAGER": FAB_AUTH_MANAGER
        if request.auth_manager == "fab"
        else SIMPLE_AUTH_MANAGER,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql+psycopg2://airflow:${POSTGRES_PASSWORD}@postgres/airflow",
        "AIRFLOW__CORE__FERNET_KEY": "${FERNET_KEY}",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "true",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "false",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://airflow-apiserver:{request.api_port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": "${AIRFLOW__API_AUTH__JWT_SECRET}",
        "AIRFLOW__API__SECRET_KEY": "${AIRFLOW__API__SECRET_KEY}",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "true",
    }
    if executor == "CeleryExecutor":
        common_env["AIRFLOW__CELERY__BROKER_URL"] = "redis://redis:6379/0"
        common_env["AIRFLOW__CELERY__RESULT_BACKEND"] = (
            "db+postgresql+psycopg2://airflow:${POSTGRES_PASSWORD}@postgres/airflow"
        )
    volumes = ["./dags:/opt/airflow/dags", "./logs:/opt/airflow/logs", "./plugins:/opt/airflow/plugins"]
    if request.migrated_config is not None:
        volumes.append("./config:/opt/airflow/config")
        common_env["AIRFLOW_CONFIG"] = "/opt/airflow/config/airflow.cfg"
        notes.append(f"copy {request.migrated_config} to config/airflow.cfg (done by `deploy compose`)")
    depends = {"postgres": {"condition": "service_healthy"}}
    if executor == "CeleryExecutor":
        depends["redis"] = {"condition": "service_healthy"}

    def airflow_service(command: str, health: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
        service: dict[str, Any] = {
            "image": "${AIRFLOW_IMAGE_NAME}",
            "command": command,
            "env_file": [".env"],
            "environment": dict(common_env),
            "volumes": list(volumes),
            "user": "${AIRFLOW_UID}:0",
            "restart": "always",
            "depends_on": {**depends, "airflow-init": {"condition": "service_completed_successfully"}},
        }
        if health is not None:
            service["healthcheck"] = health
        service.update(extra)
        return service

    services: dict[str, Any] = {
        "postgres": {
            "image": "postgres:16",
            "environment": {
                "POSTGRES_USER": "airflow",
                "POSTGRES_PASSWORD": "${POSTGRES_PASSWORD}",
                "POSTGRES_DB": "airflow",
            },
            "volumes": ["postgres-db-volume:/var/lib/postgresql/data"],
            "healthcheck": _health(["CMD", "pg_isready", "-U", "airflow"], interval="10s", start_period="5s"),
            "restart": "always",
        }
    }
    if executor == "CeleryExecutor":
        services["redis"] = {
            "image": "redis:7.2-bookworm",
            "expose": [6379],
            "healthcheck": _health(["CMD", "redis-cli", "ping"], interval="10s", start_period="5s"),
            "restart": "always",
        }
    services["airflow-init"] = {
        "image": "${AIRFLOW_IMAGE_NAME}",
        "entrypoint": "/bin/bash",
        "command": [
            "-c",
            "mkdir -p /opt/airflow/logs /opt/airflow/dags /opt/airflow/plugins && "
            "airflow db migrate && "
            'airflow users create --role Admin --username "$${_AIRFLOW_WWW_USER_USERNAME}" '
            '--password "$${_AIRFLOW_WWW_USER_PASSWORD}" --firstname Admin --lastname User '
            "--email admin@example.invalid || true",
        ],
        "env_file": [".env"],
        "environment": dict(common_env),
        "volumes": list(volumes),
        "user": "0:0",
        "depends_on": dict(depends),
    }
    services["airflow-apiserver"] = airflow_service(
        "api-server",
        _health(["CMD", "curl", "--fail", f"http://localhost:{request.api_port}/api/v2/monitor/health"]),
        ports=[f"{request.api_port}:{request.api_port}"],
    )
    services["airflow-scheduler"] = airflow_service(
        "scheduler", _health(["CMD", "curl", "--fail", "http://localhost:8974/health"])
    )
    services["airflow-dag-processor"] = airflow_service(
        "dag-processor",
        _health(["CMD-SHELL", 'airflow jobs check --job-type DagProcessorJob --hostname "$${HOSTNAME}"']),
    )
    services["airflow-triggerer"] = airflow_service(
        "triggerer",
        _health(["CMD-SHELL", 'airflow jobs check --job-type TriggererJob --hostname "$${HOSTNAME}"']),
    )
    if executor == "CeleryExecutor":
        queues = sorted({"default", *(inventory.queues() if inventory else []), *request.extra_queues})
        for queue in queues:
            ping = (
                "celery --app airflow.providers.celery.executors.celery_executor.app inspect ping "
                '-d "celery@$${HOSTNAME}"'
            )
            worker = airflow_service(f"celery worker --queues {queue}", _health(["CMD-SHELL", ping]))
            worker["environment"]["DUMB_INIT_SETSID"] = "0"
            worker["depends_on"]["airflow-apiserver"] = {"condition": "service_healthy"}
            services[_service_name(queue)] = worker
        notes.append(f"one Celery worker service per queue: {', '.join(queues)}")
        services["flower"] = airflow_service(
            "celery flower",
            _health(["CMD", "curl", "--fail", "http://localhost:5555/"]),
            ports=["5555:5555"],
            profiles=["flower"],
        )
    compose = {"name": "airflow", "services": services, "volumes": {"postgres-db-volume": {}}}
    return ComposeProject(compose, env, notes)


def write_project(project: ComposeProject, folder: Path, migrated_config: Path | None) -> list[Path]:
    from airshift.platform.files import read_text, write_private, write_text

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("dags", "logs", "plugins", "config"):
        (folder / name).mkdir(exist_ok=True)
    written = [folder / "docker-compose.yaml", folder / ".env"]
    write_text(written[0], project.compose_text())
    write_private(written[1], project.env_text())
    if migrated_config is not None:
        target = folder / "config" / "airflow.cfg"
        write_text(target, read_text(migrated_config, "migrated configuration"))
        written.append(target)
    return written
