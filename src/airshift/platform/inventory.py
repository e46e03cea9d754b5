"""`airshift inventory SOURCES...`: classify each source, read it, put it all in one Inventory.

A source is a DAG folder, a configuration file, `env:` (the AIRFLOW__ environment), a metadata DB URL,
an Airflow REST API URL, or a managed platform's downloaded layout (Composer bucket + describe output,
MWAA bundle + get-environment output, Astro project)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from airshift.errors import AirshiftError
from airshift.platform.inventory_db import DEFAULT_XCOM_LIMIT, Progress
from airshift.platform.inventory_model import SCHEMA, Inventory, SourceRef

_DB_SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb")


@dataclass
class InventoryRequest:
    sources: Sequence[str]
    progress: Progress = field(default_factory=Progress)
    scan_progress: Callable[[int], None] | None = None
    xcom_limit: int = DEFAULT_XCOM_LIMIT
    db_password_file: Path | None = None


def classify(source: str) -> str:
    scheme = source.split(":", 1)[0].split("+", 1)[0].lower() if ":" in source else ""
    if scheme in _DB_SCHEMES:
        return "database"
    if scheme in ("http", "https"):
        return "api"
    if source in ("env:", "environ"):
        return "environ"
    path = Path(source)
    if not path.exists():
        raise AirshiftError(f"source {source}: no such file or folder (and not a database or API URL)")
    if path.is_dir():
        from airshift.platform.inventory_managed import detect_platform

        return detect_platform(path) or "dags"
    return "config"


def build_inventory(request: InventoryRequest) -> Inventory:
    from airshift import __version__

    inventory = Inventory(
        schema=SCHEMA,
        generated_at=dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat(),
        airshift_version=__version__,
    )
    for source in request.sources:
        kind = classify(source)
        inventory.sources.append(SourceRef(kind=kind, location=_shown(source, kind)))
        if kind == "dags":
            from airshift.platform.inventory_dags import read_dag_folder

            inventory.dag_folders.append(read_dag_folder(Path(source), request.scan_progress))
        elif kind == "config":
            from airshift.platform.inventory_config import read_config_file

            inventory.configs.append(read_config_file(Path(source)))
        elif kind == "environ":
            from airshift.platform.inventory_config import read_environ

            inventory.configs.append(read_environ())
        elif kind == "database":
            from airshift.platform.inventory_db import read_database

            inventory.databases.append(
                read_database(source, request.progress, request.xcom_limit, request.db_password_file)
            )
        elif kind == "api":
            from airshift.platform.inventory_api import read_api

            inventory.apis.append(read_api(source))
        else:
            _read_managed(inventory, kind, Path(source), request)
    _summarise(inventory)
    from airshift.platform.inventory_risks import find_risks

    inventory.risks = find_risks(inventory)
    return inventory


def _read_managed(inventory: Inventory, kind: str, folder: Path, request: InventoryRequest) -> None:
    from airshift.platform.inventory_dags import read_dag_folder
    from airshift.platform.inventory_managed import READERS
    from airshift.platform.inventory_plugins import read_plugins_zip

    info, config = READERS[kind](folder)
    inventory.managed.append(info)
    if config is not None:
        inventory.configs.append(config)
    dags = folder / "dags"
    if dags.is_dir():
        dag_folder = read_dag_folder(dags, request.scan_progress)
        if (folder / "plugins.zip").is_file():
            dag_folder.plugins.extend(read_plugins_zip(folder / "plugins.zip"))
        inventory.dag_folders.append(dag_folder)


def _summarise(inventory: Inventory) -> None:
    """The estate's Airflow version and executor: the most authoritative source that says."""
    versions: list[str] = []
    versions += [m.airflow_version for m in inventory.managed if m.airflow_version]
    versions += [a.airflow_version for a in inventory.apis if a.airflow_version]
    versions += [d.airflow_version for d in inventory.databases]
    versions += [c.source_version for c in inventory.configs]
    for folder in inventory.dag_folders:  # the version most files were written for
        if folder.source_versions:
            versions.append(max(folder.source_versions, key=lambda v: folder.source_versions[v]))
    inventory.airflow_version = versions[0] if versions else None
    executors = [m.executor for m in inventory.managed if m.executor]
    executors += [c.executor for c in inventory.configs if c.executor]
    executors += [d.executor for d in inventory.databases if d.executor]
    inventory.executor = executors[0] if executors else None


def _shown(source: str, kind: str) -> str:
    if kind == "database":
        from airshift.state.dburl import display, parse_db_url

        return display(parse_db_url(source, "source", None, "AIRSHIFT_FROM_DB_PASSWORD"))
    if kind == "api":
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(source)
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    return source
