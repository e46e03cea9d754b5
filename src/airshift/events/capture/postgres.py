"""PostgreSQL capture: one PL/pgSQL function and one row trigger per table.

The function reads the row through `to_jsonb(NEW)`, so it names no column of Airflow's tables: a later
Airflow migration that adds, renames or drops a column can neither fail because of the trigger nor make
the trigger fail Airflow's own writes. The triggers depend only on the `state` column
(`UPDATE OF state`), which every Airflow version has.
"""

from __future__ import annotations

from airshift.events.capture.schema import DAG_RUN, OUTBOX, TASK_INSTANCE

FUNCTION = "airshift_events_capture"
TRIGGERS = {TASK_INSTANCE: "airshift_events_task_instance", DAG_RUN: "airshift_events_dag_run"}


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    return f"{_q(schema)}.{_q(name)}"


def install_statements(schema: str) -> list[str]:
    outbox = qualified(schema, OUTBOX)
    function = qualified(schema, FUNCTION)
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
        # Why each piece: `attempt` is try_number (task) or clear_number (run; absent before 2.8 -> 0), so
        # a rerun after a clear is a new event. Updates that change neither state nor attempt (heartbeats,
        # hostnames) write nothing. 1.10 task instances have no run_id: look it up by execution_date. The run's
        # clear_number (run_attempt) tells a cleared run's repeated untried states (upstream_failed) apart.
        f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $airshift$
        DECLARE
            new_row jsonb := to_jsonb(NEW);
            old_row jsonb;
            attempt_key text := CASE WHEN TG_TABLE_NAME = 'dag_run' THEN 'clear_number' ELSE 'try_number' END;
            found_run_id text := new_row->>'run_id';
            run_attempt integer := 0;
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                old_row := to_jsonb(OLD);
                IF old_row->'state' IS NOT DISTINCT FROM new_row->'state'
                   AND old_row->attempt_key IS NOT DISTINCT FROM new_row->attempt_key THEN
                    RETURN NULL;
                END IF;
            END IF;
            IF found_run_id IS NULL AND TG_TABLE_NAME = 'task_instance' THEN
                SELECT dr.run_id INTO found_run_id FROM {qualified(schema, DAG_RUN)} AS dr
                 WHERE dr.dag_id = new_row->>'dag_id'
                   AND to_jsonb(dr)->>'execution_date' = new_row->>'execution_date';
            END IF;
            IF TG_TABLE_NAME = 'dag_run' THEN
                run_attempt := COALESCE((new_row->>'clear_number')::integer, 0);
            ELSE
                SELECT COALESCE((to_jsonb(dr)->>'clear_number')::integer, 0) INTO run_attempt
                  FROM {qualified(schema, DAG_RUN)} AS dr
                 WHERE dr.dag_id = new_row->>'dag_id' AND dr.run_id = found_run_id;
            END IF;
            INSERT INTO {outbox}
                (kind, dag_id, run_id, task_id, map_index, try_number, run_attempt, state, previous_state,
                 logical_date)
            VALUES (
                TG_TABLE_NAME,
                new_row->>'dag_id',
                found_run_id,
                new_row->>'task_id',
                COALESCE((new_row->>'map_index')::integer, -1),
                COALESCE((new_row->>attempt_key)::integer, 0),
                COALESCE(run_attempt, 0),
                new_row->>'state',
                old_row->>'state',
                COALESCE(new_row->>'logical_date', new_row->>'execution_date')
            );
            RETURN NULL;
        END
        $airshift$""",
    ]
    for table, trigger in TRIGGERS.items():
        statements.append(f"DROP TRIGGER IF EXISTS {_q(trigger)} ON {qualified(schema, table)}")
        statements.append(
            f"CREATE TRIGGER {_q(trigger)} AFTER INSERT OR UPDATE OF state ON {qualified(schema, table)} "
            f"FOR EACH ROW EXECUTE FUNCTION {function}()"
        )
    return statements


def uninstall_trigger_statements(schema: str) -> list[str]:
    statements = [
        f"DROP TRIGGER IF EXISTS {_q(trigger)} ON {qualified(schema, table)}"
        for table, trigger in TRIGGERS.items()
    ]
    statements.append(f"DROP FUNCTION IF EXISTS {qualified(schema, FUNCTION)}()")
    return statements


def installed_triggers_query() -> str:
    """Names of our triggers present on task_instance / dag_run in schema :schema."""
    return (
        "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = :schema AND NOT t.tgisinternal AND t.tgname LIKE 'airshift_events_%'"
    )
