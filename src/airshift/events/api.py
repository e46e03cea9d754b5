"""The EventStream REST API (FastAPI): events after an offset (filters, long-poll), per-run status,
artifacts, and supplements from the listener.

Every route, the OpenAPI document included, depends on the `auth` dependency given to `create_app`:
`BearerAuth(token)` for `airshift events serve`, Airflow's own user check when the Airflow 3 plugin
mounts the app in the api-server. Plugin apps are not authenticated by Airflow on their own.

What the authenticated caller may see or write is a `DagAccess` decision per DAG: the bearer token of
`serve` grants every DAG; the plugin asks Airflow's auth manager, so a user sees the events of exactly
the DAGs they may read in the UI, and publishes artifacts only for DAGs whose task results they may write.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac
import json
import re
import time
from collections.abc import Callable
from typing import Annotated, Any, Literal, Protocol

from fastapi import Depends, FastAPI, HTTPException, Query, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from airshift import __version__
from airshift.events.model import ARTIFACT, Event, NewEvent
from airshift.events.runs import RunView, fold_run
from airshift.events.stores import EventFilter, EventLog
from airshift.events.stores.sqlite import utc_now

MAX_WAIT_SECONDS = 60.0
_POLL_SECONDS = 0.1
MD5_PATTERN = r"^[0-9a-fA-F]{32}$"
_MD5 = re.compile(MD5_PATTERN)
Auth = Callable[..., Any]
DEFAULT_MAX_BODY_BYTES = 1024 * 1024  # a request body larger than this is refused with 413
# Offsets and sizes stop at 2**53 - 1, the largest integer every JSON client (JavaScript's numbers)
# holds exactly; tries and map indexes are Airflow INTEGER columns. Larger numbers are refused with 422
# instead of overflowing the store.
MAX_OFFSET = 2**53 - 1
MAX_INT = 2**31 - 1
_REMEMBERED_RUNS = 100_000
ID_LENGTH = 250  # Airflow's ID_LEN for dag_id, task_id and run_id
TEXT_LENGTH = 4096
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "a malformed request"},
    401: {"description": "a missing or wrong bearer token"},
    403: {"description": "no permission for this DAG"},
    404: {"description": "no such run"},
    413: {"description": "the request body is larger than the server accepts"},
    422: {"description": "a request that does not match the schema"},
}
Id = Annotated[str, Field(min_length=1, max_length=ID_LENGTH)]


class EventPage(BaseModel):
    events: list[Event]
    next_after: int = Field(description="pass as `after` to read on (the last offset returned, or `after`)")
    last_offset: int = Field(description="the newest offset in the log")


class ManifestEntry(BaseModel):
    path: str = Field(min_length=1, max_length=TEXT_LENGTH)
    md5: str = Field(pattern=MD5_PATTERN)
    size: int | None = Field(default=None, ge=0, le=MAX_OFFSET)

    @field_validator("md5")
    @classmethod
    def _hex(cls, value: str) -> str:
        if not _MD5.match(value.lower()):
            raise ValueError("md5 must be 32 hexadecimal digits")
        return value.lower()


class ArtifactIn(BaseModel):
    dag_id: Id
    run_id: Id
    task_id: Id
    map_index: int = Field(default=-1, ge=-1, le=MAX_INT)
    try_number: int = Field(ge=0, le=MAX_INT)
    payload: Any = None
    payload_uri: str | None = Field(default=None, max_length=TEXT_LENGTH)
    manifest: list[ManifestEntry] = []


class _SupplementEvent(BaseModel):
    """The transition a supplement is about, as the listener saw it. Only the database triggers log
    transitions with source "trigger", so a supplement can never claim one."""

    model_config = ConfigDict(extra="forbid")

    dag_id: Id
    run_id: Id
    try_number: int = Field(default=0, ge=0, le=MAX_INT)
    run_attempt: int = Field(default=0, ge=0, le=MAX_INT)
    logical_date: AwareDatetime | None = None
    changed_at: AwareDatetime  # run status computes ages from it: a time with its zone, nothing else
    source: Literal["listener"] = "listener"
    detail: dict[str, Any] | None = None

    def as_new_event(self) -> NewEvent:
        fields = self.model_dump()
        fields["changed_at"] = _iso_text(self.changed_at)
        fields["logical_date"] = _iso_text(self.logical_date) if self.logical_date else None
        return NewEvent(**fields)


def _iso_text(moment: dt.datetime) -> str:
    """ISO 8601 with microseconds, UTC as Z (as the listener writes). Other offsets are kept, not
    converted: converting a time at the edge of the calendar (year 1 or 9999) could overflow."""
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


TaskState = Literal[
    "none", "removed", "scheduled", "queued", "running", "success", "restarting", "failed", "up_for_retry",
    "up_for_reschedule", "upstream_failed", "skipped", "deferred", "sensing", "shutdown",
]  # fmt: skip
RunState = Literal["queued", "running", "success", "failed"]


class TaskSupplementEvent(_SupplementEvent):
    """A task try's transition (the task states of Airflow 1.10-3.x)."""

    kind: Literal["task_instance"]
    task_id: Id
    map_index: int = Field(default=-1, ge=-1, le=MAX_INT)
    state: TaskState
    previous_state: TaskState | None = None


class RunSupplementEvent(_SupplementEvent):
    """A DAG run's transition."""

    kind: Literal["dag_run"]
    task_id: Literal[""] = ""
    map_index: Literal[-1] = -1
    state: RunState
    previous_state: RunState | None = None


SupplementEvent = Annotated[TaskSupplementEvent | RunSupplementEvent, Field(discriminator="kind")]


class SupplementIn(BaseModel):
    """What the listener knows about one transition; `append` in listener-only mode (no triggers)."""

    event: SupplementEvent
    detail: dict[str, Any]
    append: bool = False


class Published(BaseModel):
    offset: int | None
    duplicate: bool


_BEARER = HTTPBearer(auto_error=False)
Action = Literal["read", "write"]


class DagAccess(Protocol):
    """Per-DAG permissions of the user the `auth` dependency returned."""

    def readable_dags(self, user: Any) -> frozenset[str] | None:
        """The DAGs whose events `user` may read; None when every DAG is readable."""
        ...

    def may(self, user: Any, action: Action, dag_id: str) -> bool: ...


class EveryDag:
    """The holder of the `serve` token may read and write the events of every DAG."""

    def readable_dags(self, user: Any) -> frozenset[str] | None:
        return None

    def may(self, user: Any, action: Action, dag_id: str) -> bool:
        return True


def _require(access: DagAccess, user: Any, action: Action, dag_id: str) -> None:
    if not access.may(user, action, dag_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"no permission to {action} DAG {dag_id!r}")


class BearerAuth:
    """A dependency accepting only `Authorization: Bearer <token>` (constant-time comparison)."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("an empty API token")
        self._token = token.encode()

    def __call__(self, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)]) -> None:
        if credentials is None or not hmac.compare_digest(credentials.credentials.encode(), self._token):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"}
            )


def _links_to_run(body_field: str) -> dict[str, Any]:
    """OpenAPI links from a write to the reads of the same run (clients and stateful tests follow them)."""
    prefix = f"$request.body#/{body_field}/" if body_field != "artifact" else "$request.body#/"
    run = {"dag_id": prefix + "dag_id", "run_id": prefix + "run_id"}
    return {
        "RunStatus": {"operationId": "run_status", "parameters": run},
        "Artifacts": {"operationId": "read_artifacts", "parameters": run},
        "Runs": {"operationId": "list_runs", "parameters": {"dag_id": prefix + "dag_id"}},
    }


def _filter(
    dag_id: str | None = None,
    run_id: str | None = None,
    task_id: str | None = None,
    state: str | None = None,
    kind: str | None = None,
) -> EventFilter:
    return EventFilter(dag_id=dag_id, run_id=run_id, task_id=task_id, state=state, kind=kind)


def create_app(
    log: EventLog,
    auth: Auth,
    root_path: str = "",
    access: DagAccess | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> FastAPI:
    dags: DagAccess = access or EveryDag()

    app = FastAPI(
        title="airshift EventStream",
        version=__version__,
        description="Every Airflow task and DAG-run state change, in order, with offsets; run status; artifacts.",
        openapi_url=None,  # served below, behind the same auth as everything else
        docs_url=None,
        redoc_url=None,
        root_path=root_path,
        dependencies=[Depends(auth)],  # every route below
        responses=ERROR_RESPONSES,
    )
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    # Routes that decide per DAG name the same dependency (FastAPI resolves it once per request). It is
    # a default value, not an annotation: annotations are resolved at module level, where `auth` is not.
    current_user = Depends(auth)
    # Runs this server heard of from the listener: the relay may not have logged a run's first event yet
    # when its task publishes an artifact, but the listener's supplement for that task arrived before.
    supplemented: dict[tuple[str, str], None] = {}

    def known_run(dag_id: str, run_id: str) -> bool:
        if (dag_id, run_id) in supplemented:
            return True
        return bool(log.read(0, 1, EventFilter(dag_id=dag_id, run_id=run_id)))

    @app.get("/openapi.json", include_in_schema=False)
    def openapi() -> dict[str, Any]:
        return app.openapi()

    @app.get("/events", response_model=EventPage, operation_id="read_events")
    def read_events(
        where: Annotated[EventFilter, Depends(_filter)],
        after: Annotated[
            int, Query(ge=0, le=MAX_OFFSET, description="return events with a larger offset")
        ] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        wait: Annotated[
            float, Query(ge=0, le=MAX_WAIT_SECONDS, description="long-poll: seconds to wait for an event")
        ] = 0,
        user: Any = current_user,
    ) -> EventPage:
        if where.dag_id is not None:
            _require(dags, user, "read", where.dag_id)
        else:
            where = dataclasses.replace(where, dag_ids=dags.readable_dags(user))
        deadline = time.monotonic() + wait
        while True:
            events = log.read(after, limit, where)
            if events or time.monotonic() >= deadline:
                break
            time.sleep(_POLL_SECONDS)
        return EventPage(
            events=events, next_after=events[-1].offset if events else after, last_offset=log.last_offset()
        )

    @app.get("/runs/{dag_id}", response_model=list[RunView], operation_id="list_runs")
    def list_runs(dag_id: str, user: Any = current_user) -> list[RunView]:
        _require(dags, user, "read", dag_id)
        by_run: dict[str, list[Event]] = {}
        for event in _all(log, EventFilter(dag_id=dag_id)):
            by_run.setdefault(event.run_id, []).append(event)
        return [fold_run(dag_id, run_id, events) for run_id, events in by_run.items()]

    @app.get("/runs/{dag_id}/{run_id}", response_model=RunView, operation_id="run_status")
    def run_status(dag_id: str, run_id: str, user: Any = current_user) -> RunView:
        _require(dags, user, "read", dag_id)
        events = _all(log, EventFilter(dag_id=dag_id, run_id=run_id))
        if not events:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no events for run {run_id!r} of DAG {dag_id!r}")
        return fold_run(dag_id, run_id, events)

    @app.post(
        "/artifacts",
        response_model=Published,
        status_code=status.HTTP_201_CREATED,
        operation_id="publish_artifact",
        responses={201: {"links": _links_to_run("artifact")}},
    )
    def publish_artifact(artifact: ArtifactIn, user: Any = current_user) -> Published:
        """One artifact per task try; publishing the same try again is ignored (safe retries)."""
        _require(dags, user, "write", artifact.dag_id)
        if not known_run(artifact.dag_id, artifact.run_id):
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                f"no run {artifact.run_id!r} of DAG {artifact.dag_id!r} in the log; artifacts belong to runs",
            )
        event = NewEvent(
            kind=ARTIFACT,
            dag_id=artifact.dag_id,
            run_id=artifact.run_id,
            task_id=artifact.task_id,
            map_index=artifact.map_index,
            try_number=artifact.try_number,
            state="published",
            changed_at=utc_now(),
            source="api",
            detail={
                "payload": artifact.payload,
                "payload_uri": artifact.payload_uri,
                "manifest": [entry.model_dump() for entry in artifact.manifest],
            },
        )
        result = log.append([event])
        return Published(
            offset=result.last_offset if result.appended else None, duplicate=not result.appended
        )

    @app.get("/artifacts/{dag_id}/{run_id}", response_model=list[Event], operation_id="read_artifacts")
    def read_artifacts(dag_id: str, run_id: str, user: Any = current_user) -> list[Event]:
        _require(dags, user, "read", dag_id)
        return _all(log, EventFilter(dag_id=dag_id, run_id=run_id, kind=ARTIFACT))

    @app.post(
        "/supplements",
        response_model=Published,
        operation_id="supplement",
        responses={200: {"links": _links_to_run("event")}},
    )
    def supplement(body: SupplementIn, user: Any = current_user) -> Published:
        _require(dags, user, "write", body.event.dag_id)
        event = body.event.as_new_event()
        supplemented[(event.dag_id, event.run_id)] = None
        while len(supplemented) > _REMEMBERED_RUNS:
            del supplemented[next(iter(supplemented))]
        offset = None
        if body.append:
            result = log.append([event])
            offset = result.last_offset if result.appended else None
        log.annotate(event.detail_key, body.detail)
        return Published(offset=offset, duplicate=offset is None)

    return app


class BodyLimit:
    """Refuses a request whose body is larger than `max_bytes` with 413, before it is parsed or stored:
    by its Content-Length when given, else by counting the chunks as they arrive."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _too_large(send, self.max_bytes)
            return
        received = 0

        async def counting_receive() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:  # FastAPI answers an HTTPException raised here as it is
                    raise HTTPException(413, f"request body larger than {self.max_bytes} bytes")
            return message

        await self.app(scope, counting_receive, send)


async def _too_large(send: Any, limit: int) -> None:
    body = json.dumps({"detail": f"request body larger than {limit} bytes"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _all(log: EventLog, where: EventFilter, page: int = 5000) -> list[Event]:
    events: list[Event] = []
    after = 0
    while True:
        batch = log.read(after, page, where)
        events += batch
        if len(batch) < page:
            return events
        after = batch[-1].offset
