"""The whole app built from a plan file, with both Airflows unreachable (closed ports on 127.0.0.1):
every shape authenticates first, then answers "owner down" its own way; nothing is created anywhere.
The behaviour against real Airflows is in tests/integration/test_route_airflow.py."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import bcrypt
import pytest
from fastapi.testclient import TestClient

from airshift.cutover.journal import open_journal
from airshift.errors import AirshiftError
from airshift.route.serve import ServeOptions, build_app
from tests.state.airflow_envs import free_port

TOKEN = "route-test-token-0123456789abcdef"


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    (tmp_path / "pw").write_text("secret-password\n")
    plan = tmp_path / "plan.toml"
    plan.write_text(
        f"""
[old]
url = "http://127.0.0.1:{free_port()}"
api = "v1"
user = "admin"
password_file = "pw"
timeout = 5

[new]
url = "http://127.0.0.1:{free_port()}"
api = "v2"
user = "admin"
password_file = "pw"
timeout = 5

[cutover]
journal = "journal.sqlite"

[[waves]]
name = "first"
dag_ids = ["etl"]
"""
    )
    with open_journal(tmp_path / "journal.sqlite") as journal:
        journal.record_step("etl", "switched", wave="first", owner="new")
    (tmp_path / "tokens").write_text(f"tester {TOKEN}\n")
    (tmp_path / "htpasswd").write_text(
        "ops:" + bcrypt.hashpw(b"ops-password", bcrypt.gensalt(4)).decode() + "\n"
    )
    app = build_app(ServeOptions(plan=plan, tokens_file=tmp_path / "tokens", htpasswd=tmp_path / "htpasswd"))
    return TestClient(app)


AUTH = {"Authorization": f"Bearer {TOKEN}"}
PUSH = {"message": {"messageId": "77", "attributes": {"dag_id": "etl"}}, "subscription": "s"}


def test_owner_down_is_503_in_every_shape(client: TestClient) -> None:
    answers = {
        "experimental": client.post("/api/experimental/dags/etl/dag_runs", json={"conf": {}}, headers=AUTH),
        "v1": client.post("/api/v1/dags/etl/dagRuns", json={"conf": {}}, headers=AUTH),
        "v2": client.post("/api/v2/dags/etl/dagRuns", json={"logical_date": None}, headers=AUTH),
        "pubsub": client.post("/pubsub", json=PUSH, headers=AUTH),
    }
    assert {shape: answer.status_code for shape, answer in answers.items()} == dict.fromkeys(answers, 503)
    assert "new Airflow" in answers["experimental"].json()["error"]
    assert answers["v1"].json()["status"] == 503
    assert answers["v1"].headers["content-type"].startswith("application/problem+json")
    assert "cannot be reached" in answers["v2"].json()["detail"]
    assert "secret-password" not in json.dumps([a.json() for a in answers.values()])


def test_status_polls_with_owner_down_are_503(client: TestClient) -> None:
    assert client.get("/api/v1/dags/etl/dagRuns/r", headers=AUTH).status_code == 503
    assert client.get("/api/v2/dags/etl/dagRuns/r", headers=AUTH).status_code == 503
    assert (
        client.get("/api/experimental/dags/etl/dag_runs/2026-01-01T00:00:00", headers=AUTH).status_code == 503
    )


def test_credentials_are_checked_before_anything_else(client: TestClient) -> None:
    wrong = {"Authorization": "Bearer not-the-token-at-all"}
    assert client.post("/api/experimental/dags/etl/dag_runs", json={}, headers=wrong).json() == {
        "error": "the bearer token is not accepted"
    }
    assert client.post("/api/v1/dags/etl/dagRuns", json={}).json()["title"] == "Unauthorized"
    assert client.post("/api/v2/dags/etl/dagRuns", json={}, headers=wrong).status_code == 401
    assert client.post("/pubsub", json=PUSH).status_code == 401
    assert client.get("/status.json").status_code == 401
    page = client.get("/")
    assert page.status_code == 401 and page.headers["www-authenticate"].startswith("Basic")
    basic = "Basic " + base64.b64encode(b"ops:wrong").decode()
    assert client.get("/api/experimental/test", headers={"Authorization": basic}).status_code == 401
    good = "Basic " + base64.b64encode(b"ops:ops-password").decode()
    assert client.get("/api/experimental/test", headers={"Authorization": good}).json() == {"status": "OK"}


def test_bad_bodies_are_refused_before_the_owner_is_asked(client: TestClient) -> None:
    assert client.post("/api/experimental/dags/etl/dag_runs", content=b"{", headers=AUTH).status_code == 400
    assert client.post("/api/v1/dags/etl/dagRuns", json={"state": "running"}, headers=AUTH).status_code == 400
    assert (
        client.post("/api/v2/dags/etl/dagRuns", json={"execution_date": None}, headers=AUTH).status_code
        == 422
    )
    assert client.post("/pubsub", json={"message": {}}, headers=AUTH).status_code == 400


def test_status_page_lists_the_plan_with_both_sides_down(client: TestClient) -> None:
    data = client.get("/status.json", headers=AUTH).json()
    assert data["waves"][0]["dags"][0]["owner"] == "new"
    assert any("cannot be reached" in problem for problem in data["problems"])


def test_serving_needs_an_auth_method(tmp_path: Path) -> None:
    with pytest.raises(AirshiftError, match="no way to authenticate"):
        build_app(ServeOptions(plan=tmp_path / "missing.toml"))
    with pytest.raises(AirshiftError, match="cannot read plan file"):
        build_app(ServeOptions(plan=tmp_path / "missing.toml", allow_anonymous=True))


def test_an_unreadable_journal_is_a_clear_503(client: TestClient, tmp_path: Path) -> None:
    (tmp_path / "journal.sqlite").write_bytes(b"this is not a database" * 100)
    answer = client.post("/api/v2/dags/etl/dagRuns", json={"logical_date": None}, headers=AUTH)
    assert answer.status_code == 503 and "journal cannot be read" in answer.json()["detail"]
    status = client.get("/status.json", headers=AUTH)
    assert status.status_code == 503 and "cutover status cannot be collected" in status.json()["detail"]
    page = client.get("/", headers=AUTH)
    assert page.status_code == 503 and "cannot be collected" in page.text
