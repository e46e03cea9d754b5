"""The 3.x /api/v2 shape: TriggerDAGRunPostBody rules (422), DAGRunResponse answers."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from airshift.route.model import RouteError, RunInfo
from airshift.route.shapes import v2

UTC = timezone.utc
NOW = datetime(2026, 5, 4, 10, 20, 30, tzinfo=UTC)


def parse(body: object) -> object:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return v2.parse_trigger("etl", raw, now=NOW)


def refused(body: object) -> RouteError:
    with pytest.raises(RouteError) as caught:
        parse(body)
    return caught.value


def test_logical_date_key_is_required_but_may_be_null() -> None:
    error = refused({"conf": {}})
    assert error.kind == "invalid"
    assert error.details == [{"type": "missing", "loc": ["body", "logical_date"], "msg": "Field required"}]
    request = parse({"logical_date": None})
    assert request.logical_date is None and request.run_id == f"manual__{NOW.isoformat()}"


@pytest.mark.parametrize("key", ["execution_date", "replace_microseconds", "run_id"])
def test_unknown_keys_are_422(key: str) -> None:
    error = refused({"logical_date": None, key: "2026-01-01T00:00:00Z"})
    assert v2.error(error).status == 422
    assert error.details and error.details[0]["type"] == "extra_forbidden"


def test_naive_dates_are_422_and_nothing_submitted_is_echoed() -> None:
    error = refused({"logical_date": "2026-01-01T00:00:00", "conf": {"password": "hunter2"}})
    answer = v2.error(error)
    assert answer.status == 422
    assert answer.body["detail"][0]["loc"] == ["body", "logical_date"]
    assert "hunter2" not in json.dumps(answer.body) and "2026-01-01" not in json.dumps(answer.body)


def test_data_interval_both_or_none() -> None:
    assert refused({"logical_date": None, "data_interval_end": "2026-01-01T00:00:00Z"}).kind == "invalid"


def test_full_body_is_carried() -> None:
    request = parse(
        {"logical_date": "2026-01-01T00:00:00Z", "dag_run_id": "r", "conf": {"a": 1}, "note": "n",
         "run_after": "2026-01-01T01:00:00Z", "partition_key": "p"}
    )  # fmt: skip
    assert (request.run_id, request.conf, request.note, request.partition_key) == ("r", {"a": 1}, "n", "p")
    assert request.run_after == datetime(2026, 1, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("raw", [b"", b"{oops"])
def test_missing_or_broken_json_is_422(raw: bytes) -> None:
    assert refused(raw).kind == "invalid"


def test_response_from_a_v1_owner_has_3x_fields_and_zulu_dates() -> None:
    run = RunInfo("etl", "r", "success", "old", run_type="manual", logical_date=datetime(2026, 1, 1, tzinfo=UTC),
                  start_date=datetime(2026, 1, 1, 0, 0, 10, tzinfo=UTC), end_date=datetime(2026, 1, 1, 0, 1, tzinfo=UTC))  # fmt: skip
    body = v2.run_state(run).body
    assert body["logical_date"] == "2026-01-01T00:00:00Z" and body["run_after"] == "2026-01-01T00:00:00Z"
    assert body["duration"] == 50.0 and body["triggered_by"] == "rest_api"
    assert {"queued_at", "dag_versions", "bundle_version", "dag_display_name", "partition_key"} <= set(body)


def test_a_v2_owner_answer_is_passed_through_unchanged() -> None:
    raw = {"dag_run_id": "r", "dag_versions": [{"id": "x"}]}
    assert v2.created(RunInfo("etl", "r", "queued", "new", raw=raw, raw_api="v2")).body is raw


def test_duplicate_and_errors() -> None:
    assert v2.duplicate(RunInfo("etl", "r", "queued", "new")).status == 409
    assert v2.error(RouteError("not_found", "DAG 'x' not found")).body == {"detail": "DAG 'x' not found"}
    assert v2.error(RouteError("owner_down", "down")).status == 503
