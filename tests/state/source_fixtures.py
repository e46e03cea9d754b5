"""Filling real source Airflow metadata DBs through each version's own CLI (shared by transfer tests).

The expected values below are what the tests compare against after reading/transferring; they include
characters that break naive quoting (quotes, `@`, `%`, non-ASCII) and JSON values.
"""

from __future__ import annotations

import json
import textwrap

from cryptography.fernet import Fernet

from tests.state.airflow_envs import AirflowEnv

VARIABLES = {
    "early_var": "written before the key rotation",
    "api_url": "https://example.invalid/v1?x=1&y=2",
    "json_cfg": json.dumps({"retries": 3, "tables": ["a", "b"], "nested": {"k": "v"}}),
    "unicode_var": "Grüße - 東京 \u00e9",
    "db_password": "s3cr3t-var-value",
}
# conn_id -> (conn_type, host, login, password, port, schema, extra)
# Types every runtime knows without extra providers (2.11 stores unknown types as "generic").
CONNECTIONS = {
    "warehouse_db": (
        "generic",
        "db.example.invalid",
        "etl",
        "p@ss:w/rd%20'\"",
        5432,
        "dwh",
        {"sslmode": "require"},
    ),
    "api_http": (
        "http",
        "api.example.invalid",
        "svc",
        "tok-123",
        None,
        None,
        {"timeout": 30, "verify": True},
    ),
}
POOLS = {"etl_pool": (4, "ETL jobs"), "api_pool": (2, "rate limited API")}
PAUSED = {"etl_daily": True, "reports_hourly": False}


def new_key() -> str:
    return Fernet.generate_key().decode()


def dag_file_211() -> str:
    return textwrap.dedent(
        """\
        from datetime import datetime, timedelta
        from airflow import DAG
        from airflow.operators.bash import BashOperator

        with DAG("etl_daily", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=True) as d1:
            BashOperator(task_id="extract", bash_command="echo extract") >> BashOperator(task_id="load", bash_command="echo load")

        with DAG("reports_hourly", start_date=datetime(2024, 1, 1), schedule=timedelta(hours=6), catchup=False) as d2:
            BashOperator(task_id="report", bash_command="echo report")
        """
    )


def dag_file_110() -> str:
    return textwrap.dedent(
        """\
        from datetime import datetime, timedelta
        from airflow import DAG
        from airflow.operators.bash_operator import BashOperator

        with DAG("etl_daily", start_date=datetime(2024, 1, 1), schedule_interval="@daily") as d1:
            BashOperator(task_id="extract", bash_command="echo extract") >> BashOperator(task_id="load", bash_command="echo load")

        with DAG("reports_hourly", start_date=datetime(2024, 1, 1), schedule_interval=timedelta(hours=6), catchup=False) as d2:
            BashOperator(task_id="report", bash_command="echo report")
        """
    )


HISTORY_CONF = {"source": "dags test", "n": 1, "items": ["a", "b"]}


def fill_211(env: AirflowEnv, rotated_key: str) -> None:
    """Migrate, write `early_var` under the old key, rotate (new key first), write the rest, pause, and
    leave real history: `dags test` runs (with conf) of both DAGs."""
    (env.dags_folder / "dags.py").write_text(dag_file_211(), encoding="utf-8")
    # The batch starts with the full key list in its environment: switch to the old key alone first.
    steps = [["@fernet", ",".join(env.fernet_keys)], ["db", "migrate"]]
    steps.append(["variables", "set", "early_var", VARIABLES["early_var"]])
    env.fernet_keys.insert(0, rotated_key)
    steps.append(["@fernet", ",".join(env.fernet_keys)])
    for key, value in VARIABLES.items():
        if key != "early_var":
            steps.append(["variables", "set", key, value, "--description", f"about {key}"])
    for conn_id, (conn_type, host, login, password, port, schema, extra) in CONNECTIONS.items():
        args = ["connections", "add", conn_id, "--conn-type", conn_type, "--conn-host", host,
                "--conn-login", login, "--conn-password", password, "--conn-extra", json.dumps(extra)]  # fmt: skip
        if port is not None:
            args += ["--conn-port", str(port)]
        if schema is not None:
            args += ["--conn-schema", schema]
        steps.append(args)
    for name, (slots, description) in POOLS.items():
        steps.append(["pools", "set", name, str(slots), description])
    steps.append(["dags", "reserialize"])
    for dag_id, paused in PAUSED.items():
        steps.append(["dags", "pause" if paused else "unpause", dag_id])
    steps.append(["dags", "test", "etl_daily", "2024-01-01", "-c", json.dumps(HISTORY_CONF)])
    steps.append(["dags", "test", "etl_daily", "2024-01-02"])
    steps.append(["dags", "test", "reports_hourly", "2024-01-01"])
    env.cli_batch(steps)


def fill_110(env: AirflowEnv, rotated_key: str) -> None:
    (env.dags_folder / "dags.py").write_text(dag_file_110(), encoding="utf-8")
    steps = [["@fernet", ",".join(env.fernet_keys)], ["initdb"]]
    steps.append(["variables", "-s", "early_var", VARIABLES["early_var"]])
    env.fernet_keys.insert(0, rotated_key)
    steps.append(["@fernet", ",".join(env.fernet_keys)])
    for key, value in VARIABLES.items():
        if key != "early_var":
            steps.append(["variables", "-s", key, value])
    for conn_id, (conn_type, host, login, password, port, schema, extra) in CONNECTIONS.items():
        args = ["connections", "-a", "--conn_id", conn_id, "--conn_type", conn_type, "--conn_host", host,
                "--conn_login", login, "--conn_password", password, "--conn_extra", json.dumps(extra)]  # fmt: skip
        if port is not None:
            args += ["--conn_port", str(port)]
        if schema is not None:
            args += ["--conn_schema", schema]
        steps.append(args)
    for name, (slots, description) in POOLS.items():
        steps.append(["pool", "-s", name, str(slots), description])
    # 1.10 has no reserialize: a short backfill registers the DAGs (and leaves real history).
    steps.append(["backfill", "etl_daily", "-s", "2024-01-01", "-e", "2024-01-02"])
    steps.append(["backfill", "reports_hourly", "-s", "2024-01-01", "-e", "2024-01-01"])
    for dag_id, paused in PAUSED.items():
        steps.append(["pause" if paused else "unpause", dag_id])
    env.cli_batch(steps)
