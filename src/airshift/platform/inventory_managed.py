"""Managed sources, from what their users can download:

* Cloud Composer: the environment bucket (`dags/`, `plugins/`, `data/`) and the output of
  `gcloud composer environments describe ENV --location LOC --format json|yaml`;
* MWAA: the bundle (`requirements.txt`, `plugins.zip`, the startup script) and the output of
  `aws mwaa get-environment --name ENV` (`AirflowConfigurationOptions`, workers, ...);
* Astronomer: the Astro project (`Dockerfile` FROM the Astro Runtime, `requirements.txt`,
  `packages.txt`, `airflow_settings.yaml`) and a Deployment file (`astro deployment inspect`).

Environment variable values, connection and variable values are never read into the inventory:
names and counts only."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from airshift.errors import AirshiftError
from airshift.platform.files import read_text
from airshift.platform.inventory_config import config_from_entries, entries_from_dotted
from airshift.platform.inventory_model import ConfigSource, ManagedInfo

# Astro Runtime major -> Airflow minor, as Astronomer's runtime release notes pair them (Runtime 3.x
# is versioned after Airflow 3 itself, e.g. 3.0-4).
ASTRO_RUNTIME_AIRFLOW = {
    "4": "2.2",
    "5": "2.3",
    "6": "2.4",
    "7": "2.5",
    "8": "2.6",
    "9": "2.7",
    "10": "2.8",
    "11": "2.9",
    "12": "2.10",
    "13": "2.11",
}
_COMPOSER_IMAGE = re.compile(
    r"composer-(?P<composer>[\d.]+(?:-preview\.\d+)?|\d+)-airflow-(?P<airflow>[\d.]+)"
)
_ASTRO_FROM = re.compile(
    r"^\s*FROM\s+\S*(?:astro-runtime|astronomer/[\w-]*runtime|/runtime):(?P<tag>[\w.-]+)",
    re.IGNORECASE | re.MULTILINE,
)


def _load_structured(path: Path) -> Any:
    text = read_text(path, "file")
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise AirshiftError(f"{path}: not valid JSON: {error}") from None
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="safe").load(text)
    except YAMLError as error:
        raise AirshiftError(f"{path}: not valid YAML: {str(error).splitlines()[0]}") from None


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key, data.get(_snake(key)))
    return data


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _requirements(path: Path) -> list[str]:
    if not path.is_file():
        return []
    lines = read_text(path, "requirements file").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith(("#", "-"))]


def _structured_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in (".json", ".yaml", ".yml")
    )


# --- detection ----------------------------------------------------------------------------------


def detect_platform(folder: Path) -> str | None:
    if (folder / "Dockerfile").is_file() and _ASTRO_FROM.search(
        read_text(folder / "Dockerfile", "Dockerfile")
    ):
        return "astronomer"
    for path in _structured_files(folder):
        try:
            data = _load_structured(path)
        except AirshiftError:
            continue
        if _get(data, "config", "softwareConfig", "imageVersion"):
            return "composer"
        if isinstance(_get(data, "Environment"), dict) and _get(data, "Environment", "AirflowVersion"):
            return "mwaa"
    return None


# --- Composer -----------------------------------------------------------------------------------


def read_composer(folder: Path) -> tuple[ManagedInfo, ConfigSource | None]:
    describe = next(
        p
        for p in _structured_files(folder)
        if _get(_load_structured(p), "config", "softwareConfig", "imageVersion")
    )
    data = _load_structured(describe)
    software = _get(data, "config", "softwareConfig") or {}
    image = str(_get(software, "imageVersion") or "")
    match = _COMPOSER_IMAGE.search(image)
    overrides = _get(software, "airflowConfigOverrides") or {}
    packages = _get(software, "pypiPackages") or {}
    workloads = _get(data, "config", "workloadsConfig") or {}
    info = ManagedInfo(
        platform="composer",
        path=str(folder),
        airflow_version=match["airflow"] if match else None,
        platform_version=f"composer-{match['composer']}" if match else image or None,
        executor="CeleryExecutor",  # Composer runs Celery workers on GKE
        requirements=[f"{name}{spec}" for name, spec in sorted(packages.items())],
        environment_variables=sorted(_get(software, "envVariables") or {}),
        workers={
            key: value
            for key, value in (_get(workloads, "worker") or {}).items()
            if key in ("minCount", "maxCount", "cpu", "memoryGb", "storageGb")
        },
        details={
            "environment": str(_get(data, "name") or ""),
            "describe_file": describe.name,
            "dag_gcs_prefix": _get(data, "config", "dagGcsPrefix"),
            "environment_size": _get(data, "config", "environmentSize"),
            "python_version": _get(software, "pythonVersion"),
            "scheduler_count": _get(software, "schedulerCount") or _get(workloads, "scheduler", "count"),
            "bucket_folders": sorted(p.name for p in folder.iterdir() if p.is_dir()),
        },
    )
    config = None
    if overrides:
        config = config_from_entries(
            f"{describe}:airflowConfigOverrides", "composer", entries_from_dotted(overrides.items(), "-")
        )
    return info, config


# --- MWAA ---------------------------------------------------------------------------------------


def read_mwaa(folder: Path) -> tuple[ManagedInfo, ConfigSource | None]:
    described = next(
        p for p in _structured_files(folder) if isinstance(_get(_load_structured(p), "Environment"), dict)
    )
    env = _get(_load_structured(described), "Environment") or {}
    options = env.get("AirflowConfigurationOptions") or {}
    startup = env.get("StartupScriptS3Path")
    startup_local = [p.name for p in folder.iterdir() if p.is_file() and p.suffix == ".sh"]
    queue = env.get("CeleryExecutorQueue")
    info = ManagedInfo(
        platform="mwaa",
        path=str(folder),
        airflow_version=env.get("AirflowVersion"),
        platform_version=env.get("EnvironmentClass"),
        executor="CeleryExecutor",  # MWAA runs Celery workers on Fargate
        requirements=_requirements(folder / "requirements.txt"),
        workers={
            key: env[key]
            for key in ("MinWorkers", "MaxWorkers", "Schedulers", "MinWebservers", "MaxWebservers")
            if key in env
        },
        queues=[],
        details={
            "environment": env.get("Name"),
            "describe_file": described.name,
            "dag_s3_path": env.get("DagS3Path"),
            "plugins_s3_path": env.get("PluginsS3Path"),
            "requirements_s3_path": env.get("RequirementsS3Path"),
            "startup_script_s3_path": startup,
            "startup_scripts": startup_local,
            "celery_executor_queue_arn": queue,
            "plugins_zip": (folder / "plugins.zip").is_file(),
        },
    )
    config = None
    if options:
        config = config_from_entries(
            f"{described}:AirflowConfigurationOptions", "mwaa", entries_from_dotted(options.items(), ".")
        )
    return info, config


# --- Astronomer ---------------------------------------------------------------------------------


def _astro_airflow(tag: str) -> str | None:
    if re.match(r"^3\.\d+-", tag) or re.match(r"^3\.\d+$", tag):
        return tag.split("-", 1)[0]
    return ASTRO_RUNTIME_AIRFLOW.get(tag.split(".", 1)[0])


def read_astronomer(folder: Path) -> tuple[ManagedInfo, ConfigSource | None]:
    dockerfile = read_text(folder / "Dockerfile", "Dockerfile")
    match = _ASTRO_FROM.search(dockerfile)
    tag = match["tag"] if match else ""
    settings_counts: dict[str, int] = {}
    settings_file = folder / "airflow_settings.yaml"
    if settings_file.is_file():
        settings = _get(_load_structured(settings_file), "airflow") or {}
        for kind in ("connections", "pools", "variables"):
            settings_counts[kind] = len(settings.get(kind) or [])
    info = ManagedInfo(
        platform="astronomer",
        path=str(folder),
        airflow_version=_astro_airflow(tag),
        platform_version=f"astro-runtime {tag}" if tag else None,
        requirements=_requirements(folder / "requirements.txt"),
        system_packages=_requirements(folder / "packages.txt"),
        settings_counts=settings_counts,
    )
    env_names: set[str] = set()
    for line in dockerfile.splitlines():
        found = re.match(r"^\s*ENV\s+([A-Za-z_][A-Za-z0-9_]*)", line)
        if found:
            env_names.add(found[1])
    config_entries = []
    for path in _structured_files(folder):
        if path.name == "airflow_settings.yaml":
            continue
        data = _load_structured(path)
        deployment = _get(data, "deployment")
        if not isinstance(deployment, dict):
            continue
        configuration = deployment.get("configuration") or {}
        info.executor = configuration.get("executor") or info.executor
        info.details["deployment_file"] = path.name
        info.details["deployment"] = {
            key: configuration[key]
            for key in (
                "name",
                "runtime_version",
                "executor",
                "scheduler_size",
                "dag_deploy_enabled",
                "workspace_name",
            )
            if key in configuration
        }
        if configuration.get("runtime_version") and not info.airflow_version:
            info.airflow_version = _astro_airflow(str(configuration["runtime_version"]))
        for queue in deployment.get("worker_queues") or []:
            if isinstance(queue, dict) and queue.get("name"):
                info.queues.append(str(queue["name"]))
                info.workers[str(queue["name"])] = {
                    key: queue[key]
                    for key in ("min_worker_count", "max_worker_count", "worker_concurrency", "worker_type")
                    if key in queue
                }
        for variable in deployment.get("environment_variables") or []:
            if isinstance(variable, dict) and variable.get("key"):
                env_names.add(str(variable["key"]))
                key = str(variable["key"])
                if (
                    key.startswith("AIRFLOW__")
                    and not variable.get("is_secret")
                    and variable.get("value") is not None
                ):
                    config_entries.append((key, str(variable["value"])))
    info.environment_variables = sorted(env_names)
    config = None
    if config_entries:
        from airshift.platform.inventory_config import read_environ

        config = read_environ(dict(config_entries))
        config.path = f"{folder}:{info.details.get('deployment_file')}:environment_variables"
        config.format = "astronomer"
    return info, config


READERS = {"composer": read_composer, "mwaa": read_mwaa, "astronomer": read_astronomer}
