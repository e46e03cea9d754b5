"""The EventStream API refuses what it must not store or cannot hold: numbers past the store's integers,
bodies past the size limit, supplements claiming database transitions or impossible states, artifacts
for runs nobody heard of; and its OpenAPI document lists every status code it answers with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from events_helpers import task_event
from fastapi.testclient import TestClient

from airshift.events.api import BearerAuth, create_app
from airshift.events.stores.sqlite import SqliteEventLog

TOKEN = "limits-test-token-0123456789abcdefghij"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def log(tmp_path: Path) -> SqliteEventLog:
    events = SqliteEventLog(tmp_path / "events.db")
    events.append([task_event("t", "running")])
    return events


@pytest.fixture
def client(log: SqliteEventLog) -> TestClient:
    return TestClient(create_app(log, BearerAuth(TOKEN), max_body_bytes=64 * 1024))


def _supplement(**event: object) -> dict[str, object]:
    base = {
        "kind": "task_instance", "dag_id": "dag_a", "run_id": "run_1", "task_id": "t", "try_number": 1,
        "state": "failed", "changed_at": "2026-01-01T00:00:00Z", "source": "listener",
    }  # fmt: skip
    return {"event": {**base, **event}, "detail": {"error": "boom"}, "append": True}


def test_huge_offsets_and_tries_are_422_not_500(client: TestClient) -> None:
    assert client.get("/events", params={"after": "99999999999999999999999"}, headers=AUTH).status_code == 422
    assert client.get("/events", params={"after": str(2**53 - 1)}, headers=AUTH).status_code == 200
    artifact = {"dag_id": "dag_a", "run_id": "run_1", "task_id": "t", "try_number": 1e23}
    assert client.post("/artifacts", json=artifact, headers=AUTH).status_code == 422
    assert client.post("/supplements", json=_supplement(try_number=1e23), headers=AUTH).status_code == 422
    assert client.post("/supplements", json=_supplement(map_index=-2), headers=AUTH).status_code == 422


@pytest.mark.parametrize(
    "change",
    [
        {"source": "trigger"},  # only the database triggers log transitions from the database
        {"kind": "artifact"},
        {"kind": "anything"},
        {"state": "exploded"},
        {"try_number": -1},
        {"kind": "dag_run", "state": "up_for_retry"},
        {"previous_state": "bogus"},
        {"task_id": ""},
    ],
)
def test_supplements_carry_only_listener_transitions(
    client: TestClient, log: SqliteEventLog, change: dict[str, object]
) -> None:
    response = client.post("/supplements", json=_supplement(**change), headers=AUTH)
    assert response.status_code == 422, response.text
    assert log.last_offset() == 1  # nothing was appended


def test_a_valid_listener_supplement_is_appended(client: TestClient, log: SqliteEventLog) -> None:
    response = client.post("/supplements", json=_supplement(), headers=AUTH)
    assert response.status_code == 200 and response.json() == {"offset": 2, "duplicate": False}
    assert log.read(1, 1)[0].source == "listener"


def test_bodies_over_the_limit_are_413_and_not_stored(client: TestClient, log: SqliteEventLog) -> None:
    artifact = {
        "dag_id": "dag_a",
        "run_id": "run_1",
        "task_id": "t",
        "try_number": 1,
        "payload": "x" * 70_000,
    }
    response = client.post("/artifacts", json=artifact, headers=AUTH)
    assert response.status_code == 413
    chunked = client.post(
        "/artifacts",
        content=iter([json.dumps(artifact).encode()[i : i + 8192] for i in range(0, 70_100, 8192)]),
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert chunked.status_code == 413  # no Content-Length: counted as it arrives
    assert log.last_offset() == 1


def test_the_default_limit_is_one_mebibyte(log: SqliteEventLog) -> None:
    client = TestClient(create_app(log, BearerAuth(TOKEN)))
    payload = {"dag_id": "dag_a", "run_id": "run_1", "task_id": "t", "try_number": 1}
    small = client.post("/artifacts", json={**payload, "payload": "x" * 1_000_000}, headers=AUTH)
    assert small.status_code == 201
    big = client.post(
        "/artifacts", json={**payload, "try_number": 2, "payload": "x" * 1_048_576}, headers=AUTH
    )
    assert big.status_code == 413


def test_artifacts_only_for_runs_that_exist(client: TestClient, log: SqliteEventLog) -> None:
    artifact = {"dag_id": "dag_a", "run_id": "no_such_run", "task_id": "t", "try_number": 1}
    response = client.post("/artifacts", json=artifact, headers=AUTH)
    assert response.status_code == 404 and "no_such_run" in response.text
    # a run the listener reported (its supplement arrived before the relay logged the run) is known
    supplement = {**_supplement(run_id="new_run"), "append": False}
    assert client.post("/supplements", json=supplement, headers=AUTH).status_code == 200
    assert client.post("/artifacts", json={**artifact, "run_id": "new_run"}, headers=AUTH).status_code == 201


def test_openapi_lists_every_status_code_and_the_md5_pattern(client: TestClient) -> None:
    document = client.get("/openapi.json", headers=AUTH).json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"400", "401", "404", "413", "422"} <= codes, (method, path, codes)
    md5 = document["components"]["schemas"]["ManifestEntry"]["properties"]["md5"]
    assert md5["pattern"] == "^[0-9a-fA-F]{32}$"
    after = next(p for p in document["paths"]["/events"]["get"]["parameters"] if p["name"] == "after")
    assert after["schema"]["maximum"] == 2**53 - 1
