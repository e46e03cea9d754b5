"""The router's own decisions, with scripted Airflow clients (what Airflow does with the calls is proven
against real servers in tests/integration/test_route_airflow.py): the owner from the journal, the other
side checked for a used run id, a lost connection resolved by looking the run up, errors mapped."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from airshift.errors import AirshiftError
from airshift.route.model import DuplicateRun, RouteError, TriggerRequest
from airshift.route.router import OTHER_SIDE_TIMEOUT, Router
from airshift.route.sides import Side

UTC = timezone.utc
NOW = datetime(2026, 5, 4, tzinfo=UTC)


class Failure(AirshiftError):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class ScriptedClient:
    """Answers like the cutover REST client: None for 404, Failure(status) for errors."""

    def __init__(self, flavour: str, runs: dict[str, dict[str, Any]] | None = None, post: Any = None) -> None:
        self.flavour = flavour
        self.name = f"scripted {flavour}"
        self.runs = runs if runs is not None else {}
        self.post = post
        self.calls: list[tuple[str, str]] = []
        self.timeouts: list[float | None] = []

    def request(self, method: str, path: str, what: str, *, ok_missing: bool = False, **kwargs: Any) -> Any:
        self.calls.append((method, path))
        self.timeouts.append(kwargs.get("timeout"))
        if method == "POST":
            if isinstance(self.post, Exception):
                raise self.post
            body = kwargs["json"]
            run = {
                "dag_id": path.split("/")[2],
                "dag_run_id": body["dag_run_id"],
                "state": "queued",
                "conf": body["conf"],
            }
            self.runs[body["dag_run_id"]] = run
            return httpx.Response(200, json=run)
        run_id = path.rsplit("/", 1)[1]
        return httpx.Response(200, json=self.runs[run_id]) if run_id in self.runs else None


def make(owner: str | None, old: ScriptedClient, new: ScriptedClient) -> Router:
    sides = {"old": Side("old", lambda: old), "new": Side("new", lambda: new)}
    return Router(sides, lambda dag_id: owner, clock=lambda: NOW)  # type: ignore[arg-type, return-value]


def request(run_id: str = "r1") -> TriggerRequest:
    return TriggerRequest("etl", run_id, NOW, conf={"a": 1})


def test_untouched_dags_go_to_the_old_side() -> None:
    old, new = ScriptedClient("v1"), ScriptedClient("v2")
    routed = make(None, old, new).trigger(request())
    assert routed.run.side == "old" and "r1" in old.runs and "r1" not in new.runs
    assert ("GET", "/dags/etl/dagRuns/r1") in new.calls  # the other side was asked first
    assert new.timeouts == [
        OTHER_SIDE_TIMEOUT
    ]  # briefly: a switched-off former owner must not stall triggers
    assert old.timeouts == [None]  # the owner gets the plan's timeout


def test_a_run_id_used_on_the_former_owner_is_a_duplicate_not_a_second_run() -> None:
    old = ScriptedClient("v1", {"r1": {"dag_id": "etl", "dag_run_id": "r1", "state": "success"}})
    new = ScriptedClient("v2")
    with pytest.raises(DuplicateRun) as caught:
        make("new", old, new).trigger(request())
    assert caught.value.run.side == "old" and not [c for c in new.calls if c[0] == "POST"]


def test_the_former_owner_being_down_does_not_block_the_owner() -> None:
    old = ScriptedClient("v1")
    old.request = lambda *a, **k: (_ for _ in ()).throw(Failure("cannot reach", 0))  # type: ignore[method-assign]
    new = ScriptedClient("v2")
    assert make("new", old, new).trigger(request()).run.side == "new"


def test_a_lost_connection_after_the_run_was_made_answers_the_run() -> None:
    new = ScriptedClient(
        "v2",
        {"r1": {"dag_id": "etl", "dag_run_id": "r1", "state": "queued"}},
        post=Failure("read timeout", 0),
    )
    assert make("new", ScriptedClient("v1"), new).trigger(request()).run.run_id == "r1"


def test_a_lost_connection_before_the_run_was_made_is_owner_down() -> None:
    new = ScriptedClient("v2", post=Failure("cannot reach", 0))
    with pytest.raises(RouteError) as caught:
        make("new", ScriptedClient("v1"), new).trigger(request())
    assert caught.value.kind == "owner_down"


@pytest.mark.parametrize(
    ("status", "kind"), [(409, "conflict"), (400, "bad_request"), (500, "owner_error"), (403, "owner_error")]
)
def test_owner_errors_are_mapped(status: int, kind: str) -> None:
    new = ScriptedClient("v2", post=Failure(f"HTTP {status} from scripted v2: reason here", status))
    with pytest.raises(RouteError) as caught:
        make("new", ScriptedClient("v1"), new).trigger(request())
    assert caught.value.kind == kind
    assert "scripted v2" not in caught.value.message  # the owner's name and address stay private


def test_a_journal_that_cannot_be_read_is_owner_down() -> None:
    def broken(_dag_id: str) -> None:
        raise OSError("disk gone")

    sides = {
        "old": Side("old", lambda: ScriptedClient("v1")),
        "new": Side("new", lambda: ScriptedClient("v2")),
    }
    with pytest.raises(RouteError) as caught:
        Router(sides, broken).trigger(request())  # type: ignore[arg-type]
    assert caught.value.kind == "owner_down"


def test_status_reads_fall_back_to_the_other_side() -> None:
    old = ScriptedClient("v1", {"r0": {"dag_id": "etl", "dag_run_id": "r0", "state": "success"}})
    router = make("new", old, ScriptedClient("v2"))
    assert router.run("etl", "r0").side == "old"
    with pytest.raises(RouteError) as caught:
        router.run("etl", "missing")
    assert caught.value.kind == "not_found"


def test_bodies_per_owner_api() -> None:
    v2 = Side("new", lambda: ScriptedClient("v2"))
    v1 = Side("old", lambda: ScriptedClient("v1"))
    exp = Side("old", lambda: ScriptedClient("experimental"))
    none_date = TriggerRequest("etl", "r", None)
    assert v2.trigger_body(none_date, NOW)["logical_date"] is None
    assert "logical_date" not in v1.trigger_body(none_date, NOW)
    assert exp.trigger_body(none_date, NOW) == {
        "run_id": "r", "conf": {}, "execution_date": NOW.isoformat(), "replace_microseconds": "false"
    }  # fmt: skip
    with pytest.raises(RouteError):
        v1.trigger_body(TriggerRequest("etl", "r", NOW, partition_key="p"), NOW)
