"""Airflow 3.x's REST API (`/api/v2`).

Trigger body (`POST /dags/{dag_id}/dagRuns`): the rules of 3.x's `TriggerDAGRunPostBody`: the key
`logical_date` is required (null allowed: a run without a logical date), unknown keys are refused,
every date must carry an offset, `data_interval_start`/`_end` both or neither, `conf` an object.
Violations answer 422 `{"detail": [{"type", "loc", "msg"}]}` like FastAPI (without echoing the
input: conf can hold secrets). No run id means `manual__<logical date or run_after or now>`.
Answers: 200 `DAGRunResponse`; errors `{"detail": "..."}` with 400, 401, 404, 409 (run id or logical
date already used: 3.x's own answer), 422, 502, 503."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from airshift.route.dates import iso_zulu
from airshift.route.model import Answer, RouteError, RunInfo, TriggerRequest
from airshift.route.shapes.common import BodyError, json_body, manual_run_id

_STATUS = {
    "bad_request": 400,
    "invalid": 422,
    "unauthorized": 401,
    "not_found": 404,
    "conflict": 409,
    "owner_down": 503,
    "owner_error": 502,
}


class TriggerBody(BaseModel):
    """Airflow 3.3's TriggerDAGRunPostBody, field for field."""

    model_config = ConfigDict(extra="forbid")

    dag_run_id: str | None = None
    data_interval_start: AwareDatetime | None = None
    data_interval_end: AwareDatetime | None = None
    logical_date: AwareDatetime | None  # required key, nullable
    run_after: AwareDatetime | None = None
    conf: dict[str, Any] | None = Field(default_factory=dict)
    note: str | None = None
    partition_key: str | None = None

    @model_validator(mode="after")
    def _intervals_together(self) -> TriggerBody:
        if (self.data_interval_start is None) != (self.data_interval_end is None):
            raise ValueError(
                "Either both data_interval_start and data_interval_end must be provided or both must be None"
            )
        return self


def validation_details(error: ValidationError) -> list[dict[str, Any]]:
    """FastAPI's 422 entries without `input` and `ctx`, which would echo the submitted values."""
    return [
        {"type": item["type"], "loc": ["body", *item["loc"]], "msg": item["msg"]}
        for item in error.errors(include_url=False)
    ]


def parse_trigger(dag_id: str, raw: bytes, *, now: datetime) -> TriggerRequest:
    try:
        body = json_body(raw) if raw.strip() else None
    except BodyError:
        raise RouteError(
            "invalid",
            "invalid JSON",
            details=[{"type": "json_invalid", "loc": ["body"], "msg": "JSON decode error"}],
        ) from None
    if body is None:
        raise RouteError(
            "invalid", "missing body", details=[{"type": "missing", "loc": ["body"], "msg": "Field required"}]
        )
    try:
        parsed = TriggerBody.model_validate(body)
    except ValidationError as error:
        raise RouteError(
            "invalid", "the body does not match TriggerDAGRunPostBody", details=validation_details(error)
        ) from None
    interval = (
        (parsed.data_interval_start, parsed.data_interval_end)
        if parsed.data_interval_start is not None and parsed.data_interval_end is not None
        else None
    )
    return TriggerRequest(
        dag_id=dag_id,
        run_id=parsed.dag_run_id or manual_run_id(parsed.logical_date or parsed.run_after or now),
        logical_date=parsed.logical_date,
        conf=parsed.conf or {},
        note=parsed.note,
        data_interval=interval,
        run_after=parsed.run_after,
        partition_key=parsed.partition_key,
        shape="v2",
        run_id_given=bool(parsed.dag_run_id),
    )


def dag_run_response(run: RunInfo) -> dict[str, Any]:
    """The 3.x `DAGRunResponse`; the owner's own JSON when the owner speaks /api/v2."""
    if run.raw is not None and run.raw_api == "v2":
        return run.raw
    duration = (run.end_date - run.start_date).total_seconds() if run.end_date and run.start_date else None
    return {
        "dag_run_id": run.run_id,
        "dag_id": run.dag_id,
        "logical_date": iso_zulu(run.logical_date),
        "queued_at": iso_zulu(run.queued_at),
        "start_date": iso_zulu(run.start_date),
        "end_date": iso_zulu(run.end_date),
        "duration": duration,
        "data_interval_start": iso_zulu(run.data_interval_start),
        "data_interval_end": iso_zulu(run.data_interval_end),
        "run_after": iso_zulu(run.run_after or run.logical_date or run.queued_at),
        "last_scheduling_decision": iso_zulu(run.last_scheduling_decision),
        "run_type": run.run_type,
        "state": run.state,
        "triggered_by": run.triggered_by or ("rest_api" if run.external_trigger else None),
        "triggering_user_name": None,
        "conf": run.conf,
        "note": run.note,
        "dag_versions": [],
        "bundle_version": None,
        "dag_display_name": run.dag_id,
        "partition_key": None,
        "partition_date": None,
    }


def created(run: RunInfo) -> Answer:
    return Answer(200, dag_run_response(run))


def run_state(run: RunInfo) -> Answer:
    return Answer(200, dag_run_response(run))


def duplicate(run: RunInfo) -> Answer:
    """3.x answers a used run id with 409; clients written for it expect that."""
    return error(RouteError("conflict", f"DAG run {run.run_id!r} of DAG {run.dag_id!r} already exists"))


def error(failure: RouteError) -> Answer:
    detail: Any = failure.details if failure.kind == "invalid" and failure.details else failure.message
    headers = {"WWW-Authenticate": "Bearer"} if failure.kind == "unauthorized" else {}
    return Answer(_STATUS[failure.kind], {"detail": detail}, headers=headers)
