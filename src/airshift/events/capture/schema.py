"""What an Airflow metadata schema looks like, as far as the capture triggers care.

The triggers must name only columns that exist: Airflow 1.10 keys task instances by execution_date
(no run_id, no map_index), 2.3 added map_index, 2.8 added dag_run.clear_number, 3.0 renamed
dag_run.execution_date to logical_date.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, inspect

from airshift.errors import AirshiftError

OUTBOX = "airshift_event_outbox"
TASK_INSTANCE = "task_instance"
DAG_RUN = "dag_run"
# Which column counts attempts: a task try, or a DAG-run clear (so a rerun is a new event, not a duplicate).
ATTEMPT_COLUMN = {TASK_INSTANCE: "try_number", DAG_RUN: "clear_number"}
KIND = {TASK_INSTANCE: "task_instance", DAG_RUN: "dag_run"}


@dataclass(frozen=True)
class AirflowSchema:
    schema: str | None
    task_instance_columns: frozenset[str]
    dag_run_columns: frozenset[str]

    def columns(self, table: str) -> frozenset[str]:
        return self.task_instance_columns if table == TASK_INSTANCE else self.dag_run_columns

    @property
    def generation(self) -> str:
        """A short description for status output: which Airflow schema family this is."""
        if "run_id" not in self.task_instance_columns:
            return "Airflow 1.10 (task instances keyed by execution_date)"
        if "logical_date" in self.dag_run_columns:
            return "Airflow 3.x"
        return "Airflow 2.x"


def inspect_schema(connection: Connection, schema: str | None) -> AirflowSchema:
    """Columns of task_instance and dag_run; a clear error when this is not an Airflow metadata DB."""
    inspector = inspect(connection)
    tables = set(inspector.get_table_names(schema=schema))
    missing = [name for name in (TASK_INSTANCE, DAG_RUN) if name not in tables]
    if missing:
        where = f" in schema {schema!r}" if schema else ""
        raise AirshiftError(
            f"this is not an Airflow metadata database: table {' and '.join(missing)} not found{where} "
            "(run `airflow db migrate` first, or pass --schema)"
        )
    ti = frozenset(c["name"] for c in inspector.get_columns(TASK_INSTANCE, schema=schema))
    dr = frozenset(c["name"] for c in inspector.get_columns(DAG_RUN, schema=schema))
    for table, columns, needed in (
        (TASK_INSTANCE, ti, ("dag_id", "task_id", "state", "try_number")),
        (DAG_RUN, dr, ("dag_id", "run_id", "state")),
    ):
        absent = [name for name in needed if name not in columns]
        if absent:
            raise AirshiftError(f"table {table} has no column {', '.join(absent)}: not an Airflow schema")
    if "run_id" not in ti and "execution_date" not in ti:
        raise AirshiftError(
            "table task_instance has neither run_id nor execution_date: not an Airflow schema"
        )
    return AirflowSchema(schema=schema, task_instance_columns=ti, dag_run_columns=dr)
