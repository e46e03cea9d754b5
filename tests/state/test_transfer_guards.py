"""`airshift transfer` refuses a target that is its source, and dry runs check the target as a real
run would: a database that exists and holds Airflow's tables, a server that answers like Airflow 3.
Databases are the PostgreSQL on 127.0.0.1; the servers that are not Airflow are real HTTP servers."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PG = "postgresql://postgres@127.0.0.1:5432"


def transfer(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRSHIFT_")}
    env["AIRSHIFT_TO_TOKEN"] = "token-for-guard-tests"
    return subprocess.run(
        [sys.executable, "-m", "airshift", "transfer", *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _refused(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "internal error" not in result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


@pytest.mark.parametrize(
    "target",
    [f"{PG}/test", "postgresql+psycopg://postgres@localhost/test", "postgresql://postgres@127.0.0.1/test"],
)
def test_history_into_the_source_database_is_refused_at_once(tmp_path: Path, target: str) -> None:
    # Before: the copy locked itself out reading and writing one database and hung without a word.
    result = transfer("--from", f"{PG}/test", "--to-db", target, "--what", "history", cwd=tmp_path)
    _refused(result, "--to-db", "is the database given as --from")


def test_the_same_sqlite_file_under_two_spellings_is_refused(tmp_path: Path) -> None:
    (tmp_path / "airflow.db").touch()
    result = transfer(
        "--from", "sqlite:///airflow.db", "--to-db", f"sqlite:///{tmp_path / 'airflow.db'}", cwd=tmp_path
    )
    _refused(result, "is the database given as --from")


def test_an_api_target_that_is_the_api_source_is_refused(tmp_path: Path) -> None:
    result = transfer(
        "--from", "http://127.0.0.1:8080/", "--to", "http://127.0.0.1:8080/api/v2", "--dry-run", cwd=tmp_path
    )
    _refused(result, "is the source given as --from")


def test_a_dry_run_into_a_database_that_does_not_exist_fails(tmp_path: Path) -> None:
    missing = f"airshift_missing_{uuid.uuid4().hex[:8]}"
    result = transfer("--from", f"{PG}/test", "--to-db", f"{PG}/{missing}", "--dry-run", cwd=tmp_path)
    _refused(result, missing)
    assert "would copy" not in result.stdout


@pytest.fixture
def empty_database() -> Iterator[str]:
    import psycopg

    name = f"airshift_empty_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_dry_run_into_a_database_without_airflow_fails(tmp_path: Path, empty_database: str) -> None:
    result = transfer("--from", f"{PG}/test", "--to-db", f"{PG}/{empty_database}", "--dry-run", cwd=tmp_path)
    _refused(result, empty_database, "has no table")
    assert "would copy" not in result.stdout


class _Answers(http.server.BaseHTTPRequestHandler):
    """A web server that is not Airflow 3: 404 everywhere, or an unknown Airflow version."""

    version_body: bytes | None = None

    def do_GET(self) -> None:
        body = self.version_body if self.path.endswith("/api/v2/version") else None
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body or b'{"detail": "Not Found"}')

    def log_message(self, *_args: object) -> None:
        pass


def _serve(body: bytes | None) -> Iterator[str]:
    handler = type("Handler", (_Answers,), {"version_body": body})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def answers_404() -> Iterator[str]:
    yield from _serve(None)


@pytest.fixture
def unknown_airflow() -> Iterator[str]:
    yield from _serve(json.dumps({"version": "4.0.0", "git_version": "abc"}).encode())


@pytest.fixture
def version_without_git_version() -> Iterator[str]:
    yield from _serve(json.dumps({"version": "3.3.2"}).encode())


def _export(tmp_path: Path) -> str:
    path = tmp_path / "variables.json"
    path.write_text(json.dumps({"greeting": "hello"}))
    return str(path)


def test_a_server_answering_404_is_not_taken_for_airflow_3(tmp_path: Path, answers_404: str) -> None:
    result = transfer("--from", _export(tmp_path), "--to", answers_404, "--dry-run", cwd=tmp_path)
    _refused(result, "is not an Airflow webserver or API server")


def test_a_json_version_without_airflows_fields_is_not_airflow(
    tmp_path: Path, version_without_git_version: str
) -> None:
    result = transfer(
        "--from", _export(tmp_path), "--to", version_without_git_version, "--dry-run", cwd=tmp_path
    )
    _refused(result, "is not an Airflow webserver or API server")


def test_an_airflow_of_an_unknown_version_is_refused(tmp_path: Path, unknown_airflow: str) -> None:
    result = transfer("--from", _export(tmp_path), "--to", unknown_airflow, "--dry-run", cwd=tmp_path)
    _refused(result, "runs Airflow 4.0.0", "3.0, 3.1, 3.2, 3.3")
