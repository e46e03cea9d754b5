"""A 1.10 owner behind the router, scripted the way Airflow 1.10.15's experimental API answers (proven
live in tests/integration/test_route_airflow110.py): a used run id is a 400, a taken execution date a
500 from the database's unique constraint, listed runs carry no conf and no run type."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from airshift.route.model import DuplicateRun, RouteError, TriggerRequest
from airshift.route.router import Router
from airshift.route.shapes import experimental, pubsub, v1, v2
from airshift.route.sides import Side
from tests.route.test_router import Failure, ScriptedClient

UTC = timezone.utc
NOW = datetime(2026, 5, 4, 10, 20, 30, tzinfo=UTC)


class Scripted110:
    """1.10.15's experimental API over a dict of runs keyed by run id."""

    flavour = "experimental"
    name = "scripted 1.10"

    def __init__(self, dags: tuple[str, ...] = ("etl",)) -> None:
        self.dags = dags
        self.runs: dict[str, dict[str, Any]] = {}
        self.posts = 0

    def request(self, method: str, path: str, what: str, *, ok_missing: bool = False, **kwargs: Any) -> Any:
        dag_id = path.split("/")[2]
        if dag_id not in self.dags:
            if method == "POST":
                return None  # DagNotFound: 404
            raise Failure(f"{what}: HTTP 400 from {self.name}", 400)
        if method == "GET":
            items = [{k: v for k, v in run.items() if k != "conf"} for run in self.runs.values()]
            return httpx.Response(200, json=items)
        self.posts += 1
        body = kwargs["json"]
        if body["run_id"] in self.runs:
            raise Failure(f"{what}: HTTP 400 from {self.name}: Run id exists", 400)
        if any(run["execution_date"] == body["execution_date"] for run in self.runs.values()):
            raise Failure(f"{what}: HTTP 500 from {self.name}", 500)  # IntegrityError, HTML page
        self.runs[body["run_id"]] = {
            "id": len(self.runs) + 1, "run_id": body["run_id"], "state": "running", "dag_id": dag_id,
            "execution_date": body["execution_date"], "start_date": NOW.isoformat(), "conf": body["conf"],
        }  # fmt: skip
        return httpx.Response(200, json={"message": "Created", "execution_date": body["execution_date"],
                                         "run_id": body["run_id"]})  # fmt: skip


def router_110(owner: str = "old") -> tuple[Router, Scripted110, ScriptedClient]:
    old, new = Scripted110(), ScriptedClient("v2")
    sides = {"old": Side("old", lambda: old), "new": Side("new", lambda: new)}
    return Router(sides, lambda _dag: owner, clock=lambda: NOW), old, new  # type: ignore[arg-type, return-value]


def exp_request(body: dict[str, Any], now: datetime = NOW) -> TriggerRequest:
    import json

    return experimental.parse_trigger("etl", json.dumps(body).encode(), now=now, naive_zone=UTC)


def test_trigger_answers_from_a_110_owner_carry_the_conf_sent() -> None:
    router, old, _ = router_110()
    run = router.trigger(
        v1.parse_trigger(
            "etl", b'{"dag_run_id": "r1", "conf": {"k": 2}}', now=NOW + timedelta(microseconds=7)
        )
    ).run
    assert run.conf == {"k": 2} and run.external_trigger and run.run_type == "manual"
    assert v1.created(run).body["conf"] == {"k": 2}
    assert v1.created(run).body["external_trigger"] is True
    assert v2.created(run).body["conf"] == {"k": 2}
    assert old.runs["r1"]["execution_date"] == "2026-05-04T10:20:30.000007+00:00"


def test_status_reads_from_a_110_owner_say_conf_is_unknown_not_empty() -> None:
    router, _, _ = router_110()
    router.trigger(TriggerRequest("etl", "r1", NOW, conf={"k": 1}))
    run = router.run("etl", "r1")
    assert run.conf is None and run.state == "running" and run.run_type == "manual" and run.external_trigger
    assert v2.run_state(run).body["conf"] is None
    assert v1.run_state(run).body["conf"] is None
    assert experimental.run_state(router.run_at("etl", NOW)).body == {"state": "running"}


def test_scheduled_110_runs_are_read_as_scheduled_not_triggered() -> None:
    router, old, _ = router_110()
    old.runs["scheduled__x"] = {"run_id": "scheduled__x", "state": "success", "dag_id": "etl",
                                "execution_date": NOW.isoformat(), "start_date": None}  # fmt: skip
    run = router.run("etl", "scheduled__x")
    assert run.run_type == "scheduled" and run.external_trigger is False


def test_a_taken_execution_date_on_110_is_a_conflict_in_every_shape() -> None:
    router, old, _ = router_110()
    router.trigger(TriggerRequest("etl", "first", NOW))
    for request in (
        exp_request({"run_id": "second", "execution_date": NOW.isoformat()}),
        v1.parse_trigger("etl", b'{"dag_run_id": "second", "logical_date": "2026-05-04T10:20:30Z"}', now=NOW),
        v2.parse_trigger("etl", b'{"dag_run_id": "second", "logical_date": "2026-05-04T10:20:30Z"}', now=NOW),
    ):
        with pytest.raises(RouteError) as caught:
            router.trigger(request)
        assert caught.value.kind == "conflict", caught.value.message
        assert "'first'" in caught.value.message and "one run per execution date" in caught.value.message
    assert set(old.runs) == {"first"}
    conflict = caught.value
    assert (
        experimental.error(conflict).status == 400
        and "already has a run" in experimental.error(conflict).body["error"]
    )
    assert v1.error(conflict).status == 409 and v2.error(conflict).status == 409
    assert pubsub.error(conflict).status == 409  # never acknowledged as if the run were made


def test_two_110_triggers_without_run_id_or_date_in_one_second_conflict() -> None:
    router, old, _ = router_110()
    first = router.trigger(exp_request({"conf": {"n": 1}}, NOW.replace(microsecond=100)))
    assert first.run.run_id == "manual__2026-05-04T10:20:30+00:00"
    with pytest.raises(RouteError) as caught:
        router.trigger(exp_request({"conf": {"n": 2}}, NOW.replace(microsecond=900)))
    assert caught.value.kind == "conflict"
    assert "already has a run at 2026-05-04T10:20:30+00:00" in caught.value.message
    assert "send another execution date or a run id" in caught.value.message
    assert len(old.runs) == 1


def test_a_used_run_id_on_110_stays_a_duplicate_and_a_500_is_never_taken_for_success() -> None:
    router, old, _ = router_110()
    router.trigger(TriggerRequest("etl", "r1", NOW))
    with pytest.raises(DuplicateRun):
        router.trigger(TriggerRequest("etl", "r1", NOW + timedelta(seconds=1)))

    # Two triggers racing for one id: both pass 1.10's id check, the loser hits the constraint (500).
    # Its run was not made by this request: a duplicate, never "created".
    real = old.request

    def racing(method: str, path: str, what: str, **kwargs: Any) -> Any:
        if method == "POST":
            real(method, path, what, **kwargs)  # the other request wins
            raise Failure(f"{what}: HTTP 500 from {old.name}", 500)
        return real(method, path, what, **kwargs)

    old.request = racing  # type: ignore[method-assign]
    with pytest.raises(DuplicateRun):
        router.trigger(TriggerRequest("etl", "r2", NOW + timedelta(seconds=2)))


def test_a_110_500_without_a_taken_date_names_the_likely_cause() -> None:
    router, old, _ = router_110()

    def failing(method: str, path: str, what: str, **kwargs: Any) -> Any:
        if method == "POST":
            raise Failure(f"{what}: HTTP 500 from {old.name}", 500)
        return httpx.Response(200, json=[])

    old.request = failing  # type: ignore[method-assign]
    with pytest.raises(RouteError) as caught:
        router.trigger(TriggerRequest("etl", "r1", NOW))
    assert caught.value.kind == "owner_error" and "start_date" in caught.value.message
    assert "scripted" not in caught.value.message


def test_unknown_dag_on_a_110_owner_is_not_found() -> None:
    router, _, _ = router_110()
    with pytest.raises(RouteError) as caught:
        router.trigger(TriggerRequest("ghost", "r1", NOW))
    assert caught.value.kind == "not_found"
