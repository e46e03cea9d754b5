"""Pub/Sub push envelopes: both spellings, the three documented ways to name the DAG, ack codes."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone

import pytest

from airshift.route.model import RouteError, RunInfo
from airshift.route.shapes import pubsub

UTC = timezone.utc
NOW = datetime(2026, 5, 4, 10, 20, 30, tzinfo=UTC)


def envelope(data: object = None, attributes: dict[str, str] | None = None, *, snake: bool = False) -> bytes:
    message: dict[str, object] = {("message_id" if snake else "messageId"): "1234567",
                                  ("publish_time" if snake else "publishTime"): "2026-05-04T10:20:00Z"}  # fmt: skip
    if attributes is not None:
        message["attributes"] = attributes
    if data is not None:
        text = data if isinstance(data, str) else json.dumps(data)
        message["data"] = base64.b64encode(text.encode()).decode()
    return json.dumps({"message": message, "subscription": "projects/p/subscriptions/s"}).encode()


def test_dag_id_attribute_with_conf_as_data() -> None:
    request = pubsub.parse_push(envelope({"a": 1}, {"dag_id": "etl"}), now=NOW)
    assert (request.dag_id, request.conf, request.run_id) == ("etl", {"a": 1}, "pubsub__1234567")
    assert request.logical_date == NOW and request.shape == "pubsub"


def test_json_data_names_dag_and_conf_with_snake_case_spelling() -> None:
    request = pubsub.parse_push(envelope({"dag_id": "etl", "conf": {"b": 2}}, snake=True), now=NOW)
    assert (request.dag_id, request.conf, request.run_id) == ("etl", {"b": 2}, "pubsub__1234567")


def test_plain_text_data_is_the_dag_id_as_in_composer_samples() -> None:
    request = pubsub.parse_push(envelope("etl_daily\n"), now=NOW)
    assert request.dag_id == "etl_daily" and request.conf == {}


def test_logical_date_attribute_must_carry_an_offset() -> None:
    request = pubsub.parse_push(
        envelope(None, {"dag_id": "etl", "logical_date": "2026-01-01T00:00:00+00:00"}), now=NOW
    )
    assert request.logical_date == datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(RouteError):
        pubsub.parse_push(envelope(None, {"dag_id": "etl", "logical_date": "2026-01-01T00:00:00"}), now=NOW)


def test_same_message_id_means_same_run_id() -> None:
    first = pubsub.parse_push(envelope({"a": 1}, {"dag_id": "etl"}), now=NOW)
    again = pubsub.parse_push(envelope({"a": 1}, {"dag_id": "etl"}), now=datetime(2026, 5, 5, tzinfo=UTC))
    assert first.run_id == again.run_id


def test_message_ids_with_odd_characters_become_a_digest() -> None:
    assert pubsub.run_id_for("a b/c").startswith("pubsub__") and " " not in pubsub.run_id_for("a b/c")


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        json.dumps({"subscription": "s"}).encode(),
        json.dumps({"message": {"data": "eA=="}}).encode(),  # no messageId
        json.dumps({"message": {"messageId": "1", "data": "%%%"}}).encode(),
        json.dumps({"message": {"messageId": "1"}}).encode(),  # names no DAG
        envelope("two words"),
        envelope([1, 2], {"dag_id": "etl"}),
        envelope({"dag_id": "etl", "conf": [1]}),
        envelope(None, {"dag_id": "bad id!"}),
    ],
)
def test_bad_envelopes_are_not_acked(raw: bytes) -> None:
    with pytest.raises(RouteError) as caught:
        pubsub.parse_push(raw, now=NOW)
    assert pubsub.error(caught.value).status == 400


def test_answers_ack_new_and_redelivered_runs_and_retry_when_owner_down() -> None:
    run = RunInfo("etl", "pubsub__1", "queued", "new")
    assert pubsub.created(run).status == 200 and pubsub.duplicate(run).status == 200
    assert pubsub.duplicate(run).body["created"] is False
    assert pubsub.error(RouteError("owner_down", "down")).status == 503
