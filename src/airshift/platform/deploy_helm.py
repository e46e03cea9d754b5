"""`airshift deploy helm`: values for the official Apache Airflow chart (1.22 by default, or 1.21).

Built from the inventory (executor, queues, peak concurrency) and, when given, the values file
`config migrate` produced (its `config:` tree and Secret references are carried over). Secrets are
only ever referenced by Kubernetes Secret name; nothing secret is written into the values.

Chart facts (../shared/reference/platform.md §2): both 1.21 and 1.22 keep Celery settings under
`workers.celery.*` (1.19 moved them there); 1.22 (the line after "Drop Airflow 2 Support") needs
Airflow >= 3.1 and has no `webserver*` values; 1.21 still runs Airflow 2.11 with `webserver.*`."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

from airshift.errors import AirshiftError
from airshift.platform.inventory_model import Inventory

CHART_VERSIONS = ("1.21", "1.22")
EXECUTORS = ("CeleryExecutor", "KubernetesExecutor")
DEFAULT_WORKER_CONCURRENCY = 16  # the chart's config.celery.worker_concurrency


@dataclass
class HelmRequest:
    inventory: Inventory | None = None
    migrated_values: Path | None = None  # output of `config migrate` on Helm values
    chart_version: str = "1.22"
    airflow_version: str = "3.3.2"
    executor: str | None = None  # None: from the inventory (Celery stays Celery, else Kubernetes)
    git_repo: str | None = None
    git_branch: str = "main"
    git_subpath: str = ""
    git_ssh_key_secret: str | None = None
    git_credentials_secret: str | None = None
    remote_logs: str | None = None  # e.g. s3://bucket/logs; None: persist logs on a volume
    remote_log_conn_id: str = "airflow_logs"
    logs_size: str = "100Gi"
    release: str = "airflow"
    extra_queues: list[str] = field(default_factory=list)


@dataclass
class HelmResult:
    values: Any  # ruamel CommentedMap
    notes: list[str]

    def text(self) -> str:
        from airshift.platform.config_helm import yaml_round_trip

        buffer = StringIO()
        yaml_round_trip().dump(self.values, buffer)
        return buffer.getvalue()


def _dns_name(queue: str) -> str:
    name = re.sub(r"[^a-z0-9-]+", "-", queue.lower()).strip("-")
    return name[:40] or "queue"


def _executor(request: HelmRequest) -> str:
    if request.executor:
        chosen = request.executor
    elif request.inventory is not None and (request.inventory.executor or "").lower().startswith("celery"):
        chosen = "CeleryExecutor"
    else:
        chosen = "KubernetesExecutor"
    if chosen not in EXECUTORS:
        raise AirshiftError(f"--executor {chosen!r}: choose CeleryExecutor or KubernetesExecutor")
    return chosen


def _pgbouncer(peak: int, executor: str) -> dict[str, Any]:
    """Airflow 3 tasks no longer open DB sessions (they use the Task Execution API); connections come
    from the scheduler, API server, DAG processor, triggerer and KEDA's queries, and grow with the
    task throughput they serve. So: a floor for the components, plus headroom for the peak."""
    clients = max(100, 50 + 2 * peak)
    pool = min(100, max(10, 10 + math.ceil(peak / 8)))
    settings = {"enabled": True, "maxClientConn": clients, "metadataPoolSize": pool}
    if executor == "CeleryExecutor":
        settings["resultBackendPoolSize"] = min(50, max(5, math.ceil(peak / 16)))
    return settings


def build_values(request: HelmRequest) -> HelmResult:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if request.chart_version not in CHART_VERSIONS:
        raise AirshiftError(f"--chart-version {request.chart_version!r}: choose 1.21 or 1.22")
    major = int(request.airflow_version.split(".", 1)[0])
    if request.chart_version == "1.22" and (major < 3 or request.airflow_version < "3.1"):
        raise AirshiftError(
            "chart 1.22 needs Airflow 3.1 or later; use --chart-version 1.21 for Airflow 2.11"
        )
    inventory = request.inventory
    executor = _executor(request)
    peak = inventory.peak_concurrency() if inventory is not None else 0
    notes: list[str] = []
    values = CommentedMap()
    values.yaml_set_start_comment(
        f"Values for the official apache-airflow Helm chart {request.chart_version}, written by "
        "airshift deploy helm.\nSecrets are referenced by name only; create them before `helm install`."
    )
    values["airflowVersion"] = request.airflow_version
    values["defaultAirflowTag"] = request.airflow_version
    values["executor"] = executor
    values["fernetKeySecretName"] = f"{request.release}-fernet-key"
    values.yaml_add_eol_comment(
        "Secret key: fernet-key (the SOURCE's key, so encrypted values keep working)", "fernetKeySecretName"
    )
    if major >= 3:
        values["apiSecretKeySecretName"] = f"{request.release}-api-secret-key"
        values["jwtSecretName"] = f"{request.release}-jwt-secret"
    else:
        values["webserverSecretKeySecretName"] = f"{request.release}-webserver-secret-key"
    values["data"] = CommentedMap(metadataSecretName=f"{request.release}-metadata")
    values["data"].yaml_add_eol_comment("Secret key: connection (the metadata DB URL)", "metadataSecretName")
    values["postgresql"] = CommentedMap(enabled=False)
    values.yaml_add_eol_comment("use your managed PostgreSQL through data.metadataSecretName", "postgresql")
    values["pgbouncer"] = CommentedMap(_pgbouncer(peak, executor))
    values["pgbouncer"].yaml_set_start_comment(
        f"sized for a peak of {peak} concurrent task instances (inventory)", indent=2
    )
    queues = sorted(
        {*(inventory.queues() if inventory is not None else []), *request.extra_queues} - {"default"}
    )
    if executor == "CeleryExecutor":
        concurrency = DEFAULT_WORKER_CONCURRENCY
        celery = CommentedMap()
        max_workers = max(2, 2 * math.ceil(max(peak, 1) / concurrency))
        celery["keda"] = CommentedMap(enabled=True, minReplicaCount=0, maxReplicaCount=max_workers)
        celery.yaml_add_eol_comment(
            f"peak {peak} tasks / {concurrency} per worker, doubled for headroom; KEDA must be installed",
            "keda",
        )
        celery["queue"] = "default"
        if queues:
            sets = CommentedSeq()
            for queue in queues:
                sets.append(
                    CommentedMap(
                        name=_dns_name(queue),
                        queue=queue,
                        keda=CommentedMap(enabled=True, minReplicaCount=0, maxReplicaCount=max_workers),
                    )
                )
            celery["sets"] = sets
            notes.append(f"one Celery worker set per queue: {', '.join(queues)}")
        values["workers"] = CommentedMap(celery=celery)
        values["redis"] = CommentedMap(enabled=True, passwordSecretName=f"{request.release}-redis-password")
    else:
        values["redis"] = CommentedMap(enabled=False)
        if queues:
            notes.append(
                f"queues {', '.join(queues)} are ignored by the KubernetesExecutor (use pod_override per task instead)"
            )
    if request.git_repo:
        git = CommentedMap(enabled=True, repo=request.git_repo, branch=request.git_branch, depth=1)
        if request.git_subpath:
            git["subPath"] = request.git_subpath
        if request.git_ssh_key_secret:
            git["sshKeySecret"] = request.git_ssh_key_secret
        if request.git_credentials_secret:
            git["credentialsSecret"] = request.git_credentials_secret
        values["dags"] = CommentedMap(gitSync=git)
    config = CommentedMap()
    if request.remote_logs:
        config["logging"] = CommentedMap(
            remote_logging="True",
            remote_base_log_folder=request.remote_logs,
            remote_log_conn_id=request.remote_log_conn_id,
        )
        notes.append(
            f"remote logging to {request.remote_logs}: create the connection {request.remote_log_conn_id!r}"
        )
    else:
        values["logs"] = CommentedMap(persistence=CommentedMap(enabled=True, size=request.logs_size))
    if request.migrated_values is not None:
        _merge_migrated(values, config, request.migrated_values, notes)
    if config:
        values["config"] = config
    return HelmResult(values, notes)


def _merge_migrated(values: Any, config: Any, path: Path, notes: list[str]) -> None:
    """Carry over the migrated `config:` tree (templated chart defaults stay the chart's) and the
    Secret references `config migrate` added."""
    from ruamel.yaml.comments import CommentedMap

    from airshift.platform.config_helm import yaml_round_trip
    from airshift.platform.files import read_text

    migrated = yaml_round_trip().load(read_text(path, "migrated values")) or {}
    if not isinstance(migrated, dict):
        raise AirshiftError(f"{path}: Helm values must be a mapping at the top level")
    carried = 0
    for section, options in (migrated.get("config") or {}).items():
        if not isinstance(options, dict):
            continue
        target = config.setdefault(section, CommentedMap())
        for option, value in options.items():
            if (section, option) == ("core", "executor"):
                continue  # the chart templates it from `executor:`
            if option not in target:
                target[option] = value
                carried += 1
    for name in ("apiSecretKeySecretName", "jwtSecretName", "fernetKeySecretName"):
        if migrated.get(name):
            values[name] = migrated[name]
    notes.append(f"{carried} options carried over from {path}")
