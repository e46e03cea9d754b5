"""Airflow 1.10's experimental API (`/api/experimental`), also what 2.x served when it was enabled.

Trigger body (`POST /dags/<dag_id>/dag_runs`): `run_id`, `conf` (an object or a string holding one),
`execution_date` (ISO text; without an offset it is read in the router's naive time zone, as 1.10 read
it in `[core] default_timezone`), `replace_microseconds` (Airflow's `to_boolean`, so "false" works;
default true only when no execution_date is sent). Answers: 200 `{"message", "execution_date",
"run_id"}`; errors `{"error": "..."}` with 400 (bad body, run id already used: 1.10's own answer),
401, 404 (unknown DAG or run), 503 (owner down), 502 (owner error)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from airshift.route.dates import iso_offset, parse_lenient
from airshift.route.model import Answer, RouteError, RunInfo, TriggerRequest
from airshift.route.shapes.common import BodyError, conf_value, json_object, manual_run_id

_STATUS = {
    "bad_request": 400,
    "invalid": 400,
    "unauthorized": 401,
    "not_found": 404,
    "conflict": 400,
    "owner_down": 503,
    "owner_error": 502,
}
_TRUE = ("true", "t", "y", "yes", "1")  # airflow.utils.strings.to_boolean


def bad_date_message(value: object) -> str:
    return (
        f"Given execution date, {value}, could not be identified as a date. "
        "Example date format: 2015-11-16T14:34:15+00:00"
    )


def parse_trigger(dag_id: str, raw: bytes, *, now: datetime, naive_zone: tzinfo) -> TriggerRequest:
    try:
        body = json_object(raw)
        conf = conf_value(body.get("conf"), allow_string=True)
    except BodyError as error:
        raise RouteError("bad_request", str(error)) from None
    run_id = body.get("run_id")
    if run_id is not None and (not isinstance(run_id, str) or not run_id.strip()):
        raise RouteError("bad_request", "run_id must be a non-empty string")
    execution_date = body.get("execution_date")
    when = now
    if execution_date is not None:
        try:
            when = parse_lenient(execution_date, naive_zone)
        except ValueError:
            raise RouteError("bad_request", bad_date_message(execution_date)) from None
    replace_microseconds = execution_date is None
    if "replace_microseconds" in body:
        replace_microseconds = str(body["replace_microseconds"]).lower() in _TRUE
    if replace_microseconds:
        when = when.replace(microsecond=0)
    return TriggerRequest(
        dag_id=dag_id,
        run_id=run_id or manual_run_id(when),
        logical_date=when,
        conf=conf,
        shape="experimental",
        run_id_given=bool(run_id),
    )


def _execution_date(run: RunInfo) -> datetime | None:
    return run.logical_date or run.run_after or run.queued_at


def created(run: RunInfo) -> Answer:
    when = iso_offset(_execution_date(run))
    message = f"Created <DagRun {run.dag_id} @ {when}: {run.run_id}, externally triggered: True>"
    return Answer(200, {"message": message, "execution_date": when, "run_id": run.run_id})


def duplicate(run: RunInfo) -> Answer:
    """1.10 answered a used run id with 400 `DagRunAlreadyExists`; clients written for it expect that."""
    return Answer(400, {"error": f"Run id {run.run_id} already exists for dag id {run.dag_id}"})


def run_state(run: RunInfo) -> Answer:
    """`GET /dags/<dag_id>/dag_runs/<execution_date>`: 1.10 answers only the state."""
    return Answer(200, {"state": run.state})


def run_list(runs: list[RunInfo], base_url: str) -> Answer:
    """`GET /dags/<dag_id>/dag_runs`: 1.10's list items."""
    items: list[dict[str, Any]] = [
        {
            "id": None,
            "run_id": run.run_id,
            "state": run.state,
            "dag_id": run.dag_id,
            "execution_date": iso_offset(_execution_date(run)),
            "start_date": iso_offset(run.start_date),
            "dag_run_url": f"{base_url}/graph?dag_id={run.dag_id}&execution_date={iso_offset(_execution_date(run))}",
        }
        for run in runs
    ]
    return Answer(200, items)


def error(failure: RouteError) -> Answer:
    headers = (
        {"WWW-Authenticate": 'Basic realm="airshift route", Bearer'} if failure.kind == "unauthorized" else {}
    )
    return Answer(_STATUS[failure.kind], {"error": failure.message}, headers=headers)
