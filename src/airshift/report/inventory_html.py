"""The inventory as one self-contained HTML page (inline CSS, no scripts, nothing fetched)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from airshift.platform.inventory_model import Inventory

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left}
th{background:#f4f4f4}.high{color:#b00020;font-weight:bold}.medium{color:#a15c00}.low{color:#555}
code{background:#f4f4f4;padding:0 .2em}
"""


def _table(rows: Sequence[tuple[Any, ...]], header: tuple[str, ...]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _counts(counts: dict[str, int], what: str) -> str:
    if not counts:
        return ""
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return _table(rows, (what, "count"))


def inventory_html(inventory: Inventory) -> str:
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>airshift inventory</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>airshift inventory</h1>",
        f"<p>Airflow <b>{escape(inventory.airflow_version or '?')}</b>, executor "
        f"<b>{escape(inventory.executor or '?')}</b>; generated {escape(inventory.generated_at)} "
        f"by airshift {escape(inventory.airshift_version)}.</p>",
        "<h2>Risks</h2>",
    ]
    if inventory.risks:
        for risk in inventory.risks:
            parts.append(
                f"<p class='{escape(risk.severity)}'>[{escape(risk.severity)}] {escape(risk.code)}</p>"
                f"<p>{escape(risk.message)}</p>"
            )
            if risk.objects:
                parts.append(
                    "<ul>" + "".join(f"<li><code>{escape(o)}</code></li>" for o in risk.objects) + "</ul>"
                )
    else:
        parts.append("<p>None found.</p>")
    parts.append(
        "<h2>Sources</h2>" + _table([(s.kind, s.location) for s in inventory.sources], ("kind", "location"))
    )
    for managed in inventory.managed:
        parts.append(f"<h2>{escape(managed.platform)}: {escape(managed.path)}</h2>")
        rows: list[tuple[str, Any]] = [
            ("platform version", managed.platform_version or "?"),
            ("Airflow", managed.airflow_version or "?"),
            ("executor", managed.executor or "?"),
            ("requirements", ", ".join(managed.requirements) or "-"),
            ("system packages", ", ".join(managed.system_packages) or "-"),
            ("environment variables (names)", ", ".join(managed.environment_variables) or "-"),
            ("workers", managed.workers or "-"),
            ("queues", ", ".join(managed.queues) or "-"),
        ]
        parts.append(_table(rows, ("", "")))
    for folder in inventory.dag_folders:
        parts.append(f"<h2>DAG folder {escape(folder.path)}</h2>")
        parts.append(
            f"<p>{folder.python_files} Python files, {len(folder.dags)} DAGs in {folder.dag_files} files.</p>"
        )
        parts.append(_counts(folder.source_versions, "source version"))
        parts.append(_counts(folder.operators, "operator"))
        parts.append(_table(sorted(folder.providers.items(), key=lambda i: i[0]), ("provider", "minimum")))
        parts.append(_counts(folder.rules, "scan rule"))
        parts.append(_counts(folder.queues, "queue"))
        parts.append(_counts(folder.pools, "pool"))
        parts.append(_table([(d.dag_id, d.file, d.line) for d in folder.dags], ("DAG id", "file", "line")))
        if folder.plugins:
            plugin_rows = [
                (p.name, p.file, "; ".join(f"{k}: {', '.join(v)}" for k, v in p.registers.items()))
                for p in folder.plugins
            ]
            parts.append(_table(plugin_rows, ("plugin", "file", "registers")))
    for config in inventory.configs:
        parts.append(f"<h2>Configuration {escape(config.path)}</h2>")
        parts.append(
            f"<p>{escape(config.format)}, Airflow {escape(config.source_version)}, executor "
            f"{escape(config.executor or 'default')}; migrating renames {config.renamed}, removes "
            f"{len(config.removed)}, adds {escape(', '.join(config.needs_added) or 'nothing')}.</p>"
        )
    for database in inventory.databases:
        parts.append(f"<h2>Metadata database {escape(database.url)}</h2>")
        db_rows: list[tuple[str, Any]] = [
            ("Airflow", database.airflow_version),
            ("DAGs", f"{database.dags_total} ({database.dags_active} active, {database.dags_paused} paused)"),
            ("peak concurrency", f"{database.peak_concurrency} at {database.peak_concurrency_minute or '-'}"),
            ("executor", database.executor or "?"),
            (
                "variables / connections / pools",
                f"{database.variables} / {database.connections} / {database.pool_count}",
            ),
            ("largest XCom (bytes)", database.xcom_max_bytes if database.xcom_max_bytes is not None else "-"),
        ]
        parts.append(_table(db_rows, ("", "")))
        parts.append(_counts(database.table_rows, "table rows"))
        day_rows = [
            (day, database.runs_per_day.get(day, 0), count)
            for day, count in sorted(database.task_instances_per_day.items())
        ]
        parts.append(_table(day_rows[-60:], ("day (last 60)", "runs", "task instances")))
        parts.append(_counts(database.queues, "queue"))
    for api in inventory.apis:
        parts.append(f"<h2>API {escape(api.url)}</h2>")
        parts.append(
            _table(
                [("Airflow", api.airflow_version), ("DAGs", api.dags_total), ("paused", api.dags_paused)],
                ("", ""),
            )
        )
    parts.append("</body></html>")
    return "\n".join(part for part in parts if part)
