"""The 2.x /api/v1 shape: marshmallow's body rules, DAGRun answers, problem JSON."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from airshift.route.model import RouteError, RunInfo
from airshift.route.shapes import v1

UTC = timezone.utc
NOW = datetime(2026, 5, 4, 10, 20, 30, 123456, tzinfo=UTC)


def parse(body: object) -> object:
    return v1.parse_trigger("etl", json.dumps(body).encode(), now=NOW)


def refused(body: object) -> RouteError:
    with pytest.raises(RouteError) as caught:
        parse(body)
    return caught.value


def test_conf_only_composer_body_gets_now_and_a_manual_run_id() -> None:
    request = parse({"conf": {"a": 1}})
    assert request.logical_date == NOW
    assert request.run_id == f"manual__{NOW.isoformat()}"


def test_execution_date_is_copied_to_logical_date() -> None:
    request = parse({"execution_date": "2026-01-01T00:00:00+02:00", "dag_run_id": "r"})
    assert request.logical_date == datetime(2025, 12, 31, 22, tzinfo=UTC)
    assert request.run_id == "r"


def test_differing_dates_are_refused_with_2x_title() -> None:
    error = refused({"execution_date": "2026-01-01T00:00:00Z", "logical_date": "2026-01-02T00:00:00Z"})
    answer = v1.error(error)
    assert answer.status == 400 and answer.body["title"] == "logical_date conflicts with execution_date"
    assert answer.media_type == "application/problem+json"


def test_naive_dates_are_refused_as_2x_does() -> None:
    assert (
        refused({"logical_date": "2026-01-01T00:00:00"}).message
        == "{'logical_date': ['Naive datetime is disallowed']}"
    )


@pytest.mark.parametrize("key", ["state", "dag_id", "run_type", "replace_microseconds"])
def test_read_only_and_unknown_fields_are_refused(key: str) -> None:
    error = refused({key: "x"})
    assert error.kind == "bad_request" and key in error.message


def test_data_interval_needs_both_ends() -> None:
    assert refused({"data_interval_start": "2026-01-01T00:00:00Z"}).kind == "bad_request"
    request = parse(
        {"data_interval_start": "2026-01-01T00:00:00Z", "data_interval_end": "2026-01-02T00:00:00Z"}
    )
    assert request.data_interval == (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC))


def test_conf_must_be_an_object_and_note_a_string() -> None:
    assert refused({"conf": [1]}).kind == "bad_request"
    assert refused({"note": 5}).kind == "bad_request"
    assert parse({"note": "n", "conf": '{"a": 1}'}).conf == {"a": 1}


def test_dag_run_from_an_airflow3_run_has_2x_fields() -> None:
    run = RunInfo(
        "etl",
        "r",
        "queued",
        "new",
        run_type="manual",
        logical_date=datetime(2026, 1, 1, tzinfo=UTC),
        conf={"a": 1},
    )
    body = v1.created(run).body
    assert (
        body["dag_run_id"] == "r"
        and body["execution_date"] == body["logical_date"] == "2026-01-01T00:00:00+00:00"
    )
    assert set(body) == {
        "conf", "dag_id", "dag_run_id", "data_interval_end", "data_interval_start", "end_date", "execution_date",
        "external_trigger", "last_scheduling_decision", "logical_date", "note", "run_type", "start_date", "state",
    }  # fmt: skip


def test_a_v1_owner_answer_is_passed_through_unchanged() -> None:
    raw = {"dag_run_id": "r", "dag_id": "etl", "state": "queued", "extra_2x_field": 1}
    run = RunInfo("etl", "r", "queued", "old", raw=raw, raw_api="v1")
    assert v1.run_state(run).body is raw


def test_duplicate_is_2x_409_problem() -> None:
    answer = v1.duplicate(RunInfo("etl", "r", "queued", "old"))
    assert answer.status == 409
    assert answer.body["detail"] == "DAGRun with DAG ID: 'etl' and DAGRun ID: 'r' already exists"
    assert answer.body["type"].endswith("#section/Errors/AlreadyExists")


def test_unauthorized_problem_asks_for_credentials() -> None:
    answer = v1.error(RouteError("unauthorized", "credentials are required"))
    assert answer.status == 401 and "WWW-Authenticate" in answer.headers
    assert set(answer.body) == {"detail", "status", "title", "type"}
