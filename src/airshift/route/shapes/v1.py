"""Airflow 2.x's stable REST API (`/api/v1`).

Trigger body (`POST /dags/{dag_id}/dagRuns`): `dag_run_id`, `logical_date` (with an offset), the
deprecated `execution_date` (copied to logical_date; both and different is a 400), `conf`, `note`,
`data_interval_start`/`_end` (both or neither). Any other key is refused with 400 as marshmallow did
(read-only fields such as `state` included). No date means now, no run id means `manual__<date>`.
Answers: 200 `DAGRun`; errors are RFC 7807 problem JSON `{type, title, status, detail, instance}`:
400, 401, 404, 409 (run id or logical date already used: 2.x's own answer), 502, 503."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airshift.route.dates import iso_offset, parse_aware
from airshift.route.model import Answer, RouteError, RunInfo, TriggerRequest
from airshift.route.shapes.common import BodyError, conf_value, json_object, manual_run_id

PROBLEM = "application/problem+json"
_DOCS = "https://airflow.apache.org/docs/apache-airflow/2.11.2/stable-rest-api-ref.html#section/Errors/"
_LOADABLE = {
    "dag_run_id",
    "logical_date",
    "execution_date",
    "conf",
    "note",
    "data_interval_start",
    "data_interval_end",
}
_STATUS: dict[str, tuple[int, str, str]] = {
    "bad_request": (400, "Bad Request", "BadRequest"),
    "invalid": (400, "Bad Request", "BadRequest"),
    "unauthorized": (401, "Unauthorized", "Unauthenticated"),
    "not_found": (404, "Not Found", "NotFound"),
    "conflict": (409, "Conflict", "AlreadyExists"),
    "owner_down": (503, "Service Unavailable", "Unknown"),
    "owner_error": (502, "Bad Gateway", "Unknown"),
}


def _date(body: dict[str, Any], key: str) -> datetime | None:
    value = body.get(key)
    if value is None:
        return None
    try:
        return parse_aware(value)
    except ValueError as error:
        reason = "Naive datetime is disallowed" if "naive" in str(error) else "Not a valid datetime."
        raise RouteError("bad_request", f"{{'{key}': ['{reason}']}}") from None


def parse_trigger(dag_id: str, raw: bytes, *, now: datetime) -> TriggerRequest:
    try:
        body = json_object(raw)
    except BodyError as error:
        raise RouteError("bad_request", str(error)) from None
    unknown = sorted(set(body) - _LOADABLE)
    if unknown:
        raise RouteError("bad_request", str({key: ["Unknown field."] for key in unknown}))
    if "logical_date" in body and "execution_date" in body and body["logical_date"] != body["execution_date"]:
        raise RouteError(
            "bad_request",
            "logical_date and execution_date differ",
            title="logical_date conflicts with execution_date",
        )
    logical_date = _date(body, "logical_date" if "logical_date" in body else "execution_date") or now
    start, end = _date(body, "data_interval_start"), _date(body, "data_interval_end")
    if (start is None) != (end is None):
        raise RouteError(
            "bad_request",
            "{'_schema': [\"Both 'data_interval_start' and 'data_interval_end' must be specified together\"]}",
        )
    try:
        conf = conf_value(body.get("conf"), allow_string=True)
    except BodyError as error:
        raise RouteError("bad_request", f"{{'conf': ['{error}']}}") from None
    run_id = body.get("dag_run_id")
    if run_id is not None and (not isinstance(run_id, str) or not run_id.strip()):
        raise RouteError("bad_request", "{'dag_run_id': ['Not a valid string.']}")
    note = body.get("note")
    if note is not None and not isinstance(note, str):
        raise RouteError("bad_request", "{'note': ['Not a valid string.']}")
    return TriggerRequest(
        dag_id=dag_id,
        run_id=run_id or manual_run_id(logical_date),
        logical_date=logical_date,
        conf=conf,
        note=note,
        data_interval=(start, end) if start is not None and end is not None else None,
        shape="v1",
        run_id_given=bool(run_id),
    )


def dag_run(run: RunInfo) -> dict[str, Any]:
    """The 2.x `DAGRun` object; the owner's own JSON when the owner speaks /api/v1."""
    if run.raw is not None and run.raw_api == "v1":
        return run.raw
    logical = iso_offset(run.logical_date or run.run_after)
    return {
        "conf": run.conf,
        "dag_id": run.dag_id,
        "dag_run_id": run.run_id,
        "data_interval_end": iso_offset(run.data_interval_end),
        "data_interval_start": iso_offset(run.data_interval_start),
        "end_date": iso_offset(run.end_date),
        "execution_date": logical,
        "external_trigger": run.external_trigger,
        "last_scheduling_decision": iso_offset(run.last_scheduling_decision),
        "logical_date": logical,
        "note": run.note,
        "run_type": run.run_type,
        "start_date": iso_offset(run.start_date),
        "state": run.state,
    }


def created(run: RunInfo) -> Answer:
    return Answer(200, dag_run(run))


def run_state(run: RunInfo) -> Answer:
    return Answer(200, dag_run(run))


def duplicate(run: RunInfo) -> Answer:
    """2.x answers a used run id with 409 AlreadyExists; clients written for it expect that."""
    return error(
        RouteError(
            "conflict", f"DAGRun with DAG ID: '{run.dag_id}' and DAGRun ID: '{run.run_id}' already exists"
        )
    )


def error(failure: RouteError, instance: str | None = None) -> Answer:
    status, title, anchor = _STATUS[failure.kind]
    body = {
        "detail": failure.message,
        "status": status,
        "title": failure.title or title,
        "type": _DOCS + anchor,
    }
    if instance is not None:
        body["instance"] = instance
    headers = (
        {"WWW-Authenticate": 'Basic realm="airshift route", Bearer'} if failure.kind == "unauthorized" else {}
    )
    return Answer(status, body, media_type=PROBLEM, headers=headers)
