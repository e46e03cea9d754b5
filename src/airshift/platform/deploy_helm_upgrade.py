"""`airshift deploy helm --upgrade-values OLD.yaml`: an existing values file moved to the chart's current
key layout and to the target Airflow, with every move and drop reported.

* chart layout (1.19 moved Celery worker settings): `workers.{keda,hpa,replicas,persistence,...}` ->
  `workers.celery.*`;
* Airflow 3 (chart 1.22 has no Airflow 2 values): `webserver.*` -> `apiServer.*` where the api-server
  has the same setting, `webserver.defaultUser` -> `createUserJob.defaultUser`, `webserverSecretKey*`
  -> `apiSecretKey*`, `ingress.web` -> `ingress.apiServer`; LocalKubernetesExecutor and
  CeleryKubernetesExecutor (gone in 1.22) -> the 2.10+ multi-executor list;
* `config:` and `env:` through `config migrate`'s tables;
* with `--schema` (the chart's values.schema.json, e.g. from `helm pull`): keys the target chart
  rejects are dropped and named, and the result is validated."""

from __future__ import annotations

from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

from airshift.errors import AirshiftError

CELERY_WORKER_KEYS = ("keda", "hpa", "replicas", "persistence", "queue", "sets", "enableDefault")
EXECUTOR_REPLACEMENTS = {
    "LocalKubernetesExecutor": "LocalExecutor,KubernetesExecutor",
    "CeleryKubernetesExecutor": "CeleryExecutor,KubernetesExecutor",
}


@dataclass
class UpgradeReport:
    moved: list[tuple[str, str, str]] = field(default_factory=list)  # old path, new path, why
    dropped: list[tuple[str, str]] = field(default_factory=list)  # path, why
    changed: list[tuple[str, str]] = field(default_factory=list)  # path, what


def _pop_path(data: Any, path: list[str]) -> tuple[bool, Any, Any]:
    """(found, value, its end-of-line comment) after removing the key."""
    node = data
    for key in path[:-1]:
        if not isinstance(node, dict) or key not in node:
            return False, None, None
        node = node[key]
    if not isinstance(node, dict) or path[-1] not in node:
        return False, None, None
    comment = node.ca.items.pop(path[-1], None) if hasattr(node, "ca") else None
    return True, node.pop(path[-1]), comment


def _set_path(data: Any, path: list[str], value: Any, comment: Any = None) -> bool:
    """Set unless the new place already holds a value (the newer spelling wins)."""
    from ruamel.yaml.comments import CommentedMap

    node = data
    for key in path[:-1]:
        if key not in node or not isinstance(node[key], dict):
            node[key] = CommentedMap()
        node = node[key]
    if path[-1] in node:
        return False
    node[path[-1]] = value
    if comment is not None:
        node.ca.items[path[-1]] = comment  # the comment moves with its value
    return True


def _move(data: Any, old: str, new: str, why: str, report: UpgradeReport) -> None:
    found, value, comment = _pop_path(data, old.split("."))
    if not found:
        return
    if _set_path(data, new.split("."), value, comment):
        report.moved.append((old, new, why))
    else:
        report.dropped.append((old, f"{new} is also set and wins"))


def upgrade_values(
    text: str, name: str, chart_version: str, airflow_version: str, schema: Path | None
) -> tuple[str, UpgradeReport]:
    from airshift.platform.config_helm import apply_helm, parse_helm, yaml_round_trip
    from airshift.platform.config_plan import Options, plan_migration
    from airshift.platform.config_tables import load_tables

    tables = load_tables()
    document = parse_helm(text, name, tables)
    data = document.data
    report = UpgradeReport()
    major = int(airflow_version.split(".", 1)[0])
    # config: and env: first, on the document as parsed (its refs point into it).
    plan = plan_migration(
        tables,
        document.entries(),
        Options(target="3.3" if major >= 3 else "2.11", skip_additions=frozenset(_chart_supplied())),
    )
    for fate in plan.fates:
        for step in fate.steps:
            if step.kind in ("rename", "move") and step.new:
                report.moved.append(
                    (f"config.{step.old[0]}.{step.old[1]}", f"config.{step.new[0]}.{step.new[1]}", step.why)
                )
            elif step.kind == "remove":
                report.dropped.append((f"config.{step.old[0]}.{step.old[1]}", step.why))
            elif step.kind == "value":
                report.changed.append((f"config.{step.old[0]}.{step.old[1]}", step.why))
    plan.additions = [a for a in plan.additions if not a.secret]
    migrated = yaml_round_trip().load(apply_helm(document, plan, {}))
    data = migrated
    workers = data.get("workers")
    if isinstance(workers, dict):
        for key in CELERY_WORKER_KEYS:
            _move(
                data,
                f"workers.{key}",
                f"workers.celery.{key}",
                "Celery worker settings live under workers.celery since chart 1.19",
                report,
            )
    if major >= 3:
        api_keys = {"replicas", "resources", "service", "hpa", "podDisruptionBudget", "labels", "annotations",
                    "nodeSelector", "affinity", "tolerations", "env", "extraContainers", "extraVolumes",
                    "extraVolumeMounts", "serviceAccount", "securityContexts", "priorityClassName"}  # fmt: skip
        webserver = data.get("webserver")
        if isinstance(webserver, dict):
            _move(
                data,
                "webserver.defaultUser",
                "createUserJob.defaultUser",
                "Airflow 3 creates the first user in createUserJob",
                report,
            )
            for key in list(webserver):
                if key in api_keys:
                    _move(
                        data,
                        f"webserver.{key}",
                        f"apiServer.{key}",
                        "Airflow 3 serves the UI from the api-server",
                        report,
                    )
            leftover = data.get("webserver")
            if isinstance(leftover, dict):
                for key in list(leftover):
                    report.dropped.append((f"webserver.{key}", "no api-server equivalent in Airflow 3"))
            data.pop("webserver", None)
        _move(data, "webserverSecretKeySecretName", "apiSecretKeySecretName",
              "Airflow 3 reads [api] secret_key; the Secret needs the key api-secret-key", report)  # fmt: skip
        _move(data, "webserverSecretKey", "apiSecretKey", "Airflow 3 reads [api] secret_key", report)
        _move(data, "ingress.web", "ingress.apiServer", "the UI is served by the api-server", report)
        executor = str(data.get("executor") or "")
        if executor in EXECUTOR_REPLACEMENTS and chart_version == "1.22":
            data["executor"] = EXECUTOR_REPLACEMENTS[executor]
            report.changed.append(
                ("executor", f"{executor} -> {data['executor']} (hybrid executors were removed)")
            )
    for key in ("airflowVersion", "defaultAirflowTag"):
        if str(data.get(key, "")) != airflow_version:
            report.changed.append((key, f"{data.get(key, '(unset)')} -> {airflow_version}"))
            data[key] = airflow_version
    if schema is not None:
        _drop_rejected(data, _load_schema(schema), report)
    buffer = StringIO()
    yaml_round_trip().dump(data, buffer)
    return buffer.getvalue(), report


def _chart_supplied() -> set[tuple[str, str]]:
    from airshift.platform.config_plan import AUTH_MANAGER, BASE_URL, EXECUTION_API_URL

    return {AUTH_MANAGER, BASE_URL, EXECUTION_API_URL}


def _load_schema(path: Path) -> dict[str, Any]:
    import gzip
    import json

    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        schema: dict[str, Any] = json.loads(raw)
        return schema
    except (OSError, ValueError) as error:
        raise AirshiftError(f"--schema {path}: not a readable JSON schema ({error})") from None


def schema_errors(data: Any, schema: dict[str, Any]) -> list[str]:
    import json

    from jsonschema import Draft7Validator

    plain = json.loads(json.dumps(data, default=str))
    errors = sorted(Draft7Validator(schema).iter_errors(plain), key=lambda e: list(e.absolute_path))
    return [
        f"{'.'.join(str(p) for p in error.absolute_path) or '(top)'}: {error.message}" for error in errors
    ]


def _drop_rejected(data: Any, schema: dict[str, Any], report: UpgradeReport) -> None:
    import json

    from jsonschema import Draft7Validator

    validator = Draft7Validator(schema)
    for _round in range(20):
        plain = json.loads(json.dumps(data, default=str))
        removed = False
        for error in validator.iter_errors(plain):
            if error.validator != "additionalProperties":
                continue
            node = data
            for part in error.absolute_path:
                node = node[part]
            allowed = set(error.schema.get("properties", {}))
            for key in [k for k in list(node) if k not in allowed]:
                path = ".".join([*(str(p) for p in error.absolute_path), str(key)])
                node.pop(key)
                report.dropped.append((path, "not a value of the target chart"))
                removed = True
        if not removed:
            return
