"""The inventory as text for a terminal: one short block per source, then the risks."""

from __future__ import annotations

from airshift.platform.inventory_model import Inventory


def _top(counts: dict[str, int], limit: int = 8) -> str:
    items = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    more = len(counts) - len(items)
    text = ", ".join(f"{name} {count}" for name, count in items)
    return text + (f", ... ({more} more)" if more > 0 else "") if text else "-"


def inventory_text(inventory: Inventory) -> str:
    lines = [
        f"Airflow {inventory.airflow_version or '?'}, executor {inventory.executor or '?'}",
    ]
    for managed in inventory.managed:
        lines.append(
            f"{managed.platform}: {managed.path} ({managed.platform_version or '?'}, Airflow "
            f"{managed.airflow_version or '?'}); {len(managed.requirements)} requirements, "
            f"{len(managed.environment_variables)} environment variables"
        )
    for folder in inventory.dag_folders:
        lines.append(
            f"DAG folder {folder.path}: {folder.python_files} Python files, {len(folder.dags)} DAGs in "
            f"{folder.dag_files} files, source {_top(folder.source_versions)}"
        )
        lines.append(f"  operators: {_top(folder.operators)}")
        lines.append(f"  providers needed: {', '.join(folder.providers) or '-'}")
        lines.append(f"  scan findings by rule: {_top(folder.rules, 12)}")
        lines.append(f"  queues: {_top(folder.queues)}; pools: {_top(folder.pools)}")
        for plugin in folder.plugins:
            registered = "; ".join(
                f"{point}: {', '.join(names)}" for point, names in plugin.registers.items()
            )
            lines.append(f"  plugin {plugin.name} ({plugin.file}): {registered or 'nothing registered'}")
    for config in inventory.configs:
        lines.append(
            f"config {config.path} ({config.format}, Airflow {config.source_version}): executor "
            f"{config.executor or 'default'}, {len(config.settings)} options; migrate renames {config.renamed}, "
            f"removes {len(config.removed)}, adds {len(config.needs_added)}"
        )
    for database in inventory.databases:
        days = len(database.task_instances_per_day)
        total = sum(database.task_instances_per_day.values())
        lines.append(
            f"database {database.url} ({database.dialect}, Airflow {database.airflow_version}): "
            f"{database.dags_total} DAGs ({database.dags_active} active, {database.dags_paused} paused), "
            f"{sum(database.runs_per_day.values())} runs, {total} task instances over {days} days"
        )
        lines.append(
            f"  peak concurrency {database.peak_concurrency} (minute {database.peak_concurrency_minute or '-'}), "
            f"executor {database.executor or '?'}; {database.variables} variables, {database.connections} "
            f"connections, {database.pool_count} pools"
        )
        lines.append(f"  queues: {_top(database.queues)}; table rows: {_top(database.table_rows, 6)}")
    for api in inventory.apis:
        lines.append(
            f"API {api.url} (Airflow {api.airflow_version or '?'}): {api.dags_total} DAGs "
            f"({api.dags_paused} paused), {api.variables} variables, {api.connections} connections, "
            f"{api.pool_count} pools"
        )
    if inventory.risks:
        lines.append("risks:")
        for risk in inventory.risks:
            lines.append(f"  [{risk.severity}] {risk.code}: {risk.message}")
            lines.extend(f"      {item}" for item in risk.objects[:10])
            if len(risk.objects) > 10:
                lines.append(f"      ... {len(risk.objects) - 10} more")
    else:
        lines.append("risks: none found")
    return "\n".join(lines)
