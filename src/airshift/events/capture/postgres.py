"""PostgreSQL capture: statement-level triggers with transition tables on task_instance and dag_run.

A scheduler writes states in batches (one UPDATE for hundreds of task instances); a row trigger runs its
function once per row, a statement trigger once per statement with every changed row at hand, and writes
all their outbox rows in one INSERT ... SELECT. The functions read rows through `to_jsonb`, so they name
no column of Airflow's tables except dag_run's dag_id and run_id: a later Airflow migration that adds,
renames or drops a column can neither fail because of the triggers nor make them fail Airflow's writes.
"""

from __future__ import annotations

from airshift.events.capture.schema import DAG_RUN, OUTBOX, TASK_INSTANCE

FUNCTION = "airshift_events_capture"
# Statement-level triggers with transition tables; PostgreSQL allows transition tables only on triggers
# for one event (and without a column list), hence two per table.
TRIGGERS = {
    (TASK_INSTANCE, "INSERT"): "airshift_events_task_instance_ins",
    (TASK_INSTANCE, "UPDATE"): "airshift_events_task_instance_upd",
    (DAG_RUN, "INSERT"): "airshift_events_dag_run_ins",
    (DAG_RUN, "UPDATE"): "airshift_events_dag_run_upd",
}
# What releases before statement-level capture installed (removed on install and uninstall).
ROW_LEVEL_TRIGGERS = {TASK_INSTANCE: "airshift_events_task_instance", DAG_RUN: "airshift_events_dag_run"}


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    return f"{_q(schema)}.{_q(name)}"


# Columns that identify a row, read through jsonb so a schema without one of them (1.10 has no run_id or
# map_index, 3.x no task_instance.execution_date) still works: a missing key is JSON null on both sides.
_ROW_KEY = {
    TASK_INSTANCE: ("dag_id", "task_id", "run_id", "map_index", "execution_date"),
    DAG_RUN: ("id",),
}
_ATTEMPT = {TASK_INSTANCE: "try_number", DAG_RUN: "clear_number"}


def _key(alias: str, table: str) -> str:
    return "jsonb_build_array(" + ", ".join(f"{alias}.r->'{column}'" for column in _ROW_KEY[table]) + ")"


def _capture_function(schema: str, table: str, operation: str) -> str:
    """One statement-level trigger function per table and operation: it reads the statement's transition
    tables (every row the statement changed, old and new) and writes all their outbox rows in one INSERT.

    Like the row function before it, it names no column of Airflow's tables directly except dag_run's
    dag_id and run_id (present in every Airflow version): rows are read through to_jsonb, so a migration
    that adds, renames or drops a column cannot make it fail. Rows whose state and attempt did not change
    (heartbeats, hostnames) write nothing."""
    outbox = qualified(schema, OUTBOX)
    dag_run = qualified(schema, DAG_RUN)
    attempt = _ATTEMPT[table]
    changed = (
        "SELECT n.r AS r, NULL::jsonb AS old FROM new_rows_json AS n"
        if operation == "INSERT"
        else f"SELECT n.r AS r, o.r AS old FROM new_rows_json AS n LEFT JOIN old_rows_json AS o "
        f"ON {_key('n', table)} = {_key('o', table)} "
        f"WHERE o.r IS NULL OR o.r->'state' IS DISTINCT FROM n.r->'state' "
        f"OR o.r->'{attempt}' IS DISTINCT FROM n.r->'{attempt}'"
    )
    old_cte = (
        ""
        if operation == "INSERT"
        else ", old_rows_json AS MATERIALIZED (SELECT to_jsonb(o) AS r FROM old_rows AS o)"
    )
    if table == DAG_RUN:
        run_id = "c.r->>'run_id'"
        run_attempt = "COALESCE((c.r->>'clear_number')::integer, 0)"
        join = ""
    else:
        # 1.10 task instances have no run_id: their run by execution_date.
        run_id = (
            f"COALESCE(c.r->>'run_id', (SELECT dr.run_id FROM {dag_run} AS dr WHERE dr.dag_id = c.r->>'dag_id' "
            "AND to_jsonb(dr)->>'execution_date' = c.r->>'execution_date'))"
        )
        run_attempt = "COALESCE((to_jsonb(dr)->>'clear_number')::integer, 0)"
        join = f" LEFT JOIN {dag_run} AS dr ON dr.dag_id = k.dag_id AND dr.run_id = k.run_id"
    name = qualified(schema, f"{FUNCTION}_{table}_{operation.lower()}")
    # jit = off for this function only (a SET clause is undone when it returns): the planner cannot know
    # how many rows a transition table holds, overestimates, and JIT-compiles the statement, which cost
    # seconds per batch UPDATE in the benchmark, far more than running the query.
    return f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $airshift$
        BEGIN
            WITH new_rows_json AS MATERIALIZED (SELECT to_jsonb(n) AS r FROM new_rows AS n){old_cte},
            changed AS ({changed}),
            keyed AS (SELECT c.r, c.old, c.r->>'dag_id' AS dag_id, {run_id} AS run_id FROM changed AS c)
            INSERT INTO {outbox}
                (kind, dag_id, run_id, task_id, map_index, try_number, run_attempt, state, previous_state,
                 logical_date)
            SELECT
                '{table}', k.dag_id, k.run_id, k.r->>'task_id',
                COALESCE((k.r->>'map_index')::integer, -1),
                COALESCE((k.r->>'{attempt}')::integer, 0),
                {run_attempt.replace("c.r", "k.r")},
                k.r->>'state', k.old->>'state',
                COALESCE(k.r->>'logical_date', k.r->>'execution_date')
            FROM keyed AS k{join};
            RETURN NULL;
        END
        $airshift$"""


def install_statements(schema: str) -> list[str]:
    outbox = qualified(schema, OUTBOX)
    statements = [
        f"""CREATE TABLE IF NOT EXISTS {outbox} (
            id BIGSERIAL PRIMARY KEY,
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
            changed_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp()
        )""",
    ]
    # Earlier releases installed one row-level trigger per table: replace them.
    statements.extend(_drop_row_level(schema))
    for (table, operation), trigger in TRIGGERS.items():
        statements.append(_capture_function(schema, table, operation))
        statements.append(f"DROP TRIGGER IF EXISTS {_q(trigger)} ON {qualified(schema, table)}")
        transition = (
            "NEW TABLE AS new_rows"
            if operation == "INSERT"
            else "OLD TABLE AS old_rows NEW TABLE AS new_rows"
        )
        function = qualified(schema, f"{FUNCTION}_{table}_{operation.lower()}")
        statements.append(
            f"CREATE TRIGGER {_q(trigger)} AFTER {operation} ON {qualified(schema, table)} "
            f"REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
    return statements


def _drop_row_level(schema: str) -> list[str]:
    statements = [
        f"DROP TRIGGER IF EXISTS {_q(trigger)} ON {qualified(schema, table)}"
        for table, trigger in ROW_LEVEL_TRIGGERS.items()
    ]
    statements.append(f"DROP FUNCTION IF EXISTS {qualified(schema, FUNCTION)}()")
    return statements


def uninstall_trigger_statements(schema: str) -> list[str]:
    statements = [
        f"DROP TRIGGER IF EXISTS {_q(trigger)} ON {qualified(schema, table)}"
        for (table, _operation), trigger in TRIGGERS.items()
    ]
    statements.extend(
        f"DROP FUNCTION IF EXISTS {qualified(schema, f'{FUNCTION}_{table}_{operation.lower()}')}()"
        for (table, operation) in TRIGGERS
    )
    statements.extend(_drop_row_level(schema))
    return statements


def installed_triggers_query() -> str:
    """Names of our triggers present on task_instance / dag_run in schema :schema."""
    return (
        "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = :schema AND NOT t.tgisinternal AND t.tgname LIKE 'airshift_events_%'"
    )
