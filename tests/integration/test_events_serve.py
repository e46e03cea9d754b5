"""`airshift events serve` as a real uvicorn server on 127.0.0.1, read by `airshift events tail --url`
and a Consumer over HTTP: the token comes from a file, every route wants it, and it never appears in
the output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from test_events_support import airshift

from airshift.events.client import EventsClient
from airshift.events.consumer import Consumer
from airshift.events.model import NewEvent
from airshift.events.offsets import FileOffsetStore
from airshift.events.stores.sqlite import SqliteEventLog
from tests.state.airflow_envs import free_port

pytestmark = pytest.mark.integration
TOKEN = "serve-test-token-0123456789abcdefghijkl"


def _event(task_id: str, state: str) -> NewEvent:
    return NewEvent(
        kind="task_instance", dag_id="d", run_id="r", task_id=task_id, try_number=1, state=state,
        changed_at="2026-01-01T00:00:00Z",
    )  # fmt: skip


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path, SqliteEventLog]]:
    log = SqliteEventLog(tmp_path / "events.db")
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "AIRSHIFT_EVENTS_TOKEN"}
    command = [sys.executable, "-m", "airshift", "events", "serve", "--log", str(log.path)]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--token-file", str(token_file)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/events", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        yield url, token_file, log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output = process.communicate(timeout=30)[0].decode()
        assert TOKEN not in output


def test_served_api_tail_and_http_consumer(server: tuple[str, Path, SqliteEventLog], tmp_path: Path) -> None:
    url, token_file, log = server
    log.append([_event("a", "queued"), _event("a", "running"), _event("b", "queued")])

    assert httpx.get(url + "/events").status_code == 401
    assert httpx.get(url + "/openapi.json").status_code == 401
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert "/events" in httpx.get(url + "/openapi.json", headers=headers).json()["paths"]

    tailed = airshift("events", "tail", "--url", url, "--token-file", str(token_file), "--after", "0")
    assert tailed.returncode == 0, tailed.stderr
    lines = tailed.stdout.splitlines()
    assert len(lines) == 3 and lines[1].endswith("d r a try 1: - -> running")
    assert TOKEN not in tailed.stdout + tailed.stderr
    refused = airshift("events", "tail", "--url", url, "--token-file", str(tmp_path / "missing"))
    assert refused.returncode == 2 and "cannot read the token file" in refused.stderr

    # A consumer through the API: at-least-once with its own offset file.
    offsets = FileOffsetStore(tmp_path / "offsets.json")
    client = EventsClient(url, TOKEN)
    seen = [e.offset for e in Consumer(client, offsets, "portal").events(follow=False)]
    log.append([_event("b", "running")])
    seen += [e.offset for e in Consumer(client, offsets, "portal").events(follow=False)]
    assert seen == [1, 2, 3, 4] and offsets.load("portal") == 4
    client.close()


def test_serve_refuses_to_start_without_a_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "AIRSHIFT_EVENTS_TOKEN"}
    result = airshift("events", "serve", "--log", str(tmp_path / "e.db"), env=env)
    assert result.returncode == 2 and "no API token" in result.stderr
