"""`airshift inventory` on real metadata databases: Airflow 1.10.15 on SQLite and 2.11.2 on PostgreSQL
(the transfer tests' shared sources, filled through each release's own CLI with variables, connections,
pools, paused DAGs and run history) and 3.3.2 on SQLite (filled the same way here). Every number the
inventory reports is compared with a direct count in the same database; no value of a variable or a
connection may appear in the inventory."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from airshift.platform.inventory import InventoryRequest, build_inventory
from airshift.platform.inventory_model import Inventory
from airshift.verify.runtimes import Runtime
from tests.state import shared_sources as shared
from tests.state.airflow3_target import DAGS_3
from tests.state.airflow_envs import AirflowEnv, make_env
from tests.state.source_fixtures import CONNECTIONS, VARIABLES, new_key

pytestmark = pytest.mark.integration


def _direct(url: str, sql: str) -> int:
    engine = create_engine(url.replace("postgresql+psycopg2", "postgresql+psycopg"))
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(sql)).scalar() or 0)
    finally:
        engine.dispose()


def _check_against_database(inventory: Inventory, url: str) -> None:
    database = inventory.databases[0]
    assert database.dags_total == _direct(url, "SELECT count(*) FROM dag") == 2
    assert database.dags_paused == _direct(url, "SELECT count(*) FROM dag WHERE is_paused")
    assert database.variables == _direct(url, "SELECT count(*) FROM variable") == len(VARIABLES)
    assert database.connections == _direct(url, "SELECT count(*) FROM connection") >= len(CONNECTIONS)
    assert database.pool_count == _direct(url, "SELECT count(*) FROM slot_pool")
    # Airflow 2.11's `dags test` leaves start_date empty; the end date still dates the task instance.
    task_instances = _direct(
        url, "SELECT count(*) FROM task_instance WHERE start_date IS NOT NULL OR end_date IS NOT NULL"
    )
    assert task_instances > 0
    assert sum(database.task_instances_per_day.values()) == task_instances
    assert sum(database.runs_per_day.values()) == _direct(
        url, "SELECT count(*) FROM dag_run WHERE start_date IS NOT NULL"
    )
    assert database.table_rows["task_instance"] == _direct(url, "SELECT count(*) FROM task_instance")
    assert sum(database.task_instances_by_state.values()) == _direct(
        url, "SELECT count(*) FROM task_instance WHERE state IS NOT NULL"
    )
    assert database.peak_concurrency >= 1
    assert database.queues  # every task instance has a queue ("default")
    serialized = inventory.to_json()
    for value in VARIABLES.values():
        assert value not in serialized
    for _type, _host, _login, password, *_rest in CONNECTIONS.values():
        assert password not in serialized


def test_airflow_110_on_sqlite() -> None:
    env = shared.source_110()
    inventory = build_inventory(InventoryRequest(sources=[str(env.dags_folder), env.db_url]))
    assert inventory.databases[0].airflow_version == "1.10"
    assert inventory.airflow_version == "1.10"
    _check_against_database(inventory, env.db_url)
    folder = inventory.dag_folders[0]
    assert sorted(dag.dag_id for dag in folder.dags) == ["etl_daily", "reports_hourly"]
    assert folder.source_versions == {"1.10": 1}


def test_airflow_211_on_postgresql() -> None:
    env = shared.source_211()
    inventory = build_inventory(InventoryRequest(sources=[env.db_url]))
    assert inventory.databases[0].dialect == "postgresql"
    assert inventory.databases[0].airflow_version == "2.x"
    _check_against_database(inventory, env.db_url)


@pytest.fixture(scope="module")
def source_33(runtime_33: Runtime, tmp_path_factory: pytest.TempPathFactory) -> AirflowEnv:
    home = tmp_path_factory.mktemp("af33")
    env = make_env(runtime_33, home, f"sqlite:///{home / 'airflow.db'}", [new_key()])
    (env.dags_folder / "dags.py").write_text(DAGS_3, encoding="utf-8")
    steps = [["db", "migrate"]]
    steps += [["variables", "set", key, value] for key, value in VARIABLES.items()]
    for conn_id, (conn_type, host, login, password, *_rest) in CONNECTIONS.items():
        args = ["connections", "add", conn_id, "--conn-type", conn_type, "--conn-host", host,
                "--conn-login", login, "--conn-password", password]  # fmt: skip
        steps.append(args)
    steps += [["pools", "set", "warehouse", "4", "the warehouse"], ["dags", "reserialize"]]
    # 3.x creates DAGs paused (dags_are_paused_at_creation): unpause one so the counts differ.
    steps += [["dags", "unpause", "etl_daily"], ["dags", "test", "etl_daily", "2024-01-01"]]
    env.cli_batch(steps)
    return env


def test_airflow_33_on_sqlite(source_33: AirflowEnv) -> None:
    inventory = build_inventory(InventoryRequest(sources=[str(source_33.dags_folder), source_33.db_url]))
    database = inventory.databases[0]
    assert database.airflow_version == "3.x"
    assert database.dags_paused == 1
    _check_against_database(inventory, source_33.db_url)
    assert inventory.dag_folders[0].source_versions == {"3": 1} or inventory.dag_folders[0].source_versions


def test_peak_concurrency_and_large_xcoms_are_found(tmp_path: Path) -> None:
    """On a copy of the real 1.10 database, its task instances replaced by four whose overlap is known
    (three at 10:04, one later), and an XCom larger than 1.10's own MAX_XCOM_SIZE."""
    source = shared.source_110()
    copy = tmp_path / "airflow.db"
    shutil.copy(source.db_url.removeprefix("sqlite:///"), copy)
    with sqlite3.connect(copy) as connection:
        # Peak concurrency counts task instances per minute they touch; the fill's own (seconds apart,
        # maybe in one minute) would add to the count, so only the known ones stay.
        connection.execute("DELETE FROM task_instance")
        rows = [
            ("t1", "2030-01-01 00:00:00", "2030-01-01 10:00:10", "2030-01-01 10:05:00"),
            ("t2", "2030-01-01 00:00:00", "2030-01-01 10:02:00", "2030-01-01 10:10:00"),
            ("t3", "2030-01-01 00:00:00", "2030-01-01 10:04:30", "2030-01-01 10:06:00"),
            ("t4", "2030-01-01 00:00:00", "2030-01-01 10:20:00", "2030-01-01 10:21:00"),
        ]
        connection.executemany(
            "INSERT INTO task_instance (task_id, dag_id, execution_date, start_date, end_date, state, try_number,"
            " queue, pool) VALUES (?, 'etl_daily', ?, ?, ?, 'success', 1, 'heavy', 'default_pool')",
            rows,
        )
        connection.execute(
            "INSERT INTO xcom (key, value, timestamp, execution_date, task_id, dag_id) "
            "VALUES ('big', ?, '2030-01-01 10:00:00', '2030-01-01 00:00:00', 't1', 'etl_daily')",
            (b"x" * 60_000,),
        )
    inventory = build_inventory(InventoryRequest(sources=[f"sqlite:///{copy}"]))
    database = inventory.databases[0]
    assert database.peak_concurrency == 3
    assert database.peak_concurrency_minute == "2030-01-01T10:04Z"
    assert database.queues == {"heavy": 4}
    assert database.xcom_over_limit == 1 and database.xcom_max_bytes == 60_000
    assert "xcom-too-large" in {risk.code for risk in inventory.risks}


def test_airflow_33_rest_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real 3.3.2 api-server (simple auth manager) as the source: counts only, through /api/v2."""
    from tests.state.airflow3_target import airflow3_target

    with airflow3_target(tmp_path / "api33") as target:
        target.env.cli("variables", "set", "region", "eu-secret-region")
        monkeypatch.setenv("AIRSHIFT_FROM_USER", "admin")
        monkeypatch.setenv("AIRSHIFT_FROM_PASSWORD", target.password_file.read_text().strip())
        inventory = build_inventory(InventoryRequest(sources=[target.base_url]))
    api = inventory.apis[0]
    assert api.airflow_version == "3.3.2" and inventory.airflow_version == "3.3.2"
    assert api.dags_total == 2 and api.dags_paused == 2  # created paused
    assert api.variables == 1 and api.pool_count is not None and api.pool_count >= 1
    assert "eu-secret-region" not in inventory.to_json()
