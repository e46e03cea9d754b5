"""`airshift route serve` between two real Airflows: the old side is a 2.11.2 webserver (`/api/v1`,
basic auth), the new side a 3.3.2 api-server (`/api/v2`, JWT), both on PostgreSQL; ownership is
switched in a real cutover journal (SQLite) between calls. The router runs as users run it (the
`airshift` process). Clients in the four shapes (1.10 experimental, v1, v2, Pub/Sub push with a
signed OIDC token) trigger DAGs before and after the switch; the runs on both sides, read through
their own APIs, prove each run landed on the owner exactly once. The status page is checked in
Debian's chromium driven by Playwright."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from airshift.cutover.journal import Journal, open_journal
from tests.state.airflow2_webserver import Webserver, airflow2_webserver
from tests.state.airflow3_target import Target, airflow3_target
from tests.support.route_router import OPS_PASSWORD, PUSH_SA, TOKEN, RouterProcess, route_router, switch_owner

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")


@dataclass
class Stack(RouterProcess):
    old: Webserver
    new: Target
    journal: Journal
    new_token: str

    def owner(self, dag_id: str, side: str) -> None:
        switch_owner(self.journal, dag_id, side)

    def runs_old(self, dag_id: str) -> dict[str, dict[str, Any]]:
        response = httpx.get(f"{self.old.base_url}/api/v1/dags/{dag_id}/dagRuns", params={"limit": 100},
                             auth=self.old.auth, timeout=60)  # fmt: skip
        response.raise_for_status()
        return {run["dag_run_id"]: run for run in response.json()["dag_runs"]}

    def runs_new(self, dag_id: str) -> dict[str, dict[str, Any]]:
        response = httpx.get(f"{self.new.base_url}/api/v2/dags/{dag_id}/dagRuns", params={"limit": 100},
                             headers={"Authorization": f"Bearer {self.new_token}"}, timeout=60)  # fmt: skip
        response.raise_for_status()
        return {run["dag_run_id"]: run for run in response.json()["dag_runs"]}

    def where(self, dag_id: str, run_id: str) -> list[str]:
        """The sides holding this run id, read through each side's own API."""
        return [
            side
            for side, runs in (("old", self.runs_old(dag_id)), ("new", self.runs_new(dag_id)))
            if run_id in runs
        ]


def _start_both(tmp: Path) -> tuple[dict[str, Any], dict[str, AbstractContextManager[Any]]]:
    """Start the two Airflows at the same time (each spends most of its start waiting on itself)."""
    managers: dict[str, AbstractContextManager[Any]] = {
        "old": airflow2_webserver(tmp / "old"),
        "new": airflow3_target(tmp / "new"),
    }
    with ThreadPoolExecutor(2) as pool:
        futures = {name: pool.submit(manager.__enter__) for name, manager in managers.items()}
    started, failure = {}, None
    for name, future in futures.items():
        try:
            started[name] = future.result()
        except BaseException as error:
            failure = error
    if failure is not None:
        for name in started:
            managers[name].__exit__(None, None, None)
        raise failure
    return started, managers


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("route")
    started, managers = _start_both(tmp)
    old: Webserver = started["old"]
    new: Target = started["new"]
    try:
        plan = f"""
[old]
name = "airflow-2.11"
url = "{old.base_url}"
user = "admin"
password_file = "{old.password_file}"

[new]
name = "airflow-3.3"
url = "{new.base_url}"
user = "admin"
password_file = "{new.password_file}"

[cutover]
journal = "journal.sqlite"

[[waves]]
name = "first"
dag_ids = ["etl_daily", "reports_hourly"]
"""
        with route_router(tmp, plan) as router:
            login = httpx.post(f"{new.base_url}/auth/token", timeout=60,
                               json={"username": "admin", "password": new.password_file.read_text().strip()})  # fmt: skip
            with open_journal(tmp / "journal.sqlite") as journal:
                yield Stack(router.url, router.push_key, router.log, old, new, journal,
                            login.json()["access_token"])  # fmt: skip
    finally:
        for manager in managers.values():
            manager.__exit__(None, None, None)


def _ids() -> str:
    return uuid.uuid4().hex[:8]


def test_every_shape_lands_on_the_owner_exactly_once_across_the_switch(stack: Stack) -> None:
    dag = "etl_daily"
    stack.owner(dag, "old")
    tag = _ids()
    before = {
        "experimental": stack.call("POST", f"/api/experimental/dags/{dag}/dag_runs",
                                   json={"run_id": f"exp-{tag}", "conf": json.dumps({"k": 1}), "replace_microseconds": "false"}),
        "v1": stack.call("POST", f"/api/v1/dags/{dag}/dagRuns", json={"dag_run_id": f"v1-{tag}", "conf": {"k": 2}}),
        "v2": stack.call("POST", f"/api/v2/dags/{dag}/dagRuns",
                         json={"dag_run_id": f"v2-{tag}", "logical_date": "2026-02-01T00:00:00+00:00", "conf": {"k": 3}}),
        "pubsub": stack.push(f"m{tag}", {"dag_id": dag}, {"k": 4}),
    }  # fmt: skip
    assert {shape: r.status_code for shape, r in before.items()} == dict.fromkeys(before, 200), {
        shape: r.text for shape, r in before.items()
    }
    # Each caller hears its own shape back.
    assert set(before["experimental"].json()) == {"message", "execution_date", "run_id"}
    assert before["experimental"].json()["run_id"] == f"exp-{tag}"
    assert before["v1"].json()["dag_run_id"] == f"v1-{tag}" and "execution_date" in before["v1"].json()
    assert (
        before["v2"].json()["logical_date"] == "2026-02-01T00:00:00Z"
        and "dag_versions" in before["v2"].json()
    )
    assert before["pubsub"].json() == {
        "dag_id": dag,
        "dag_run_id": f"pubsub__m{tag}",
        "side": "old",
        "created": True,
    }
    old_runs = stack.runs_old(dag)
    for run_id in (f"exp-{tag}", f"v1-{tag}", f"v2-{tag}", f"pubsub__m{tag}"):
        assert stack.where(dag, run_id) == ["old"], run_id
    assert old_runs[f"exp-{tag}"]["conf"] == {"k": 1} and old_runs[f"pubsub__m{tag}"]["conf"] == {"k": 4}

    stack.owner(dag, "new")
    after = {
        "experimental": stack.call("POST", f"/api/experimental/dags/{dag}/dag_runs",
                                   json={"run_id": f"exp2-{tag}", "execution_date": "2026-03-01T05:06:07"}),
        "v1": stack.call("POST", f"/api/v1/dags/{dag}/dagRuns", json={"dag_run_id": f"v1b-{tag}", "conf": {"k": 6}}),
        "v2": stack.call("POST", f"/api/v2/dags/{dag}/dagRuns", json={"dag_run_id": f"v2b-{tag}", "logical_date": None}),
        "pubsub": stack.push(f"n{tag}", {}, {"dag_id": dag, "conf": {"k": 8}}),
    }  # fmt: skip
    assert {shape: r.status_code for shape, r in after.items()} == dict.fromkeys(after, 200), {
        shape: r.text for shape, r in after.items()
    }
    assert after["experimental"].json()["execution_date"] == "2026-03-01T05:06:07+00:00"
    assert after["v1"].json()["external_trigger"] is True and after["v1"].json()["state"] == "queued"
    assert after["v2"].json()["logical_date"] is None and after["v2"].json()["run_type"] == "manual"
    for run_id in (f"exp2-{tag}", f"v1b-{tag}", f"v2b-{tag}", f"pubsub__n{tag}"):
        assert stack.where(dag, run_id) == ["new"], run_id
    new_runs = stack.runs_new(dag)
    assert new_runs[f"exp2-{tag}"]["logical_date"] == "2026-03-01T05:06:07Z"
    assert new_runs[f"pubsub__n{tag}"]["conf"] == {"k": 8}

    # The same run ids again, now that the new side owns the DAG: no second run anywhere.
    again = {
        "experimental": stack.call("POST", f"/api/experimental/dags/{dag}/dag_runs", json={"run_id": f"exp-{tag}"}),
        "v1": stack.call("POST", f"/api/v1/dags/{dag}/dagRuns", json={"dag_run_id": f"v1b-{tag}"}),
        "v2": stack.call("POST", f"/api/v2/dags/{dag}/dagRuns", json={"dag_run_id": f"v2-{tag}", "logical_date": None}),
        "pubsub": stack.push(f"m{tag}", {"dag_id": dag}, {"k": 4}),  # redelivered after the switch
    }  # fmt: skip
    assert again["experimental"].status_code == 400
    assert again["experimental"].json() == {"error": f"Run id exp-{tag} already exists for dag id {dag}"}
    assert again["v1"].status_code == 409 and again["v1"].json()["title"] == "Conflict"
    assert again["v2"].status_code == 409 and "already exists" in again["v2"].json()["detail"]
    assert again["pubsub"].status_code == 200
    assert again["pubsub"].json() == {
        "dag_id": dag,
        "dag_run_id": f"pubsub__m{tag}",
        "side": "old",
        "created": False,
    }

    # Exactly once: every run id of this test on exactly one side, the side that owned the DAG then.
    expected = {f"exp-{tag}": "old", f"v1-{tag}": "old", f"v2-{tag}": "old", f"pubsub__m{tag}": "old",
                f"exp2-{tag}": "new", f"v1b-{tag}": "new", f"v2b-{tag}": "new", f"pubsub__n{tag}": "new"}  # fmt: skip
    old_ids = {run_id for run_id in stack.runs_old(dag) if tag in run_id}
    new_ids = {run_id for run_id in stack.runs_new(dag) if tag in run_id}
    assert old_ids == {r for r, side in expected.items() if side == "old"}
    assert new_ids == {r for r, side in expected.items() if side == "new"}


def test_status_polls_answer_in_the_callers_shape_from_either_side(stack: Stack) -> None:
    dag = "reports_hourly"
    tag = _ids()
    stack.owner(dag, "old")
    made_old = stack.call("POST", f"/api/v1/dags/{dag}/dagRuns",
                          json={"dag_run_id": f"p-old-{tag}", "logical_date": "2026-04-01T01:02:03+00:00"})  # fmt: skip
    assert made_old.status_code == 200, made_old.text
    stack.owner(dag, "new")
    made_new = stack.call("POST", f"/api/experimental/dags/{dag}/dag_runs",
                          json={"run_id": f"p-new-{tag}", "execution_date": "2026-04-02T01:02:03"})  # fmt: skip
    assert made_new.status_code == 200, made_new.text

    # v2 caller reads a run that lives on the old 2.11 side: a DAGRunResponse.
    v2_old = stack.call("GET", f"/api/v2/dags/{dag}/dagRuns/p-old-{tag}")
    assert v2_old.status_code == 200
    assert v2_old.json()["logical_date"] == "2026-04-01T01:02:03Z" and "queued_at" in v2_old.json()
    # v1 caller reads a run on the new 3.3 side: a DAGRun.
    v1_new = stack.call("GET", f"/api/v1/dags/{dag}/dagRuns/p-new-{tag}")
    assert v1_new.status_code == 200
    assert (
        v1_new.json()["execution_date"] == "2026-04-02T01:02:03+00:00"
        and v1_new.json()["external_trigger"] is True
    )
    # 1.10 callers poll by execution date (naive, read as UTC) and hear only the state.
    exp_new = stack.call("GET", f"/api/experimental/dags/{dag}/dag_runs/2026-04-02T01:02:03")
    assert exp_new.status_code == 200 and exp_new.json() == {"state": "queued"}
    exp_old = stack.call("GET", f"/api/experimental/dags/{dag}/dag_runs/2026-04-01T01:02:03+00:00")
    assert exp_old.json() == {"state": "queued"}
    listing = stack.call("GET", f"/api/experimental/dags/{dag}/dag_runs")
    assert {f"p-old-{tag}", f"p-new-{tag}"} <= {item["run_id"] for item in listing.json()}
    # Missing runs, each shape its own way.
    assert stack.call("GET", f"/api/v2/dags/{dag}/dagRuns/nope-{tag}").json() == {
        "detail": f"DAGRun 'nope-{tag}' of DAG '{dag}' not found"
    }
    assert stack.call("GET", f"/api/v1/dags/{dag}/dagRuns/nope-{tag}").json()["status"] == 404
    missing = stack.call("GET", f"/api/experimental/dags/{dag}/dag_runs/1999-01-01T00:00:00")
    assert missing.status_code == 404 and "error" in missing.json()
    bad_date = stack.call("GET", f"/api/experimental/dags/{dag}/dag_runs/not-a-date")
    assert bad_date.status_code == 400 and "could not be identified as a date" in bad_date.json()["error"]


@pytest.mark.parametrize("owner", ["old", "new"])
def test_bad_tokens_bodies_and_dag_ids_get_clear_errors(stack: Stack, owner: str) -> None:
    stack.owner("ghost_dag", owner)
    wrong = {"Authorization": "Bearer wrong-token-0123456789abcdef"}
    assert stack.call("POST", "/api/v1/dags/etl_daily/dagRuns", json={}, headers=wrong).status_code == 401
    assert stack.call(
        "POST", "/api/v2/dags/etl_daily/dagRuns", json={"logical_date": None}, headers=wrong
    ).json() == {"detail": "the bearer token is not accepted"}
    assert (
        stack.call("POST", "/api/experimental/dags/etl_daily/dag_runs", json={}, headers=wrong).status_code
        == 401
    )
    forged = jwt.encode({"aud": f"{stack.url}/pubsub", "iss": "https://accounts.google.com", "exp": int(time.time()) + 60,
                         "iat": int(time.time()), "email": PUSH_SA, "email_verified": True},
                        rsa.generate_private_key(public_exponent=65537, key_size=2048), algorithm="RS256",
                        headers={"kid": "push-key"})  # fmt: skip
    assert stack.push(_ids(), {"dag_id": "etl_daily"}, token=forged).status_code == 401

    assert (
        stack.call(
            "POST", "/api/v2/dags/etl_daily/dagRuns", json={"execution_date": "2026-01-01"}
        ).status_code
        == 422
    )
    assert (
        stack.call(
            "POST", "/api/v1/dags/etl_daily/dagRuns", json={"logical_date": "2026-01-01T00:00:00"}
        ).status_code
        == 400
    )
    assert (
        stack.call("POST", "/api/experimental/dags/etl_daily/dag_runs", json={"conf": "[1]"}).status_code
        == 400
    )

    unknown = {
        "experimental": stack.call("POST", "/api/experimental/dags/ghost_dag/dag_runs", json={}),
        "v1": stack.call("POST", "/api/v1/dags/ghost_dag/dagRuns", json={}),
        "v2": stack.call("POST", "/api/v2/dags/ghost_dag/dagRuns", json={"logical_date": None}),
        "pubsub": stack.push(_ids(), {"dag_id": "ghost_dag"}),
    }
    assert {shape: r.status_code for shape, r in unknown.items()} == dict.fromkeys(unknown, 404), {
        shape: r.text for shape, r in unknown.items()
    }
    assert unknown["experimental"].json() == {
        "error": f"DAG 'ghost_dag' not found on the {owner} side, which owns it"
    }
    assert unknown["v1"].json()["title"] == "Not Found"
    assert "ghost_dag" in unknown["v2"].json()["detail"]
    log = stack.log.read_text(errors="replace")
    assert TOKEN not in log and OPS_PASSWORD not in log
    for password_file in (stack.old.password_file, stack.new.password_file):
        assert password_file.read_text().strip() not in log


def test_status_page_in_chromium_shows_wave_owners_and_a_planted_problem(stack: Stack) -> None:
    if not CHROMIUM.exists():
        message = "Debian's chromium is not installed (apt-get install chromium; .ci/run does it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    stack.owner("etl_daily", "new")
    stack.owner("reports_hourly", "old")
    planted = f"planted problem {_ids()}: drain timed out"
    stack.journal.record_step("reports_hourly", "drain", wave="first", status="failed", message=planted)

    data = stack.call("GET", "/status.json").json()
    assert data["waves"][0]["name"] == "first"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            context = browser.new_context(http_credentials={"username": "ops", "password": OPS_PASSWORD})
            page = context.new_page()
            deadline = time.monotonic() + 60
            while True:  # the router reuses a status collection for a few seconds
                response = page.goto(stack.url + "/")
                assert response is not None and response.status == 200
                if planted in page.inner_text("body") or time.monotonic() > deadline:
                    break
                time.sleep(1)
            assert "Wave 1: first" in page.inner_text("section.wave h2")
            etl = page.locator("tr.dag-row[data-dag-id='etl_daily']")
            reports = page.locator("tr.dag-row[data-dag-id='reports_hourly']")
            assert etl.get_attribute("data-owner") == "new"
            assert reports.get_attribute("data-owner") == "old"
            assert planted in reports.locator("td.problems").inner_text()
            assert "has-problems" in (reports.get_attribute("class") or "")
        finally:
            browser.close()
