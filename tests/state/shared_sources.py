"""Source Airflow environments built once per test session and shared by the transfer test modules
(filling them through each Airflow's CLI is the slow part of these tests)."""

from __future__ import annotations

import atexit
import functools
import shutil
from pathlib import Path
from tempfile import mkdtemp

from sqlalchemy import create_engine, text

from airshift.verify.runtimes import ensure_runtime
from tests.state.airflow_envs import MARIADB_ADMIN_URL, PG_ADMIN_URL, AirflowEnv, make_env, unique_name
from tests.state.source_fixtures import fill_110, fill_211, new_key


def _drop_database(name: str) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@functools.cache
def source_211() -> AirflowEnv:
    """Airflow 2.11.2 on a fresh PostgreSQL database (dropped when the test process exits)."""
    runtime = ensure_runtime("2.11.2", extra_requirements=["psycopg2-binary"])
    name = unique_name("airshift_src211")
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    atexit.register(_drop_database, name)
    home = Path(mkdtemp(prefix="airshift-af211-"))
    atexit.register(shutil.rmtree, home, True)
    env = make_env(runtime, home, f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}", [new_key()])
    fill_211(env, rotated_key=new_key())
    return env


@functools.cache
def source_110() -> AirflowEnv:
    """Airflow 1.10.15 on SQLite."""
    runtime = ensure_runtime("1.10.15")
    home = Path(mkdtemp(prefix="airshift-af110-"))
    atexit.register(shutil.rmtree, home, True)
    env = make_env(runtime, home, f"sqlite:///{home / 'airflow.db'}", [new_key()])
    fill_110(env, rotated_key=new_key())
    return env


@functools.cache
def source_110_mariadb() -> AirflowEnv:
    """Airflow 1.10.15 on MariaDB, as Composer 1 ran it on MySQL (database dropped at exit)."""
    runtime = ensure_runtime("1.10.15", extra_requirements=["PyMySQL<1.2"])
    name = unique_name("airshift_src110")
    admin = create_engine(MARIADB_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    admin.dispose()
    atexit.register(_drop_mariadb, name)
    home = Path(mkdtemp(prefix="airshift-af110-mariadb-"))
    atexit.register(shutil.rmtree, home, True)
    env = make_env(runtime, home, f"mysql+pymysql://root@127.0.0.1:3306/{name}", [new_key()])
    fill_110(env, rotated_key=new_key())
    return env


def _drop_mariadb(name: str) -> None:
    admin = create_engine(MARIADB_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    admin.dispose()


def key_file(env: AirflowEnv, folder: Path) -> Path:
    path = folder / "source-fernet.key"
    path.write_text(",".join(env.fernet_keys) + "\n", encoding="utf-8")
    return path
