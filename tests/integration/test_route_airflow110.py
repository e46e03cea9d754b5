"""`airshift route serve` with a live Airflow 1.10.15 as the old side (webserver with the experimental
API at /api/experimental, `default` auth backend, on PostgreSQL), as a Composer 1 estate has it, and the
shared live Airflow 3.3.2 (`cutover_new_side`) as the new side. Ownership is switched in a real cutover
journal between calls; the router runs as users run it (the `airshift` process).

Clients in the four shapes (1.10 experimental, v1, v2, Pub/Sub push) trigger DAGs before and after the
switch. Every run is then looked up where it must be: on 1.10 in its metadata database (conf is a
pickle there; 1.10's API lists no conf) and through its experimental API, on 3.3 through /api/v2.
1.10 keys runs by execution date, so a taken date (two triggers without a date in one second among
them) must come back as a conflict in the caller's shape, with one run made, never a 500 and never a
second success for one run."""

from __future__ import annotations

import json
import pickle
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from airshift.cutover.journal import Journal, open_journal
from tests.state.airflow3_target import Target
from tests.state.airflow110_webserver import Webserver110, airflow110_webserver
from tests.support.route_router import RouterProcess, route_router, switch_owner

pytestmark = pytest.mark.integration

DAG_IDS = ("r110_etl", "r110_poll", "r110_dates", "r110_late")

DAGS_110 = textwrap.dedent(
    """\
    from datetime import datetime
    from airflow import DAG
    from airflow.operators.dummy_operator import DummyOperator

    for dag_id in ("r110_etl", "r110_poll", "r110_dates"):
        with DAG(dag_id, start_date=datetime(2024, 1, 1), schedule_interval=None) as dag:
            DummyOperator(task_id="noop")
        globals()[dag_id] = dag

    # 1.10 refuses (with a 500) a trigger dated before a start_date in default_args.
    with DAG("r110_late", default_args={"start_date": datetime(2026, 1, 1)}, schedule_interval=None) as late:
        DummyOperator(task_id="noop")
    """
)

DAGS_3 = textwrap.dedent(
    f"""\
    from datetime import datetime
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.empty import EmptyOperator

    for dag_id in {DAG_IDS!r}:
        with DAG(dag_id, start_date=datetime(2024, 1, 1), schedule=None) as dag:
            EmptyOperator(task_id="noop")
        globals()[dag_id] = dag
    """
)

# 1.10 has no `dags reserialize`: its scheduler registers DAGs. Registering them directly keeps a
# scheduler (and its CPU) out of this test; triggered runs then stay RUNNING, which the polls read.
REGISTER_110 = textwrap.dedent(
    """\
    from airflow.models import DagBag
    bag = DagBag(include_examples=False)
    assert not bag.import_errors, bag.import_errors
    for dag in bag.dags.values():
        dag.sync_to_db()
    print("@@" + ",".join(sorted(bag.dags)))
    """
)


@dataclass
class Stack110(RouterProcess):
    old: Webserver110
    new: Target
    journal: Journal

    def owner(self, dag_id: str, side: str) -> None:
        switch_owner(self.journal, dag_id, side)

    def old_api(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.get(f"{self.old.base_url}/api/experimental{path}", timeout=60, **kwargs)

    def runs_old(self, dag_id: str) -> dict[str, dict[str, Any]]:
        """1.10's runs of the DAG from its metadata database, conf unpickled."""
        engine = create_engine(self.old.db_url.replace("postgresql://", "postgresql+psycopg://"))
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    text("SELECT run_id, execution_date, state, conf, external_trigger FROM dag_run "
                         "WHERE dag_id = :dag"), {"dag": dag_id},
                ).all()  # fmt: skip
        finally:
            engine.dispose()
        return {
            run_id: {
                "execution_date": date,
                "state": state,
                "external_trigger": external,
                "conf": pickle.loads(conf) if conf is not None else None,
            }
            for run_id, date, state, conf, external in rows
        }

    def runs_old_api(self, dag_id: str) -> set[str]:
        """The run ids 1.10's own experimental API lists for the DAG."""
        response = self.old_api(f"/dags/{dag_id}/dag_runs")
        response.raise_for_status()
        return {item["run_id"] for item in response.json()}

    def runs_new(self, dag_id: str) -> dict[str, dict[str, Any]]:
        token = httpx.post(f"{self.new.base_url}/auth/token", timeout=60,
                           json={"username": "admin", "password": self.new.password_file.read_text().strip()})  # fmt: skip
        response = httpx.get(f"{self.new.base_url}/api/v2/dags/{dag_id}/dagRuns", params={"limit": 100},
                             headers={"Authorization": f"Bearer {token.json()['access_token']}"}, timeout=60)  # fmt: skip
        response.raise_for_status()
        return {run["dag_run_id"]: run for run in response.json()["dag_runs"]}

    def router_log(self) -> str:
        return self.log.read_text(errors="replace")


def _start_110(root: Any, stack: ExitStack, box: dict[str, Any]) -> None:
    try:
        old = stack.enter_context(airflow110_webserver(root / "old", DAGS_110))
        registered = old.env.python(REGISTER_110).split("@@", 1)[1].strip().split(",")
        assert set(DAG_IDS) <= set(registered), registered
        box["old"] = old
    except BaseException as error:  # handed to the main thread
        box["error"] = error


@pytest.fixture(scope="module")
def stack110(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Stack110]:
    root = tmp_path_factory.mktemp("route110")
    with ExitStack() as stack:
        # The 1.10 webserver starts while the shared 3.3 side starts (or is already up).
        box: dict[str, Any] = {}
        starter = threading.Thread(target=_start_110, args=(root, stack, box))
        starter.start()
        try:
            new: Target = request.getfixturevalue("cutover_new_side")
            new.add_dag_file("route_110", DAGS_3, list(DAG_IDS))
        finally:
            starter.join()
        if "error" in box:
            raise box["error"]
        old: Webserver110 = box["old"]
        plan = f"""
[old]
name = "composer-1"
url = "{old.base_url}"

[new]
name = "airflow-3.3"
url = "{new.base_url}"
user = "admin"
password_file = "{new.password_file}"

[cutover]
journal = "journal.sqlite"

[[waves]]
name = "first"
dag_ids = {json.dumps(list(DAG_IDS))}
"""
        router = stack.enter_context(route_router(root, plan))
        journal = stack.enter_context(open_journal(root / "journal.sqlite"))
        yield Stack110(router.url, router.push_key, router.log, old, new, journal)


def _tag() -> str:
    return uuid.uuid4().hex[:8]


def _statuses(answers: dict[str, httpx.Response]) -> dict[str, int]:
    return {shape: answer.status_code for shape, answer in answers.items()}


def test_every_shape_lands_on_the_owner_exactly_once_across_the_switch(stack110: Stack110) -> None:
    s, dag, tag = stack110, "r110_etl", _tag()
    s.owner(dag, "old")
    before = {
        "experimental": s.call("POST", f"/api/experimental/dags/{dag}/dag_runs",
                               json={"run_id": f"exp-{tag}", "conf": json.dumps({"k": 1}), "replace_microseconds": "false"}),
        "v1": s.call("POST", f"/api/v1/dags/{dag}/dagRuns", json={"dag_run_id": f"v1-{tag}", "conf": {"k": 2}}),
        "v2": s.call("POST", f"/api/v2/dags/{dag}/dagRuns",
                     json={"dag_run_id": f"v2-{tag}", "logical_date": "2026-02-01T00:00:00+00:00", "conf": {"k": 3}}),
        "pubsub": s.push(f"m{tag}", {"dag_id": dag}, {"k": 4}),
        "v2-no-date": s.call("POST", f"/api/v2/dags/{dag}/dagRuns",
                             json={"dag_run_id": f"v2n-{tag}", "logical_date": None, "conf": {"k": 5}}),
    }  # fmt: skip
    assert _statuses(before) == dict.fromkeys(before, 200), {k: r.text for k, r in before.items()}
    # Each caller hears its own shape back, conf included where the shape has it.
    exp = before["experimental"].json()
    assert set(exp) == {"message", "execution_date", "run_id"} and exp["run_id"] == f"exp-{tag}"
    assert exp["message"].startswith(f"Created <DagRun {dag} @ ")
    v1 = before["v1"].json()
    assert v1["dag_run_id"] == f"v1-{tag}" and v1["conf"] == {"k": 2}
    assert v1["state"] == "running" and v1["external_trigger"] is True and v1["run_type"] == "manual"
    v2 = before["v2"].json()
    assert v2["logical_date"] == "2026-02-01T00:00:00Z" and v2["conf"] == {"k": 3} and "dag_versions" in v2
    assert before["pubsub"].json() == {
        "dag_id": dag,
        "dag_run_id": f"pubsub__m{tag}",
        "side": "old",
        "created": True,
    }
    # 1.10 has no run without a date: a v2 null-date trigger gets the moment it was forwarded.
    assert before["v2-no-date"].json()["logical_date"] is not None

    old_runs = s.runs_old(dag)
    confs = {f"exp-{tag}": {"k": 1}, f"v1-{tag}": {"k": 2}, f"v2-{tag}": {"k": 3}, f"pubsub__m{tag}": {"k": 4},
             f"v2n-{tag}": {"k": 5}}  # fmt: skip
    assert {run_id: old_runs[run_id]["conf"] for run_id in confs} == confs
    assert all(old_runs[run_id]["external_trigger"] for run_id in confs)
    assert set(confs) <= s.runs_old_api(dag)

    s.owner(dag, "new")
    after = {
        "experimental": s.call("POST", f"/api/experimental/dags/{dag}/dag_runs",
                               json={"run_id": f"exp2-{tag}", "execution_date": "2026-03-01T05:06:07", "conf": {"k": 6}}),
        "v1": s.call("POST", f"/api/v1/dags/{dag}/dagRuns", json={"dag_run_id": f"v1b-{tag}", "conf": {"k": 7}}),
        "v2": s.call("POST", f"/api/v2/dags/{dag}/dagRuns", json={"dag_run_id": f"v2b-{tag}", "logical_date": None}),
        "pubsub": s.push(f"n{tag}", {}, {"dag_id": dag, "conf": {"k": 8}}),
    }  # fmt: skip
    assert _statuses(after) == dict.fromkeys(after, 200), {k: r.text for k, r in after.items()}
    assert after["experimental"].json()["execution_date"] == "2026-03-01T05:06:07+00:00"
    new_runs = s.runs_new(dag)
    assert new_runs[f"exp2-{tag}"]["conf"] == {"k": 6} and new_runs[f"v1b-{tag}"]["conf"] == {"k": 7}
    assert new_runs[f"pubsub__n{tag}"]["conf"] == {"k": 8}

    # The same run ids again while the new side owns the DAG: no second run anywhere.
    again = {
        "experimental": s.call("POST", f"/api/experimental/dags/{dag}/dag_runs", json={"run_id": f"exp-{tag}"}),
        "v1": s.call("POST", f"/api/v1/dags/{dag}/dagRuns", json={"dag_run_id": f"v1-{tag}"}),
        "v2": s.call("POST", f"/api/v2/dags/{dag}/dagRuns", json={"dag_run_id": f"v2b-{tag}", "logical_date": None}),
        "pubsub": s.push(f"m{tag}", {"dag_id": dag}, {"k": 4}),  # redelivered after the switch
    }  # fmt: skip
    assert _statuses(again) == {"experimental": 400, "v1": 409, "v2": 409, "pubsub": 200}
    assert again["experimental"].json() == {"error": f"Run id exp-{tag} already exists for dag id {dag}"}
    assert again["v1"].json()["title"] == "Conflict"
    assert again["pubsub"].json() == {
        "dag_id": dag,
        "dag_run_id": f"pubsub__m{tag}",
        "side": "old",
        "created": False,
    }

    # Rolled back to 1.10: ids living on either side are still refused, by 1.10 itself (its 400) or by
    # the router's look at the new side.
    s.owner(dag, "old")
    back = {
        "experimental": s.call("POST", f"/api/experimental/dags/{dag}/dag_runs", json={"run_id": f"exp2-{tag}"}),
        "v1": s.call("POST", f"/api/v1/dags/{dag}/dagRuns", json={"dag_run_id": f"v1-{tag}", "conf": {"k": 0}}),
        "v2": s.call("POST", f"/api/v2/dags/{dag}/dagRuns", json={"dag_run_id": f"v2-{tag}", "logical_date": None}),
        "pubsub": s.push(f"n{tag}", {}, {"dag_id": dag, "conf": {"k": 8}}),
    }  # fmt: skip
    assert _statuses(back) == {"experimental": 400, "v1": 409, "v2": 409, "pubsub": 200}, {
        k: r.text for k, r in back.items()
    }
    assert back["experimental"].json() == {"error": f"Run id exp2-{tag} already exists for dag id {dag}"}
    assert back["pubsub"].json()["side"] == "new" and back["pubsub"].json()["created"] is False

    # Exactly once, on the side that owned the DAG then, with the conf sent.
    old_ids = {run_id for run_id in s.runs_old(dag) if tag in run_id}
    new_ids = {run_id for run_id in s.runs_new(dag) if tag in run_id}
    assert old_ids == set(confs)
    assert new_ids == {f"exp2-{tag}", f"v1b-{tag}", f"v2b-{tag}", f"pubsub__n{tag}"}
    assert s.runs_old(dag)[f"v1-{tag}"]["conf"] == {"k": 2}  # the refused retry changed nothing
    assert "internal error" not in s.router_log()


def test_status_polls_answer_in_the_callers_shape_from_the_110_side(stack110: Stack110) -> None:
    s, dag, tag = stack110, "r110_poll", _tag()
    s.owner(dag, "old")
    made = {
        "experimental": s.call("POST", f"/api/experimental/dags/{dag}/dag_runs",
                               json={"run_id": f"p-exp-{tag}", "execution_date": "2026-04-02T01:02:03", "conf": {"p": 1}}),
        "v1": s.call("POST", f"/api/v1/dags/{dag}/dagRuns",
                     json={"dag_run_id": f"p-v1-{tag}", "logical_date": "2026-04-01T01:02:03+00:00", "conf": {"p": 2}}),
    }  # fmt: skip
    assert _statuses(made) == dict.fromkeys(made, 200), {k: r.text for k, r in made.items()}

    for owner in ("old", "new"):  # after the switch the runs are still read where they ran
        s.owner(dag, owner)
        # 1.10 callers poll by execution date (naive: read in UTC) and hear what 1.10 itself answers.
        own = s.old_api(f"/dags/{dag}/dag_runs/2026-04-02T01:02:03")
        assert own.json() == {"state": "running"}
        assert (
            s.call("GET", f"/api/experimental/dags/{dag}/dag_runs/2026-04-02T01:02:03").json() == own.json()
        )
        with_offset = s.call("GET", f"/api/experimental/dags/{dag}/dag_runs/2026-04-01T03:02:03+02:00")
        assert with_offset.status_code == 200 and with_offset.json() == {"state": "running"}
        listing = s.call("GET", f"/api/experimental/dags/{dag}/dag_runs", params={"state": "running"})
        items = {item["run_id"]: item for item in listing.json()}
        assert items[f"p-v1-{tag}"]["execution_date"] == "2026-04-01T01:02:03+00:00"
        assert set(items[f"p-exp-{tag}"]) == {"id", "run_id", "state", "dag_id", "execution_date", "start_date",
                                             "dag_run_url"}  # fmt: skip
        # A v1 caller reads a 1.10 run as a DAGRun, a v2 caller as a DAGRunResponse. 1.10's API lists
        # no conf, so conf is null (unknown), never a made-up empty object.
        v1 = s.call("GET", f"/api/v1/dags/{dag}/dagRuns/p-exp-{tag}")
        assert v1.status_code == 200, v1.text
        assert {k: v1.json()[k] for k in ("dag_run_id", "execution_date", "logical_date", "state", "external_trigger",
                                          "run_type", "conf")} == {
            "dag_run_id": f"p-exp-{tag}", "execution_date": "2026-04-02T01:02:03+00:00",
            "logical_date": "2026-04-02T01:02:03+00:00", "state": "running", "external_trigger": True,
            "run_type": "manual", "conf": None}  # fmt: skip
        v2 = s.call("GET", f"/api/v2/dags/{dag}/dagRuns/p-v1-{tag}")
        assert v2.status_code == 200, v2.text
        assert v2.json()["logical_date"] == "2026-04-01T01:02:03Z" and v2.json()["state"] == "running"
        assert v2.json()["run_type"] == "manual" and v2.json()["triggered_by"] == "rest_api"
        assert v2.json()["start_date"] is not None and v2.json()["conf"] is None
        # Missing runs, each shape its own way.
        assert s.call("GET", f"/api/v2/dags/{dag}/dagRuns/nope-{tag}").json() == {
            "detail": f"DAGRun 'nope-{tag}' of DAG '{dag}' not found"
        }
        assert s.call("GET", f"/api/v1/dags/{dag}/dagRuns/nope-{tag}").json()["status"] == 404
        missing = s.call("GET", f"/api/experimental/dags/{dag}/dag_runs/1999-01-01T00:00:00")
        assert missing.status_code == 404 and "error" in missing.json()


def _same_second_pair(send: Callable[[int], httpx.Response]) -> tuple[httpx.Response, httpx.Response]:
    """Two calls sent together just after a second starts, so the router reads the same second for
    both; retried (a few times) when the machine was too slow and they fell into two seconds."""
    for _ in range(5):
        time.sleep(1.05 - time.time() % 1)
        with ThreadPoolExecutor(2) as pool:
            first, second = pool.map(send, (1, 2))
        if not (first.status_code == second.status_code == 200):
            return first, second
    raise AssertionError("five pairs of calls never fell into one second")


def test_a_taken_execution_date_on_110_is_a_conflict_in_the_callers_shape(stack110: Stack110) -> None:
    s, dag, tag = stack110, "r110_dates", _tag()
    s.owner(dag, "old")
    when = "2026-05-01T06:00:00+00:00"
    first = s.call("POST", f"/api/experimental/dags/{dag}/dag_runs",
                   json={"run_id": f"d-first-{tag}", "execution_date": when, "conf": {"d": 1}})  # fmt: skip
    assert first.status_code == 200, first.text
    taken = {
        "experimental": s.call("POST", f"/api/experimental/dags/{dag}/dag_runs",
                               json={"run_id": f"d-exp-{tag}", "execution_date": when, "conf": {"d": 2}}),
        "v1": s.call("POST", f"/api/v1/dags/{dag}/dagRuns", json={"dag_run_id": f"d-v1-{tag}", "logical_date": when}),
        "v2": s.call("POST", f"/api/v2/dags/{dag}/dagRuns", json={"dag_run_id": f"d-v2-{tag}", "logical_date": when}),
        "pubsub": s.push(f"d{tag}", {"dag_id": dag, "logical_date": when}, {"d": 3}),
    }  # fmt: skip
    assert _statuses(taken) == {"experimental": 400, "v1": 409, "v2": 409, "pubsub": 409}, {
        k: r.text for k, r in taken.items()
    }
    message = f"DAG '{dag}' already has a run at {when} on the old side (run 'd-first-{tag}')"
    assert taken["experimental"].json()["error"].startswith(message)
    assert taken["v1"].json()["title"] == "Conflict" and taken["v1"].json()["detail"].startswith(message)
    assert taken["v2"].json()["detail"].startswith(message)
    assert taken["pubsub"].json()["error"].startswith(message)  # not acknowledged as made
    runs = s.runs_old(dag)
    assert [run_id for run_id in runs if tag in run_id] == [f"d-first-{tag}"] and runs[f"d-first-{tag}"][
        "conf"
    ] == {"d": 1}

    # Two 1.10 triggers without run id or date in one second: one run, one conflict, never two "Created".
    def bare(n: int) -> httpx.Response:
        return s.call(
            "POST", f"/api/experimental/dags/{dag}/dag_runs", json={"conf": {"bare": n, "tag": tag}}
        )

    pair = _same_second_pair(bare)
    assert sorted(r.status_code for r in pair) == [200, 400], [r.text for r in pair]
    made, refused = sorted(pair, key=lambda r: r.status_code)
    assert "already has a run at" in refused.json()["error"]
    assert "send another execution date or a run id" in refused.json()["error"]
    runs = s.runs_old(dag)
    same = [r for r in runs.values() if r["execution_date"].isoformat() == made.json()["execution_date"]]
    assert len(same) == 1 and same[0]["conf"]["tag"] == tag, same

    # The same with run ids but no date: 1.10's unique execution date (a 500 from its database) is a
    # conflict too.
    def named(n: int) -> httpx.Response:
        return s.call("POST", f"/api/experimental/dags/{dag}/dag_runs",
                      json={"run_id": f"d-named{n}-{tag}", "conf": {"named": n}})  # fmt: skip

    pair = _same_second_pair(named)
    assert sorted(r.status_code for r in pair) == [200, 400], [r.text for r in pair]
    made, refused = sorted(pair, key=lambda r: r.status_code)
    assert refused.json()["error"].startswith(
        f"DAG '{dag}' already has a run at {made.json()['execution_date']}"
    )
    named_runs = [run_id for run_id in s.runs_old(dag) if run_id.startswith("d-named")]
    assert named_runs == [made.json()["run_id"]]

    # v1 callers without a date keep microseconds (as 2.x did), so 1.10 gets two distinct dates.
    def v1_bare(n: int) -> httpx.Response:
        return s.call("POST", f"/api/v1/dags/{dag}/dagRuns", json={"conf": {"v1": n, "tag": tag}})

    with ThreadPoolExecutor(2) as pool:
        both = list(pool.map(v1_bare, (1, 2)))
    assert [r.status_code for r in both] == [200, 200], [r.text for r in both]
    assert len({r.json()["execution_date"] for r in both}) == 2

    # An execution date before the start_date in default_args: 1.10 fails with a 500; the caller
    # hears a 502 naming that likely cause, in its shape.
    late = s.call(
        "POST",
        "/api/experimental/dags/r110_late/dag_runs",
        json={"execution_date": "2025-01-01T00:00:00+00:00"},
    )
    assert late.status_code == 502 and "start_date" in late.json()["error"], late.text
    assert "internal error" not in s.router_log()


def test_unknown_dags_on_the_110_side_are_404_in_every_shape(stack110: Stack110) -> None:
    s = stack110
    s.owner("r110_ghost", "old")
    unknown = {
        "experimental": s.call("POST", "/api/experimental/dags/r110_ghost/dag_runs", json={}),
        "v1": s.call("POST", "/api/v1/dags/r110_ghost/dagRuns", json={}),
        "v2": s.call("POST", "/api/v2/dags/r110_ghost/dagRuns", json={"logical_date": None}),
        "pubsub": s.push(_tag(), {"dag_id": "r110_ghost"}),
    }
    assert _statuses(unknown) == dict.fromkeys(unknown, 404), {k: r.text for k, r in unknown.items()}
    assert unknown["experimental"].json() == {
        "error": "DAG 'r110_ghost' not found on the old side, which owns it"
    }
    assert s.call("GET", "/api/experimental/dags/r110_ghost/dag_runs").json() == []


def test_status_json_reports_the_110_side_and_the_owners(stack110: Stack110) -> None:
    s = stack110
    s.owner("r110_etl", "new")
    s.owner("r110_poll", "old")
    answer = s.call("GET", "/status.json")
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["waves"][0]["name"] == "first"
    assert "old side: cannot be reached" not in json.dumps(data)
    rows = {dag["dag_id"]: dag for dag in data["waves"][0]["dags"]}
    assert rows["r110_etl"]["owner"] == "new" and rows["r110_poll"]["owner"] == "old"
    assert rows["r110_poll"]["paused_old"] is True  # read through 1.10's /dags/<id>/paused
    assert s.call("GET", "/").status_code == 200
