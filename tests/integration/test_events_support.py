"""Helpers for the EventStream integration tests (no tests here): real Airflow metadata databases made
by the real `airflow db migrate`, on SQLite files and on fresh PostgreSQL databases, and real DAG runs.

Migrating is the slow part (about 10-15 s), so each (Airflow version, database type) is migrated once per
session into a template: SQLite files are copied, PostgreSQL databases are created `TEMPLATE` the
migrated one. Every test gets its own uniquely named database, dropped afterwards.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from airshift.verify.runtimes import Runtime, ensure_runtime

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
EVENT_DAGS = Path(__file__).resolve().parent.parent / "events" / "dags"
SHOWCASE = "events_showcase"
# psycopg2 (sync) and asyncpg (Airflow 3's async engine) come with the postgres provider.
POSTGRES_EXTRAS = ["apache-airflow-providers-postgres"]


# Airflow 2.x talks to MariaDB through PyMySQL (Airflow 3 insists on mysqlclient, a C build).
MARIADB_EXTRAS = ["pymysql"]
MARIADB_ADMIN = {"host": "127.0.0.1", "port": 3306, "user": "root"}


def runtime_with_postgres(version: str) -> Runtime:
    return ensure_runtime(version, extra_requirements=POSTGRES_EXTRAS)


def _mariadb_execute(sql: str) -> None:
    import pymysql

    connection = pymysql.connect(**MARIADB_ADMIN, autocommit=True)  # type: ignore[arg-type]
    try:
        connection.cursor().execute(sql)
    finally:
        connection.close()


@dataclass
class MetadataDb:
    """A migrated Airflow metadata database of one runtime."""

    runtime: Runtime
    home: Path
    airflow_url: str  # for Airflow (its drivers)
    url: str  # for airshift (SQLAlchemy + psycopg 3 / sqlite)
    pg_name: str | None = None

    def env(self, dags_folder: Path = EVENT_DAGS) -> dict[str, str]:
        env = self.runtime.env()
        for name in list(env):
            if name.startswith("AIRFLOW__") or name in ("AIRFLOW_HOME", "AIRFLOW_CONFIG"):
                del env[name]
        env.update(
            AIRFLOW_HOME=str(self.home),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__DAGS_FOLDER=str(dags_folder),
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=self.airflow_url,
            AIRFLOW__CORE__UNIT_TEST_MODE="False",
        )
        return env

    def airflow(
        self,
        *args: str,
        timeout: float = 300.0,
        dags_folder: Path = EVENT_DAGS,
        extra_env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        env = {**self.env(dags_folder), **(extra_env or {})}
        completed = subprocess.run(
            [str(self.runtime.bin_dir / "airflow"), *args],
            env=env, cwd=self.home, capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        if completed.returncode not in (0, 1):
            raise AssertionError(
                f"airflow {' '.join(args)} exited {completed.returncode}:\n{completed.stderr[-3000:]}"
            )
        return completed


def _migrate(db: MetadataDb) -> None:
    completed = db.airflow("db", "migrate")
    assert completed.returncode == 0, completed.stderr[-3000:]


def _pg_execute(sql: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(sql)  # type: ignore[arg-type]


class MetadataFactory:
    """Per-session templates; `new()` hands out fresh copies."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.templates: dict[tuple[str, str], MetadataDb] = {}
        self.created: list[str] = []
        self.mariadb_created: list[str] = []

    def new_mariadb(self, version: str) -> MetadataDb:
        """A freshly migrated MariaDB database (no template copies: MariaDB has no CREATE ... TEMPLATE)."""
        runtime = ensure_runtime(version, extra_requirements=MARIADB_EXTRAS)
        home = self.root / f"home-{uuid.uuid4().hex[:8]}"
        home.mkdir(parents=True)
        name = f"airshift_evt_{uuid.uuid4().hex[:12]}"
        # Airflow's documented MySQL setup: utf8mb3 with a binary collation for its id columns.
        _mariadb_execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb3 COLLATE utf8mb3_bin")
        self.mariadb_created.append(name)
        url = f"mysql+pymysql://root@127.0.0.1:3306/{name}"
        db = MetadataDb(runtime, home, url, url)
        _migrate(db)
        return db

    def _template(self, version: str, backend: str) -> MetadataDb:
        key = (version, backend)
        if key not in self.templates:
            runtime = runtime_with_postgres(version)
            home = self.root / f"template-{version}-{backend}"
            home.mkdir(parents=True)
            if backend == "sqlite":
                path = home / "airflow.db"
                db = MetadataDb(runtime, home, f"sqlite:///{path}", f"sqlite:///{path}")
            else:
                name = f"airshift_evtpl_{version.replace('.', '_')}_{uuid.uuid4().hex[:8]}"
                _pg_execute(f'CREATE DATABASE "{name}"')
                self.created.append(name)
                db = MetadataDb(
                    runtime, home, f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}",
                    f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", name,
                )  # fmt: skip
            _migrate(db)
            self.templates[key] = db
        return self.templates[key]

    def new(self, version: str, backend: str, showcase_run: bool = False) -> MetadataDb:
        """A fresh migrated database; with `showcase_run`, one where `airflow dags test` already ran the
        showcase DAG (done once per session, then copied)."""
        if showcase_run:
            key = (version, f"{backend}+showcase")
            if key not in self.templates:
                ran = self._copy(self._template(version, backend), backend)
                ran.airflow("dags", "test", SHOWCASE)
                self.templates[key] = ran
            return self._copy(self.templates[key], backend)
        return self._copy(self._template(version, backend), backend)

    def _copy(self, template: MetadataDb, backend: str) -> MetadataDb:
        home = self.root / f"home-{uuid.uuid4().hex[:8]}"
        home.mkdir()
        if backend == "sqlite":
            path = home / "airflow.db"
            shutil.copyfile(template.home / "airflow.db", path)
            return MetadataDb(template.runtime, home, f"sqlite:///{path}", f"sqlite:///{path}")
        name = f"airshift_evt_{uuid.uuid4().hex[:12]}"
        _pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template.pg_name}"')
        self.created.append(name)
        return MetadataDb(
            template.runtime, home, f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}",
            f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", name,
        )  # fmt: skip

    def drop_all(self) -> None:
        for name in reversed(self.created):
            _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for name in self.mariadb_created:
            _mariadb_execute(f"DROP DATABASE IF EXISTS `{name}`")


_FACTORY: MetadataFactory | None = None


def _shared_factory(root: Path) -> MetadataFactory:
    """One factory per test session, shared by every events test module, so each (Airflow version,
    database type) is migrated once; its PostgreSQL databases are dropped when the session ends."""
    global _FACTORY
    if _FACTORY is None:
        _FACTORY = MetadataFactory(root)
        atexit.register(_FACTORY.drop_all)
    return _FACTORY


# Registered under the name `metadata_dbs`; test modules import `metadata_dbs_fixture` (so the
# parameter name does not shadow an import).
@pytest.fixture(scope="session", name="metadata_dbs")
def metadata_dbs_fixture(tmp_path_factory: pytest.TempPathFactory) -> MetadataFactory:
    return _shared_factory(tmp_path_factory.getbasetemp() / "airflow-metadata")


def airshift(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess."""
    import sys

    full_env = dict(os.environ if env is None else env)
    full_env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "airshift", *args],
        env=full_env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
