"""`airshift deploy up --local`: run a `deploy compose` project's Airflow services as local processes,
for users without Docker: the same commands and environment as the Compose file, the real Airflow
runtime airshift caches, and a local PostgreSQL (and Redis for Celery) instead of the containers.

What changes from the containers, and only that: database and broker URLs point at the local servers,
the container paths (/opt/airflow/...) at the project folder, the API server listens on 127.0.0.1, the
scheduler's health port is a free one, each Celery worker (one per queue) gets its own node name and log
server port, and `airflow jobs check --hostname $HOSTNAME` becomes `--local`."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airshift.errors import AirshiftError

_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?::?-(?P<default>[^}]*))?\}")
SKIPPED = ("postgres", "redis", "flower")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _expand(value: str, env: dict[str, str]) -> str:
    text = _VARIABLE.sub(lambda m: env.get(m["name"], m["default"] or ""), value)
    return text.replace("$$", "$")


@dataclass
class LocalService:
    name: str
    command: list[str]
    env: dict[str, str]
    health: list[str] | str | None  # argv to run, or a URL to GET
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None


@dataclass
class LocalEnvironment:
    project: Path
    base_url: str
    services: list[LocalService] = field(default_factory=list)

    def stop(self) -> None:
        for service in reversed(self.services):
            process = service.process
            if process is None or process.poll() is not None:
                continue
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _read_project(project: Path) -> tuple[dict[str, Any], dict[str, str]]:
    from airshift.platform.config_helm import yaml_round_trip
    from airshift.platform.files import read_text

    compose = yaml_round_trip().load(read_text(project / "docker-compose.yaml", "Compose file"))
    env: dict[str, str] = {}
    env_file = project / ".env"
    if env_file.exists():
        for line in read_text(env_file, ".env").splitlines():
            if "=" in line and not line.lstrip().startswith("#"):
                name, value = line.split("=", 1)
                env[name.strip()] = value.strip()
    return compose, env


def plan_services(
    project: Path,
    db_url: str,
    redis_url: str,
    port: int,
    runtime_env: dict[str, str],
    extra_env: dict[str, str],
) -> tuple[list[LocalService], list[LocalService]]:
    """(init services, long-running services) with their local commands and environments."""
    compose, dotenv = _read_project(project)
    home = project / ".airflow-local"
    home.mkdir(exist_ok=True)
    # Ports a container has to itself but processes on one host share: the scheduler's health server
    # and the log servers of the worker and the triggerer.
    health_port, log_port, trigger_log_port = _free_port(), _free_port(), _free_port()
    init: list[LocalService] = []
    running: list[LocalService] = []
    for name, service in compose["services"].items():
        if name in SKIPPED or "image" not in service:
            continue
        env = {k: v for k, v in runtime_env.items() if not k.startswith("AIRFLOW")}
        for key, value in (service.get("environment") or {}).items():
            env[str(key)] = _expand(str(value), dotenv)
        for mount in service.get("volumes") or []:
            local, _, inside = str(mount).partition(":")
            folder = str((project / local).resolve())
            setting = {
                "/opt/airflow/dags": "AIRFLOW__CORE__DAGS_FOLDER",
                "/opt/airflow/logs": "AIRFLOW__LOGGING__BASE_LOG_FOLDER",
                "/opt/airflow/plugins": "AIRFLOW__CORE__PLUGINS_FOLDER",
            }.get(inside)
            if setting:
                env[setting] = folder
            if inside == "/opt/airflow/config" and "AIRFLOW_CONFIG" in env:
                env["AIRFLOW_CONFIG"] = env["AIRFLOW_CONFIG"].replace("/opt/airflow/config", folder)
        env.update(
            {
                "AIRFLOW_HOME": str(home),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db_url,
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
                "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(health_port),
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(log_port),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(trigger_log_port),
            }
        )
        if "AIRFLOW__CELERY__BROKER_URL" in env:
            env["AIRFLOW__CELERY__BROKER_URL"] = redis_url
            env["AIRFLOW__CELERY__RESULT_BACKEND"] = "db+" + db_url
        env.update(extra_env)
        command = service.get("command")
        if service.get("entrypoint"):  # the init service: migrate (the container also creates folders)
            init.append(LocalService(name, ["db", "migrate"], env, None))
            continue
        argv = shlex.split(command) if isinstance(command, str) else [str(part) for part in command]
        if argv[:1] == ["api-server"]:
            argv += ["--host", "127.0.0.1", "--port", str(port)]
        node = f"celery@{socket.gethostname()}"
        if argv[:2] == ["celery", "worker"]:
            # Containers each have their own host name and ports; workers on one host need a Celery
            # node name each (else they clash as duplicates and the health ping cannot tell them
            # apart) and a log server port each.
            node = f"{name}@{socket.gethostname()}"
            argv += ["--celery-hostname", node]
            env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = str(_free_port())
        running.append(LocalService(name, argv, env, _health(service, port, health_port, node)))
    return init, running


def _health(service: dict[str, Any], port: int, health_port: int, node: str) -> list[str] | str | None:
    test = (service.get("healthcheck") or {}).get("test")
    if not test:
        return None
    parts = [str(part) for part in test]
    if parts[0] == "CMD" and parts[1] == "curl":
        url = parts[-1].replace("localhost:8974", f"127.0.0.1:{health_port}")
        return re.sub(r"localhost:\d+", f"127.0.0.1:{port}", url)
    script = parts[-1].replace('--hostname "$${HOSTNAME}"', "--local")
    script = script.replace('-d "celery@$${HOSTNAME}"', f'-d "{node}"')
    return ["bash", "-c", script.replace("$$", "$")]


def _healthy(service: LocalService, airflow_bin: Path) -> bool:
    if service.health is None:
        return True
    if isinstance(service.health, str):
        import httpx

        try:
            return httpx.get(service.health, timeout=10).status_code == 200
        except httpx.HTTPError:
            return False
    env = dict(service.env)
    env["PATH"] = f"{airflow_bin}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(service.health, env=env, capture_output=True, timeout=300, check=False)
    return done.returncode == 0


@contextmanager
def local_environment(
    project: Path,
    db_url: str,
    redis_url: str = "redis://127.0.0.1:6379/0",
    port: int | None = None,
    extra_env: dict[str, str] | None = None,
    extra_requirements: tuple[str, ...] = ("apache-airflow-providers-postgres",),
    airflow_version: str = "3.3.2",
    timeout: float = 900,
) -> Iterator[LocalEnvironment]:
    """Start every service, wait until all are healthy, yield; stop them all afterwards."""
    from airshift.verify.runtimes import ensure_runtime

    runtime = ensure_runtime(airflow_version, extra_requirements=extra_requirements)
    port = port or _free_port()
    init, running = plan_services(project, db_url, redis_url, port, runtime.env(), extra_env or {})
    airflow = str(runtime.bin_dir / "airflow")
    logs = project / ".airflow-local" / "process-logs"
    logs.mkdir(parents=True, exist_ok=True)
    for service in init:
        done = subprocess.run(
            [airflow, *service.command], env=service.env, capture_output=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            tail = done.stderr.decode(errors="replace")[-1500:]
            raise AirshiftError(f"{service.name}: `airflow {' '.join(service.command)}` failed:\n{tail}")
    environment = LocalEnvironment(project, f"http://127.0.0.1:{port}")
    try:
        for service in running:
            service.log = logs / f"{service.name}.log"
            with service.log.open("wb") as sink:
                service.process = subprocess.Popen(
                    [airflow, *service.command], env=service.env, stdout=sink, stderr=subprocess.STDOUT,
                    cwd=project, start_new_session=True,
                )  # fmt: skip
            environment.services.append(service)
        deadline = time.monotonic() + timeout
        pending = list(running)
        while pending:
            for service in list(pending):
                assert service.process is not None
                if service.process.poll() is not None:
                    raise AirshiftError(
                        f"{service.name} exited ({service.process.returncode}); see {service.log}"
                    )
                if _healthy(service, runtime.bin_dir):
                    pending.remove(service)
            if pending and time.monotonic() > deadline:
                names = ", ".join(service.name for service in pending)
                raise AirshiftError(f"not healthy after {timeout:.0f} s: {names} (logs in {logs})")
            if pending:
                time.sleep(3)
        yield environment
    finally:
        environment.stop()
