"""Trigger bodies for databases whose triggers name columns explicitly (SQLite, MySQL/MariaDB).

The column list is read from the live schema at install time, so the same code serves Airflow 1.10,
2.x and 3.x. A migration that later rebuilds a table drops its triggers with it (`status` then shows them
missing and `install` puts them back).
"""

from __future__ import annotations

from airshift.events.capture.schema import ATTEMPT_COLUMN, DAG_RUN, KIND, TASK_INSTANCE, AirflowSchema

OUTBOX_COLUMNS = (
    "kind", "dag_id", "run_id", "task_id", "map_index", "try_number", "run_attempt", "state", "previous_state",
    "logical_date",
)  # fmt: skip


def value_expressions(schema: AirflowSchema, table: str, *, update: bool, quote: str) -> list[str]:
    """SQL expressions, in OUTBOX_COLUMNS order, that describe the NEW row of `table`."""
    columns = schema.columns(table)

    def new(column: str, fallback: str = "NULL") -> str:
        return f"NEW.{quote}{column}{quote}" if column in columns else fallback

    run_id = new("run_id")
    if table == TASK_INSTANCE and "run_id" not in columns:
        # Airflow 1.10: the run is found through the execution date.
        run_id = (
            f"(SELECT dr.run_id FROM {DAG_RUN} AS dr WHERE dr.dag_id = NEW.dag_id "
            "AND dr.execution_date = NEW.execution_date)"
        )
    logical = new("logical_date", new("execution_date"))
    return [
        f"'{KIND[table]}'",
        "NEW.dag_id",
        run_id,
        new("task_id") if table == TASK_INSTANCE else "NULL",
        new("map_index", "-1") if table == TASK_INSTANCE else "-1",
        f"COALESCE({new(ATTEMPT_COLUMN[table], '0')}, 0)",
        run_attempt_expression(schema, table, run_id),
        "NEW.state",
        "OLD.state" if update else "NULL",
        logical,
    ]


def run_attempt_expression(schema: AirflowSchema, table: str, run_id: str) -> str:
    """The DAG run's clear number (Airflow 2.8+; 0 before): for a run its own column, for a task
    instance looked up by run id (dag_run has a unique index on (dag_id, run_id))."""
    if "clear_number" not in schema.dag_run_columns:
        return "0"
    if table == DAG_RUN:
        return "COALESCE(NEW.clear_number, 0)"
    return (
        f"COALESCE((SELECT dr.clear_number FROM {DAG_RUN} AS dr WHERE dr.dag_id = NEW.dag_id "
        f"AND dr.run_id = {run_id}), 0)"
    )


def changed_condition(schema: AirflowSchema, table: str, *, null_safe_differs: str) -> str:
    """A condition that is true when the state or the attempt counter changed.

    `null_safe_differs` is a format string with {a} and {b}: `{a} IS NOT {b}` (SQLite),
    `NOT ({a} <=> {b})` (MySQL).
    """
    parts = [null_safe_differs.format(a="OLD.state", b="NEW.state")]
    attempt = ATTEMPT_COLUMN[table]
    if attempt in schema.columns(table):
        parts.append(null_safe_differs.format(a=f"OLD.{attempt}", b=f"NEW.{attempt}"))
    return " OR ".join(parts)


TABLES = (TASK_INSTANCE, DAG_RUN)
