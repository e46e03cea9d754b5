"""The Airflow side, in real Airflow: the listener plugin (error text, hostname), PushArtifactOperator
(payload, URI, MD5 manifest through the API), listener-only mode, and the Airflow 3 plugin mounting the
API behind Airflow's own auth. airshift is put on the runtime's path with PYTHONPATH, as a deployment
would install it into the image."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine
from test_events_support import MetadataDb, MetadataFactory, airshift, metadata_dbs_fixture  # noqa: F401

from airshift.events.capture import install
from airshift.events.model import NewEvent
from airshift.events.stores.sqlite import SqliteEventLog
from tests.state.airflow_envs import free_port

pytestmark = pytest.mark.integration
SRC = Path(__file__).resolve().parents[2] / "src"
EVENTS_TESTS = Path(__file__).resolve().parent.parent / "events"
TOKEN = "plugin-test-token-abcdef0123456789abcdef"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """`airshift events serve` on 127.0.0.1 over a fresh SQLite log: (url, token file, log path)."""
    log_path, token_file, port = tmp_path / "events.db", tmp_path / "token", free_port()
    token_file.write_text(TOKEN)
    SqliteEventLog(log_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "airshift", "events", "serve", "--log", str(log_path), "--port", str(port),
         "--token-file", str(token_file)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/events", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        yield url, token_file, log_path
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _airflow_env(url: str, token_file: Path, tmp_path: Path, mode: str) -> dict[str, str]:
    return {
        "PYTHONPATH": str(SRC),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(EVENTS_TESTS / "plugins"),
        "AIRFLOW__CORE__LAZY_LOAD_PLUGINS": "False",
        "AIRFLOW__AIRSHIFT_EVENTS__URL": url,
        "AIRFLOW__AIRSHIFT_EVENTS__TOKEN_FILE": str(token_file),
        "AIRFLOW__AIRSHIFT_EVENTS__MODE": mode,
        "AIRFLOW__AIRSHIFT_EVENTS__SPOOL_DIR": str(tmp_path / "spool"),
        "AIRSHIFT_TEST_ARTIFACT_DIR": str(tmp_path / "artifacts"),
    }


def _run_push_dag(db: MetadataDb, env: dict[str, str]) -> None:
    run = db.airflow("dags", "test", "events_push", dags_folder=EVENTS_TESTS / "dags_plugin", extra_env=env)
    assert "Traceback" not in run.stdout or "the listener must report" in run.stdout + run.stderr


def _check_artifact(log: SqliteEventLog, tmp_path: Path) -> None:
    artifacts = [e for e in log.read(0, 10_000) if e.kind == "artifact"]
    assert len(artifacts) == 1 and artifacts[0].task_id == "publish"
    detail = artifacts[0].detail or {}
    assert detail["payload"] == {"rows": 1, "table": "export"}
    assert detail["payload_uri"] == "file://" + str(tmp_path / "artifacts")
    expected = {
        "part/a.csv": hashlib.md5(b"a,b\n1,2\n").hexdigest(),
        "summary.json": hashlib.md5(b'{"rows": 1}').hexdigest(),
    }
    assert {entry["path"]: entry["md5"] for entry in detail["manifest"]} == expected


def test_listener_and_push_operator_on_airflow_3(
    metadata_dbs: MetadataFactory, api: tuple[str, Path, Path], tmp_path: Path
) -> None:
    url, token_file, log_path = api
    db = metadata_dbs.new("3.3.2", "sqlite")
    engine = create_engine(db.url)
    install(engine)
    _run_push_dag(db, _airflow_env(url, token_file, tmp_path, "supplement"))
    relayed = airshift("events", "relay", "--db", db.url, "--log", str(log_path), "--once")
    assert relayed.returncode == 0, relayed.stderr
    engine.dispose()

    log = SqliteEventLog(log_path)
    events = log.read(0, 10_000)
    failed = [e for e in events if e.task_id == "fails" and e.state == "failed"]
    assert len(failed) == 1 and failed[0].source == "trigger"  # logged by the database trigger...
    detail = failed[0].detail or {}
    assert "the listener must report this error text" in detail["error"]  # ...completed by the listener
    assert detail["hostname"]
    assert all(e.source in ("trigger", "api") for e in events)  # supplement mode logs nothing itself
    _check_artifact(log, tmp_path)
    assert (
        not (tmp_path / "spool" / "messages.jsonl").exists()
        or not (tmp_path / "spool" / "messages.jsonl").read_text()
    )


def test_listener_only_mode_on_airflow_2(
    metadata_dbs: MetadataFactory, api: tuple[str, Path, Path], tmp_path: Path
) -> None:
    """No triggers (a managed Airflow): the listener's own events reach the log, best effort."""
    url, token_file, log_path = api
    db = metadata_dbs.new("2.11.2", "postgres")
    _run_push_dag(db, _airflow_env(url, token_file, tmp_path, "listener-only"))

    log = SqliteEventLog(log_path)
    events = log.read(0, 10_000)
    assert {e.source for e in events} == {"listener", "api"}
    states = {(e.task_id, e.state) for e in events if e.kind == "task_instance"}
    assert {("produce", "running"), ("produce", "success"), ("fails", "failed")} <= states
    failed = next(e for e in events if (e.task_id, e.state) == ("fails", "failed"))
    assert "the listener must report this error text" in (failed.detail or {})["error"]
    _check_artifact(log, tmp_path)


def _run_in_airflow(db: MetadataDb, script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `script` with the runtime's Python (the plugin is imported as the api-server would)."""
    result = subprocess.run(
        [str(db.runtime.bin_dir / "python"), "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_airflow_3_plugin_mounts_the_api_behind_airflow_auth(
    metadata_dbs: MetadataFactory, tmp_path: Path
) -> None:
    """Load the plugin in Airflow 3.3.2 and call the mounted app without credentials: Airflow's own
    user check refuses it (plugin apps are not authenticated by Airflow unless they ask)."""
    db = metadata_dbs.new("3.3.2", "sqlite")
    log_path = tmp_path / "events.db"
    SqliteEventLog(log_path)
    script = (
        "from airflow import plugins_manager\n"
        "from fastapi.testclient import TestClient\n"
        "from airshift.events.plugin import AirshiftEventsPlugin, URL_PREFIX\n"
        "(entry,) = AirshiftEventsPlugin.fastapi_apps\n"
        "assert entry['url_prefix'] == URL_PREFIX\n"
        "client = TestClient(entry['app'])\n"
        "print('status', client.get('/events').status_code)\n"
        "print('openapi', client.get('/openapi.json').status_code)\n"
    )
    env = {**db.env(), "PYTHONPATH": str(SRC), "AIRFLOW__AIRSHIFT_EVENTS__LOG": str(log_path)}
    result = _run_in_airflow(db, script, env)
    assert "status 401" in result.stdout or "status 403" in result.stdout, result.stdout
    assert "openapi 401" in result.stdout or "openapi 403" in result.stdout, result.stdout


def test_airflow_3_plugin_shows_each_user_only_the_dags_they_may_read(
    metadata_dbs: MetadataFactory, tmp_path: Path
) -> None:
    """Per-DAG permissions come from Airflow's auth manager: with one that limits `alice` to `dag_a`
    (as FAB's `access_control` would), she reads only dag_a's events and cannot publish to dag_b;
    `bob` (SimpleAuthManager role USER) reads both and publishes; a viewer cannot publish."""
    db = metadata_dbs.new("3.3.2", "sqlite")
    auth_env = {
        "AIRFLOW__CORE__AUTH_MANAGER": "per_dag_auth_manager.PerDagAuthManager",
        "AIRFLOW__API_AUTH__JWT_SECRET": "a-test-jwt-secret-of-enough-length-0123456789",
        "PYTHONPATH": f"{SRC}:{EVENTS_TESTS / 'auth'}",
    }
    parsed = db.airflow("dags", "reserialize", dags_folder=EVENTS_TESTS / "dags_access", extra_env=auth_env)
    assert parsed.returncode == 0, parsed.stderr[-3000:]
    log_path = tmp_path / "events.db"
    SqliteEventLog(log_path).append(
        [
            NewEvent(kind="task_instance", dag_id=dag, run_id="r", task_id="t", try_number=1, state="success",
                     changed_at="2026-01-01T00:00:00Z")
            for dag in ("dag_a", "dag_b", "dag_gone")
        ]
    )  # fmt: skip
    script = (
        "import json\n"
        "from fastapi.testclient import TestClient\n"
        "from airflow.api_fastapi.app import init_auth_manager\n"
        "from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser\n"
        "from airshift.events.plugin import AirshiftEventsPlugin\n"
        "manager = init_auth_manager()\n"
        "(entry,) = AirshiftEventsPlugin.fastapi_apps\n"
        "client = TestClient(entry['app'])\n"
        "out = {}\n"
        "for name, role in (('alice', 'user'), ('bob', 'user'), ('vera', 'viewer')):\n"
        "    token = manager.generate_jwt(SimpleAuthManagerUser(username=name, role=role))\n"
        "    auth = {'Authorization': 'Bearer ' + token}\n"
        "    events = client.get('/events', headers=auth)\n"
        "    out[name] = {\n"
        "        'events': sorted(e['dag_id'] for e in events.json()['events']) if events.status_code == 200 else events.status_code,\n"
        "        'dag_b': client.get('/events', params={'dag_id': 'dag_b'}, headers=auth).status_code,\n"
        "        'runs_b': client.get('/runs/dag_b', headers=auth).status_code,\n"
        "        'publish_b': client.post('/artifacts', headers=auth, json={'dag_id': 'dag_b', 'run_id': 'r',\n"
        "                                 'task_id': 't', 'try_number': 1, 'payload': {'by': name}}).status_code,\n"
        "    }\n"
        "print('@@' + json.dumps(out))\n"
    )
    env = {**db.env(EVENTS_TESTS / "dags_access"), **auth_env, "AIRFLOW__AIRSHIFT_EVENTS__LOG": str(log_path)}
    result = _run_in_airflow(db, script, env)
    seen = json.loads(result.stdout.split("@@", 1)[1])
    assert seen["alice"] == {"events": ["dag_a"], "dag_b": 403, "runs_b": 403, "publish_b": 403}
    # DAGs the auth manager does not know (deleted ones) are nobody's to read through the plugin.
    assert seen["bob"] == {"events": ["dag_a", "dag_b"], "dag_b": 200, "runs_b": 200, "publish_b": 201}
    # vera reads bob's artifact on dag_b too (one more dag_b event), and cannot publish herself.
    assert seen["vera"] == {
        "events": ["dag_a", "dag_b", "dag_b"],
        "dag_b": 200,
        "runs_b": 200,
        "publish_b": 403,
    }
