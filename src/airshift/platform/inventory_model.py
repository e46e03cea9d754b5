"""The inventory file: what an Airflow estate holds, as schema-versioned JSON.

`airshift inventory` writes it; `config migrate` and `deploy` read it. Counts and names only: no
variable, connection or configuration secret ever lands here (configuration values that are secrets
are masked before they reach the model)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from airshift.errors import AirshiftError

SCHEMA = "airshift.inventory/1"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class DagInfo(_Model):
    dag_id: str
    file: str
    line: int
    # The schedule as written: a literal string ("@daily", "0 3 * * *"), "none" for None, the source
    # text of anything else ("timedelta(hours=1)"); None when the DAG gives none (the version's default).
    schedule: str | None = None


class PluginInfo(_Model):
    file: str
    name: str
    registers: dict[str, list[str]] = Field(default_factory=dict)  # extension point -> names
    removed_extension_points: list[str] = Field(default_factory=list)


class DagFolder(_Model):
    path: str
    python_files: int = 0
    dag_files: int = 0
    dags: list[DagInfo] = Field(default_factory=list)
    operators: dict[str, int] = Field(default_factory=dict)  # class name -> uses
    providers: dict[str, str | None] = Field(default_factory=dict)  # distribution -> minimum version
    source_versions: dict[str, int] = Field(default_factory=dict)  # "1.10" / "2" / "3" -> files
    rules: dict[str, int] = Field(default_factory=dict)  # scan findings by rule code
    queues: dict[str, int] = Field(default_factory=dict)
    pools: dict[str, int] = Field(default_factory=dict)
    uses_metadata_db: list[str] = Field(default_factory=list)  # files
    failed_files: dict[str, str] = Field(default_factory=dict)  # file -> reason
    plugins: list[PluginInfo] = Field(default_factory=list)


class ConfigSource(_Model):
    path: str
    format: str  # cfg, env, helm, environ, composer, mwaa, astronomer
    source_version: str
    executor: str | None = None
    settings: dict[str, str] = Field(default_factory=dict)  # "section.option" -> value, secrets masked
    renamed: int = 0
    removed: list[str] = Field(default_factory=list)
    needs_added: list[str] = Field(default_factory=list)


class DatabaseInfo(_Model):
    url: str  # without password
    dialect: str
    airflow_version: str  # "1.10", "2.x" or "3.x" (from the tables present)
    dags_total: int = 0
    dags_active: int = 0
    dags_paused: int = 0
    runs_per_day: dict[str, int] = Field(default_factory=dict)
    task_instances_per_day: dict[str, int] = Field(default_factory=dict)
    task_instances_by_state: dict[str, int] = Field(default_factory=dict)
    peak_concurrency: int = 0
    peak_concurrency_minute: str | None = None
    executor: str | None = None
    queues: dict[str, int] = Field(default_factory=dict)  # task instances per queue
    pools: dict[str, int] = Field(default_factory=dict)  # task instances per pool
    variables: int = 0
    connections: int = 0
    pool_count: int = 0
    table_rows: dict[str, int] = Field(default_factory=dict)
    xcom_max_bytes: int | None = None
    xcom_over_limit: int = 0
    xcom_limit_bytes: int = 0


class ApiInfo(_Model):
    url: str
    airflow_version: str | None = None
    dags_total: int = 0
    dags_paused: int = 0
    variables: int | None = None
    connections: int | None = None
    pool_count: int | None = None


class ManagedInfo(_Model):
    platform: str  # composer, mwaa, astronomer
    path: str
    airflow_version: str | None = None
    platform_version: str | None = None
    executor: str | None = None
    requirements: list[str] = Field(default_factory=list)
    system_packages: list[str] = Field(default_factory=list)
    environment_variables: list[str] = Field(default_factory=list)  # names only
    workers: dict[str, Any] = Field(default_factory=dict)
    queues: list[str] = Field(default_factory=list)
    settings_counts: dict[str, int] = Field(default_factory=dict)  # e.g. connections in airflow_settings.yaml
    details: dict[str, Any] = Field(default_factory=dict)


class Risk(_Model):
    code: str
    severity: str  # high, medium, low
    message: str
    objects: list[str] = Field(default_factory=list)


class SourceRef(_Model):
    kind: str
    location: str


class Inventory(_Model):
    schema_: str = Field(SCHEMA, alias="schema")
    generated_at: str
    airshift_version: str
    sources: list[SourceRef] = Field(default_factory=list)
    airflow_version: str | None = None
    executor: str | None = None
    dag_folders: list[DagFolder] = Field(default_factory=list)
    configs: list[ConfigSource] = Field(default_factory=list)
    databases: list[DatabaseInfo] = Field(default_factory=list)
    apis: list[ApiInfo] = Field(default_factory=list)
    managed: list[ManagedInfo] = Field(default_factory=list)
    risks: list[Risk] = Field(default_factory=list)

    def source_major(self) -> str | None:
        """ "1.10", "2" or "3": what later steps (config migrate, deploy) assume about the source."""
        version = self.airflow_version or ""
        if version.startswith("1."):
            return "1.10"
        if version[:1] in ("2", "3"):
            return version[:1]
        return None

    def queues(self) -> list[str]:
        names: set[str] = set()
        for folder in self.dag_folders:
            names.update(folder.queues)
        for database in self.databases:
            names.update(database.queues)
        for managed in self.managed:
            names.update(managed.queues)
        return sorted(names)

    def peak_concurrency(self) -> int:
        return max((database.peak_concurrency for database in self.databases), default=0)

    def to_json(self) -> str:
        return json.dumps(self.model_dump(by_alias=True, mode="json"), indent=2, sort_keys=False) + "\n"


def read_inventory(path: Path) -> Inventory:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AirshiftError(f"inventory {path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AirshiftError(f"inventory {path}: not a readable JSON file ({error})") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else None
        raise AirshiftError(
            f"inventory {path}: schema {found!r} is not {SCHEMA!r}; run `airshift inventory` again"
        )
    try:
        return Inventory.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise AirshiftError(f"inventory {path}: {where}: {first['msg']}") from None
