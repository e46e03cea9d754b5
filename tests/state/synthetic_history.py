"""Grow an Airflow 2.x metadata DB on PostgreSQL with synthetic run history, made by copying a real run
and its task instances (so every column holds what Airflow itself wrote), under a DAG id of its own."""

from __future__ import annotations

from sqlalchemy import MetaData, Table, create_engine, text

SYNTHETIC_DAG = "synthetic_dag"


def grow_history(url: str, runs: int, tasks_per_run: int, template_dag: str = "etl_daily") -> None:
    """Add `runs` finished scheduled runs (hourly from 2000-01-01) with `tasks_per_run` task instances
    each, cloned from the newest run of `template_dag` and its first task instance."""
    engine = create_engine(url)
    metadata = MetaData()
    run_columns = [c.name for c in Table("dag_run", metadata, autoload_with=engine).c if c.name != "id"]
    ti_table = Table("task_instance", metadata, autoload_with=engine)
    ti_columns = [c.name for c in ti_table.c if c.name != "id"]
    date = "(TIMESTAMPTZ '2000-01-01 00:00:00+00' + n * INTERVAL '1 hour')"
    run_values = {
        "dag_id": f"'{SYNTHETIC_DAG}'",
        "run_id": "'scheduled__' || n",
        "execution_date": date,
        "run_type": "'scheduled'",
        "state": "'success'",
        "data_interval_start": date,
        "data_interval_end": f"({date} + INTERVAL '1 hour')",
    }
    ti_values = {
        "dag_id": f"'{SYNTHETIC_DAG}'",
        "run_id": "'scheduled__' || n",
        "task_id": "'task_' || k",
        "state": "CASE WHEN k % 10 = 0 THEN 'failed' ELSE 'success' END",
        "try_number": "1 + k % 3",
    }
    with engine.begin() as connection:
        template_run = connection.execute(
            text("SELECT run_id FROM dag_run WHERE dag_id = :dag ORDER BY execution_date DESC LIMIT 1"),
            {"dag": template_dag},
        ).scalar_one()
        connection.execute(
            text(
                f"INSERT INTO dag_run ({', '.join(run_columns)}) "
                f"SELECT {', '.join(run_values.get(c, 't.' + c) for c in run_columns)} "
                "FROM dag_run t CROSS JOIN generate_series(1, :runs) AS n "
                "WHERE t.dag_id = :dag AND t.run_id = :run"
            ),
            {"runs": runs, "dag": template_dag, "run": template_run},
        )
        connection.execute(
            text(
                f"INSERT INTO task_instance ({', '.join(ti_columns)}) "
                f"SELECT {', '.join(ti_values.get(c, 't.' + c) for c in ti_columns)} "
                "FROM (SELECT * FROM task_instance WHERE dag_id = :dag AND run_id = :run LIMIT 1) t "
                "CROSS JOIN generate_series(1, :runs) AS n CROSS JOIN generate_series(1, :tasks) AS k"
            ),
            {"runs": runs, "tasks": tasks_per_run, "dag": template_dag, "run": template_run},
        )
        # As autovacuum would after a bulk load: planners need the new row counts.
        connection.execute(text("ANALYZE dag_run"))
        connection.execute(text("ANALYZE task_instance"))
    engine.dispose()
