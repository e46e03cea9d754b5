"""The 1.10 experimental shape: parsing, translation and answers."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from airshift.route.model import RouteError, RunInfo
from airshift.route.shapes import experimental

NOW = datetime(2026, 5, 4, 10, 20, 30, 123456, tzinfo=timezone.utc)
UTC = timezone.utc


def parse(body: object, zone: object = UTC) -> object:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return experimental.parse_trigger("etl", raw, now=NOW, naive_zone=zone)  # type: ignore[arg-type]


def test_conf_only_body_gets_now_without_microseconds_and_a_manual_run_id() -> None:
    request = parse({"conf": {"a": 1}})
    assert request.logical_date == NOW.replace(microsecond=0)
    assert request.run_id == "manual__2026-05-04T10:20:30+00:00"
    assert request.conf == {"a": 1}
    assert request.shape == "experimental"


def test_composer_sample_keeps_microseconds_when_told_false_as_a_string() -> None:
    request = parse({"conf": {"x": "y"}, "replace_microseconds": "false"})
    assert request.logical_date == NOW


def test_conf_as_json_string_is_decoded() -> None:
    assert parse({"conf": '{"k": [1, 2]}'}).conf == {"k": [1, 2]}


@pytest.mark.parametrize("conf", ["[1, 2]", "not json", 5, [1]])
def test_conf_that_is_not_an_object_is_a_400(conf: object) -> None:
    with pytest.raises(RouteError) as caught:
        parse({"conf": conf})
    assert experimental.error(caught.value).status == 400


def test_naive_execution_date_is_localised_in_the_configured_zone_and_keeps_microseconds() -> None:
    request = parse({"execution_date": "2026-01-02T03:04:05.678"}, ZoneInfo("Europe/Berlin"))
    assert request.logical_date == datetime(2026, 1, 2, 2, 4, 5, 678000, tzinfo=UTC)
    assert request.run_id == "manual__2026-01-02T03:04:05.678000+01:00"


def test_replace_microseconds_true_applies_to_a_given_date() -> None:
    request = parse({"execution_date": "2026-01-02T03:04:05.678+00:00", "replace_microseconds": "True"})
    assert request.logical_date == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_explicit_run_id_is_kept() -> None:
    assert parse({"run_id": "ext-42"}).run_id == "ext-42"


def test_bad_date_answers_1_10s_message() -> None:
    with pytest.raises(RouteError) as caught:
        parse({"execution_date": "yesterday"})
    answer = experimental.error(caught.value)
    assert answer.status == 400
    assert answer.body == {
        "error": "Given execution date, yesterday, could not be identified as a date. "
        "Example date format: 2015-11-16T14:34:15+00:00"
    }


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]"])
def test_broken_bodies_are_400(raw: bytes) -> None:
    with pytest.raises(RouteError) as caught:
        parse(raw)
    assert caught.value.kind == "bad_request"


def test_empty_body_is_a_trigger_with_defaults() -> None:
    assert parse(b"").conf == {}


def test_created_answer_has_1_10s_keys() -> None:
    run = RunInfo("etl", "manual__x", "queued", "new", logical_date=datetime(2026, 1, 1, tzinfo=UTC))
    answer = experimental.created(run)
    assert answer.status == 200
    assert answer.body == {
        "message": "Created <DagRun etl @ 2026-01-01T00:00:00+00:00: manual__x, externally triggered: True>",
        "execution_date": "2026-01-01T00:00:00+00:00",
        "run_id": "manual__x",
    }


def test_a_run_without_logical_date_reports_its_run_after() -> None:
    when = datetime(2026, 1, 1, 5, tzinfo=UTC)
    run = RunInfo("etl", "r", "queued", "new", logical_date=None, run_after=when)
    assert experimental.created(run).body["execution_date"] == when.isoformat()


def test_duplicate_is_1_10s_400() -> None:
    answer = experimental.duplicate(RunInfo("etl", "r1", "running", "old"))
    assert (answer.status, answer.body) == (400, {"error": "Run id r1 already exists for dag id etl"})


def test_state_and_list_answers() -> None:
    run = RunInfo("etl", "r1", "success", "old", logical_date=datetime(2026, 1, 1, tzinfo=UTC),
                  start_date=datetime(2026, 1, 1, 0, 1, tzinfo=UTC))  # fmt: skip
    assert experimental.run_state(run).body == {"state": "success"}
    item = experimental.run_list([run], "http://r").body[0]
    assert item["run_id"] == "r1" and item["execution_date"] == "2026-01-01T00:00:00+00:00"
    assert item["start_date"] == (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=1)).isoformat()


@pytest.mark.parametrize(
    ("kind", "status"),
    [("unauthorized", 401), ("not_found", 404), ("owner_down", 503), ("owner_error", 502), ("conflict", 400)],
)
def test_error_statuses(kind: str, status: int) -> None:
    answer = experimental.error(RouteError(kind, "why"))  # type: ignore[arg-type]
    assert (answer.status, answer.body) == (status, {"error": "why"})
