"""SQLite capture: AFTER INSERT / AFTER UPDATE OF state triggers that write the outbox row."""

from __future__ import annotations

from airshift.events.capture.rowsql import OUTBOX_COLUMNS, TABLES, changed_condition, value_expressions
from airshift.events.capture.schema import OUTBOX, AirflowSchema

TRIGGER_PREFIX = "airshift_events_"


def trigger_names() -> list[str]:
    return [f"{TRIGGER_PREFIX}{table}_{op}" for table in TABLES for op in ("insert", "update")]


def install_statements(schema: AirflowSchema) -> list[str]:
    statements = [
        f"""CREATE TABLE IF NOT EXISTS {OUTBOX} (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            dag_id TEXT NOT NULL,
            run_id TEXT,
            task_id TEXT,
            map_index INTEGER NOT NULL,
            try_number INTEGER NOT NULL,
            run_attempt INTEGER NOT NULL DEFAULT 0,
            state TEXT,
            previous_state TEXT,
            logical_date TEXT,
            changed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        )""",
    ]
    columns = ", ".join(OUTBOX_COLUMNS)
    for table in TABLES:
        insert_values = ", ".join(value_expressions(schema, table, update=False, quote='"'))
        update_values = ", ".join(value_expressions(schema, table, update=True, quote='"'))
        condition = changed_condition(schema, table, null_safe_differs="{a} IS NOT {b}")
        statements += [
            f"DROP TRIGGER IF EXISTS {TRIGGER_PREFIX}{table}_insert",
            f"DROP TRIGGER IF EXISTS {TRIGGER_PREFIX}{table}_update",
            f"CREATE TRIGGER {TRIGGER_PREFIX}{table}_insert AFTER INSERT ON {table} "
            f"BEGIN INSERT INTO {OUTBOX} ({columns}) VALUES ({insert_values}); END",
            f"CREATE TRIGGER {TRIGGER_PREFIX}{table}_update AFTER UPDATE OF state ON {table} "
            f"WHEN {condition} BEGIN INSERT INTO {OUTBOX} ({columns}) VALUES ({update_values}); END",
        ]
    return statements


def uninstall_trigger_statements() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {name}" for name in trigger_names()]


INSTALLED_TRIGGERS_QUERY = (
    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'airshift_events_%'"
)
