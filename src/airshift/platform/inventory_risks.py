"""Risks before upgrading, derived from what the inventory found."""

from __future__ import annotations

from collections import defaultdict

from airshift.platform.inventory_model import Inventory, Risk

# `airflow db migrate` to 3.x rewrites these tables; above these sizes it takes long enough to plan
# a maintenance window (or to run `airflow db clean` first).
SLOW_MIGRATE_ROWS = {
    "task_instance": 1_000_000,
    "dag_run": 200_000,
    "xcom": 500_000,
    "log": 5_000_000,
    "job": 1_000_000,
}


def find_risks(inventory: Inventory) -> list[Risk]:
    risks: list[Risk] = []
    for database in inventory.databases:
        if database.xcom_over_limit:
            risks.append(
                Risk(
                    code="xcom-too-large",
                    severity="high",
                    message=(
                        f"{database.xcom_over_limit} XCom values in {database.url} are larger than "
                        f"{database.xcom_limit_bytes} bytes (largest {database.xcom_max_bytes}): Airflow 3 stores "
                        "XComs as JSON and the 3.0 migration rewrites each one; move large data to object storage"
                    ),
                )
            )
        slow = [
            f"{table}: {rows:,} rows"
            for table, rows in database.table_rows.items()
            if rows >= SLOW_MIGRATE_ROWS.get(table, 10**12)
        ]
        if slow:
            risks.append(
                Risk(
                    code="slow-db-migrate",
                    severity="medium",
                    message=f"large tables in {database.url} make `airflow db migrate` slow; "
                    "run `airflow db clean` (or archive) before the upgrade",
                    objects=slow,
                )
            )
    for folder in inventory.dag_folders:
        if folder.uses_metadata_db:
            risks.append(
                Risk(
                    code="dag-uses-metadata-db",
                    severity="high",
                    message="DAG code opens metadata DB sessions; Airflow 3 tasks cannot (use the REST API "
                    "or the Task SDK)",
                    objects=folder.uses_metadata_db,
                )
            )
        for plugin in folder.plugins:
            if plugin.removed_extension_points:
                risks.append(
                    Risk(
                        code="plugin-removed-extension-point",
                        severity="high",
                        message=f"plugin {plugin.name!r} ({plugin.file}) registers "
                        f"{', '.join(plugin.removed_extension_points)}, which Airflow no longer loads from "
                        "plugins (Flask-AppBuilder views only through the FAB provider's legacy support)",
                        objects=[plugin.file],
                    )
                )
        if folder.failed_files:
            risks.append(
                Risk(
                    code="unreadable-dag-files",
                    severity="medium",
                    message="files the scan could not read (Python 2, syntax errors, encodings)",
                    objects=sorted(folder.failed_files),
                )
            )
    seen: dict[str, list[str]] = defaultdict(list)
    for folder in inventory.dag_folders:
        for dag in folder.dags:
            seen[dag.dag_id].append(f"{folder.path}/{dag.file}:{dag.line}")
    duplicates = {dag_id: places for dag_id, places in seen.items() if len(places) > 1}
    if duplicates:
        risks.append(
            Risk(
                code="duplicate-dag-id",
                severity="high",
                message="DAG ids defined more than once: only one of each is loaded, which one depends on parse order",
                objects=[f"{dag_id}: {', '.join(places)}" for dag_id, places in sorted(duplicates.items())],
            )
        )
    for config in inventory.configs:
        if config.removed:
            risks.append(
                Risk(
                    code="config-removed-options",
                    severity="low",
                    message=f"{config.path}: {len(config.removed)} options no longer exist in Airflow 3 "
                    "(see `airshift config migrate --check`)",
                    objects=list(config.removed),
                )
            )
    return risks
