"""Google Pub/Sub push envelopes (`POST /pubsub`).

Envelope: `{"message": {"attributes": {...}, "data": "<base64>", "messageId": "...", "publishTime":
"..."}, "subscription": "..."}`; `message_id`/`publish_time` spellings are accepted too.

Which DAG and what conf, in this order:
1. attribute `dag_id` names the DAG; then `data`, if present, is the conf: a JSON object;
2. otherwise `data` is a JSON object `{"dag_id": ..., "conf": {...}}`;
3. otherwise `data` is plain text naming the DAG (the Composer samples publish the DAG id as data).
An attribute or data key `logical_date` (with an offset) sets the logical date; else it is the moment
the router received the message. The run id is `pubsub__<messageId>`: a redelivered message names the
same run, so it makes no second one.

Answers: 200 acknowledges (new run, or the run this message already made); any other status makes
Pub/Sub deliver again: 503 when the owner is down (worth retrying), 400/401/404/409 for messages that
will never succeed (give the subscription a dead-letter topic so they stop being retried)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from datetime import datetime
from typing import Any

from airshift.route.dates import parse_aware
from airshift.route.model import Answer, RouteError, RunInfo, TriggerRequest
from airshift.route.shapes.common import BodyError, json_object

_DAG_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,250}$")
_RUN_ID_SAFE = re.compile(r"^[A-Za-z0-9_.~:+\-]{1,200}$")  # Airflow's default allowed_run_id_pattern
_STATUS = {
    "bad_request": 400,
    "invalid": 400,
    "unauthorized": 401,
    "not_found": 404,
    "conflict": 409,
    "owner_down": 503,
    "owner_error": 502,
}


def run_id_for(message_id: str) -> str:
    """`pubsub__<messageId>`, or a digest of the id when it holds characters Airflow refuses in run ids."""
    if _RUN_ID_SAFE.match(message_id):
        return f"pubsub__{message_id}"
    return f"pubsub__{hashlib.sha256(message_id.encode()).hexdigest()[:32]}"


def _text(message: dict[str, Any], *names: str) -> str | None:
    for name in names:
        value = message.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _data(message: dict[str, Any]) -> bytes | None:
    raw = message.get("data")
    if raw in (None, ""):
        return None
    if not isinstance(raw, str):
        raise RouteError("bad_request", "message.data must be a base64 string")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise RouteError("bad_request", "message.data is not valid base64") from None


def _conf(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RouteError("bad_request", "the conf in the message must be a JSON object")
    return value


def parse_push(raw: bytes, *, now: datetime) -> TriggerRequest:
    try:
        envelope = json_object(raw)
    except BodyError as error:
        raise RouteError("bad_request", str(error)) from None
    message = envelope.get("message")
    if not isinstance(message, dict):
        raise RouteError("bad_request", "not a Pub/Sub push envelope: no message object")
    message_id = _text(message, "messageId", "message_id")
    if message_id is None:
        raise RouteError("bad_request", "the Pub/Sub message has no messageId")
    attributes = message.get("attributes") or {}
    if not isinstance(attributes, dict):
        raise RouteError("bad_request", "message.attributes must be an object")
    data = _data(message)
    payload: dict[str, Any] = {}
    dag_id = attributes.get("dag_id")
    if dag_id is not None:
        if data is not None:
            try:
                conf = _conf(json_object(data))
            except BodyError:
                raise RouteError(
                    "bad_request", "with a dag_id attribute, message data must be a JSON object (the conf)"
                ) from None
        else:
            conf = {}
    elif data is None:
        raise RouteError("bad_request", "the message names no DAG: set the dag_id attribute or send data")
    else:
        try:
            payload = json_object(data)
        except BodyError:
            text = data.decode("utf-8", errors="replace").strip()
            if not _DAG_ID.match(text):
                raise RouteError(
                    "bad_request", "message data is neither a JSON object nor a DAG id"
                ) from None
            payload = {"dag_id": text}
        dag_id = payload.get("dag_id")
        conf = _conf(payload.get("conf"))
    if not isinstance(dag_id, str) or not _DAG_ID.match(dag_id):
        raise RouteError("bad_request", "the message's dag_id is missing or not a valid DAG id")
    logical_text = attributes.get("logical_date", payload.get("logical_date"))
    logical_date = now
    if logical_text is not None:
        try:
            logical_date = parse_aware(logical_text)
        except ValueError:
            raise RouteError(
                "bad_request", "logical_date in the message must be an ISO date with an offset"
            ) from None
    return TriggerRequest(
        dag_id=dag_id,
        run_id=run_id_for(message_id),
        logical_date=logical_date,
        conf=conf,
        note=f"Pub/Sub message {message_id}"
        + (f" from {envelope['subscription']}" if isinstance(envelope.get("subscription"), str) else ""),
        shape="pubsub",
    )


def created(run: RunInfo) -> Answer:
    return Answer(200, {"dag_id": run.dag_id, "dag_run_id": run.run_id, "side": run.side, "created": True})


def duplicate(run: RunInfo) -> Answer:
    """A redelivered message: acknowledge it, the run exists."""
    return Answer(200, {"dag_id": run.dag_id, "dag_run_id": run.run_id, "side": run.side, "created": False})


def error(failure: RouteError) -> Answer:
    headers = {"WWW-Authenticate": "Bearer"} if failure.kind == "unauthorized" else {}
    return Answer(_STATUS[failure.kind], {"error": failure.message}, headers=headers)
