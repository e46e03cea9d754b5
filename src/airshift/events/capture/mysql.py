"""MySQL / MariaDB capture: AFTER INSERT / AFTER UPDATE row triggers that write the outbox row.

MySQL has no `UPDATE OF column` triggers, so the update trigger compares the state and attempt columns
itself (`<=>` is MySQL's NULL-safe equality). Times are UTC_TIMESTAMP, independent of the session zone.
"""

from __future__ import annotations

from airshift.events.capture.rowsql import OUTBOX_COLUMNS, TABLES, changed_condition, value_expressions
from airshift.events.capture.schema import OUTBOX, AirflowSchema

TRIGGER_PREFIX = "airshift_events_"


def trigger_names() -> list[str]:
    return [f"{TRIGGER_PREFIX}{table}_{op}" for table in TABLES for op in ("insert", "update")]


def install_statements(schema: AirflowSchema) -> list[str]:
    statements = [
        f"""CREATE TABLE IF NOT EXISTS {OUTBOX} (
            id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
            kind VARCHAR(20) NOT NULL,
            dag_id VARCHAR(250) NOT NULL,
            run_id VARCHAR(250),
            task_id VARCHAR(250),
            map_index INTEGER NOT NULL,
            try_number INTEGER NOT NULL,
            run_attempt INTEGER NOT NULL DEFAULT 0,
            state VARCHAR(50),
            previous_state VARCHAR(50),
            logical_date VARCHAR(64),
            changed_at DATETIME(6) NOT NULL
        ) ENGINE=InnoDB""",
    ]
    columns = ", ".join((*OUTBOX_COLUMNS, "changed_at"))
    for table in TABLES:
        insert_values = ", ".join(
            (*value_expressions(schema, table, update=False, quote="`"), "UTC_TIMESTAMP(6)")
        )
        update_values = ", ".join(
            (*value_expressions(schema, table, update=True, quote="`"), "UTC_TIMESTAMP(6)")
        )
        condition = changed_condition(schema, table, null_safe_differs="NOT ({a} <=> {b})")
        statements += [
            f"DROP TRIGGER IF EXISTS {TRIGGER_PREFIX}{table}_insert",
            f"DROP TRIGGER IF EXISTS {TRIGGER_PREFIX}{table}_update",
            f"CREATE TRIGGER {TRIGGER_PREFIX}{table}_insert AFTER INSERT ON {table} FOR EACH ROW "
            f"INSERT INTO {OUTBOX} ({columns}) VALUES ({insert_values})",
            f"CREATE TRIGGER {TRIGGER_PREFIX}{table}_update AFTER UPDATE ON {table} FOR EACH ROW "
            f"BEGIN IF {condition} THEN INSERT INTO {OUTBOX} ({columns}) VALUES ({update_values}); END IF; END",
        ]
    return statements


def uninstall_trigger_statements() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {name}" for name in trigger_names()]


INSTALLED_TRIGGERS_QUERY = (
    "SELECT trigger_name FROM information_schema.triggers "
    "WHERE trigger_schema = DATABASE() AND trigger_name LIKE 'airshift\\_events\\_%'"
)
