"""The EventStream API through FastAPI's TestClient over a real SQLite event log."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path
from typing import ClassVar

import pytest
from events_helpers import task_event
from fastapi import Header, HTTPException
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from airshift.events.api import BearerAuth, create_app
from airshift.events.model import NewEvent
from airshift.events.runs import fold_run
from airshift.events.stores.sqlite import SqliteEventLog

TOKEN = "s3cret-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def log(tmp_path: Path) -> SqliteEventLog:
    return SqliteEventLog(tmp_path / "events.db")


@pytest.fixture
def client(log: SqliteEventLog) -> TestClient:
    return TestClient(create_app(log, BearerAuth(TOKEN)))


def run_event(state: str, attempt: int = 0, at: str = "2026-01-01T00:00:00Z") -> NewEvent:
    return NewEvent(
        kind="dag_run", dag_id="dag_a", run_id="run_1", try_number=attempt, state=state, changed_at=at
    )


def test_every_route_refuses_a_missing_or_wrong_token(log: SqliteEventLog) -> None:
    app = create_app(log, BearerAuth(TOKEN))
    client = TestClient(app)
    routes = [r for r in app.routes if isinstance(r, APIRoute)]
    assert {r.path for r in routes} >= {"/events", "/runs/{dag_id}/{run_id}", "/artifacts", "/openapi.json"}
    for route in routes:
        path = route.path.replace("{dag_id}", "d").replace("{run_id}", "r")
        for method in route.methods:
            for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
                response = client.request(method, path, headers=headers)
                assert response.status_code == 401, (method, path, headers)
    assert client.get("/docs").status_code == 404


def test_openapi_is_published_behind_the_token(client: TestClient) -> None:
    document = client.get("/openapi.json", headers=AUTH).json()
    assert {"/events", "/runs/{dag_id}", "/runs/{dag_id}/{run_id}", "/artifacts", "/supplements"} <= set(
        document["paths"]
    )
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_events_after_an_offset_with_filters(client: TestClient, log: SqliteEventLog) -> None:
    log.append([task_event("a", "queued"), task_event("b", "queued"), task_event("a", "running")])
    page = client.get("/events", params={"after": 1, "task_id": "a"}, headers=AUTH).json()
    assert [(e["offset"], e["state"]) for e in page["events"]] == [(3, "running")]
    assert page["next_after"] == 3 and page["last_offset"] == 3
    empty = client.get("/events", params={"after": 3}, headers=AUTH).json()
    assert empty["events"] == [] and empty["next_after"] == 3
    assert client.get("/events", params={"limit": 0}, headers=AUTH).status_code == 422


def test_long_poll_returns_when_an_event_arrives(client: TestClient, log: SqliteEventLog) -> None:
    def later() -> None:
        time.sleep(0.3)
        log.append([task_event("a", "queued")])

    thread = threading.Thread(target=later)
    thread.start()
    page = client.get("/events", params={"after": 0, "wait": 30}, headers=AUTH).json()
    thread.join()
    assert [e["state"] for e in page["events"]] == ["queued"]


def test_run_status_answers_complete_pending_stuck_and_reruns(
    client: TestClient, log: SqliteEventLog
) -> None:
    log.append(
        [
            run_event("queued"),
            run_event("running"),
            task_event("extract", "running", 1, changed_at="2026-01-01T00:00:01Z"),
            task_event("extract", "up_for_retry", 1, previous="running", changed_at="2026-01-01T00:00:02Z"),
            task_event("extract", "running", 2, changed_at="2026-01-01T00:00:03Z"),
            task_event("extract", "success", 2, previous="running", changed_at="2026-01-01T00:00:04Z"),
            task_event("load", "queued", 1, changed_at="2026-01-01T00:00:05Z"),
        ]
    )
    view = client.get("/runs/dag_a/run_1", headers=AUTH).json()
    assert view["complete"] is False and view["state"] == "running" and view["pending"] == ["load"]
    assert view["stuck_for_seconds"] > 0
    extract = next(t for t in view["tasks"] if t["task_id"] == "extract")
    assert [(t["try_number"], t["states"]) for t in extract["tries"]] == [
        (1, ["running", "up_for_retry"]),
        (2, ["running", "success"]),
    ]
    load = next(t for t in view["tasks"] if t["task_id"] == "load")
    assert load["pending_for_seconds"] > 0 and load["terminal"] is False

    # The run finishes, then is cleared and runs again: a new attempt, not complete any more.
    log.append([task_event("load", "success", 1), run_event("success")])
    assert client.get("/runs/dag_a/run_1", headers=AUTH).json()["complete"] is True
    log.append([run_event("queued", attempt=1)])
    again = client.get("/runs/dag_a/run_1", headers=AUTH).json()
    assert (again["attempt"], again["state"], again["complete"]) == (1, "queued", False)
    assert client.get("/runs/dag_a/nope", headers=AUTH).status_code == 404
    assert [r["run_id"] for r in client.get("/runs/dag_a", headers=AUTH).json()] == ["run_1"]


def test_fold_run_measures_stuck_time_from_the_last_change() -> None:
    from airshift.events.model import Event

    event = Event(
        **task_event("t", "queued", changed_at="2026-01-01T00:00:00Z").model_dump(),
        offset=1,
        logged_at="2026-01-01T00:00:00Z",
    )
    now = dt.datetime(2026, 1, 1, 0, 10, tzinfo=dt.timezone.utc)
    view = fold_run("dag_a", "run_1", [event], now=now)
    assert view.stuck_for_seconds == 600 and view.tasks[0].pending_for_seconds == 600


def test_artifacts_publish_once_per_try_and_read_back(client: TestClient, log: SqliteEventLog) -> None:
    log.append([task_event("export", "running", run_id="other_run")])
    artifact = {
        "dag_id": "dag_a", "run_id": "run_1", "task_id": "export", "try_number": 1,
        "payload": {"rows": 42}, "payload_uri": "s3://bucket/export/run_1/",
        "manifest": [{"path": "part-0.csv", "md5": "0cc175b9c0f1b6a831c399e269772661", "size": 1}],
    }  # fmt: skip
    unknown = client.post("/artifacts", json=artifact, headers=AUTH)
    assert unknown.status_code == 404 and "run_1" in unknown.text  # no event of that run yet
    log.append([task_event("export", "running")])
    first = client.post("/artifacts", json=artifact, headers=AUTH)
    assert first.status_code == 201 and first.json() == {"offset": 3, "duplicate": False}
    assert client.post("/artifacts", json=artifact, headers=AUTH).json() == {
        "offset": None,
        "duplicate": True,
    }
    read = client.get("/artifacts/dag_a/run_1", headers=AUTH).json()
    assert read[0]["detail"]["payload"] == {"rows": 42}
    assert read[0]["detail"]["manifest"][0]["md5"] == "0cc175b9c0f1b6a831c399e269772661"
    bad = dict(artifact, manifest=[{"path": "x", "md5": "not-an-md5"}])
    response = client.post("/artifacts", json=bad, headers=AUTH)
    assert response.status_code == 422 and "md5" in response.text
    export = client.get("/runs/dag_a/run_1", headers=AUTH).json()
    assert [task["state"] for task in export["tasks"]] == ["running"]  # an artifact is not a task state


def test_supplements_annotate_or_append(client: TestClient, log: SqliteEventLog) -> None:
    failed = task_event("a", "failed")
    log.append([failed])
    body = {"event": _from_listener(failed), "detail": {"error": "boom", "hostname": "w1"}}
    assert client.post("/supplements", json=body, headers=AUTH).json()["duplicate"] is True
    assert log.read(0, 10)[0].detail == {"error": "boom", "hostname": "w1"}
    listener_only = task_event("b", "success")
    body = {"event": _from_listener(listener_only), "detail": {"hostname": "w2"}, "append": True}
    assert client.post("/supplements", json=body, headers=AUTH).json() == {"offset": 2, "duplicate": False}


def _from_listener(event: NewEvent) -> dict[str, object]:
    return {**event.model_dump(), "source": "listener"}


class _PerUserDags:
    """A per-DAG policy like an auth manager's: who may read and who may write which DAG."""

    readers: ClassVar = {"alice": frozenset({"dag_a"}), "bob": frozenset({"dag_a", "dag_b"})}
    writers: ClassVar = {"bob": frozenset({"dag_b"})}

    def readable_dags(self, user: str) -> frozenset[str] | None:
        return self.readers.get(user, frozenset())

    def may(self, user: str, action: str, dag_id: str) -> bool:
        table = self.readers if action == "read" else self.writers
        return dag_id in table.get(user, frozenset())


def _user_from_header(authorization: str = Header("")) -> str:
    user = authorization.removeprefix("User ")
    if not user:
        raise HTTPException(401, "who are you?")
    return user


def test_each_user_sees_and_writes_only_the_dags_they_may(log: SqliteEventLog) -> None:
    log.append([task_event("t", "running", dag_id=dag) for dag in ("dag_a", "dag_b", "dag_c")])
    client = TestClient(create_app(log, _user_from_header, access=_PerUserDags()))
    as_alice, as_bob, as_carol = ({"Authorization": f"User {name}"} for name in ("alice", "bob", "carol"))

    def dags_seen(headers: dict[str, str]) -> list[str]:
        response = client.get("/events", headers=headers)
        assert response.status_code == 200
        return [event["dag_id"] for event in response.json()["events"]]

    assert dags_seen(as_alice) == ["dag_a"]
    assert dags_seen(as_bob) == ["dag_a", "dag_b"]
    assert dags_seen(as_carol) == []  # no readable DAG: nothing, not everything
    assert client.get("/events", params={"dag_id": "dag_b"}, headers=as_alice).status_code == 403
    assert client.get("/events", params={"dag_id": "dag_b"}, headers=as_bob).status_code == 200
    assert client.get("/runs/dag_b", headers=as_alice).status_code == 403
    assert client.get("/runs/dag_b/run_1", headers=as_alice).status_code == 403
    assert client.get("/artifacts/dag_b/run_1", headers=as_alice).status_code == 403
    artifact = {"dag_id": "dag_b", "run_id": "run_1", "task_id": "t", "try_number": 1, "payload": {"n": 1}}
    assert client.post("/artifacts", json=artifact, headers=as_alice).status_code == 403
    assert client.post("/artifacts", json=artifact, headers=as_bob).status_code == 201
    assert client.post("/artifacts", json={**artifact, "dag_id": "dag_a"}, headers=as_bob).status_code == 403
    assert client.get("/events").status_code == 401
