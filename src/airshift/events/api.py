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
import hmac
import re
import time
from collections.abc import Callable
from typing import Annotated, Any, Literal, Protocol

from fastapi import Depends, FastAPI, HTTPException, Query, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, field_validator

from airshift import __version__
from airshift.events.model import ARTIFACT, Event, NewEvent
from airshift.events.runs import RunView, fold_run
from airshift.events.stores import EventFilter, EventLog
from airshift.events.stores.sqlite import utc_now

MAX_WAIT_SECONDS = 60.0
_POLL_SECONDS = 0.1
_MD5 = re.compile(r"^[0-9a-f]{32}$")
Auth = Callable[..., Any]


class EventPage(BaseModel):
    events: list[Event]
    next_after: int = Field(description="pass as `after` to read on (the last offset returned, or `after`)")
    last_offset: int = Field(description="the newest offset in the log")


class ManifestEntry(BaseModel):
    path: str
    md5: str
    size: int | None = None

    @field_validator("md5")
    @classmethod
    def _hex(cls, value: str) -> str:
        if not _MD5.match(value.lower()):
            raise ValueError("md5 must be 32 hexadecimal digits")
        return value.lower()


class ArtifactIn(BaseModel):
    dag_id: str = Field(min_length=1)
    run_id: str = Field(min_length=1)
    task_id: str = Field(min_length=1)
    map_index: int = -1
    try_number: int = Field(ge=0)
    payload: Any = None
    payload_uri: str | None = None
    manifest: list[ManifestEntry] = []


class SupplementIn(BaseModel):
    """What the listener knows about one transition; `append` in listener-only mode (no triggers)."""

    event: NewEvent
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


def _filter(
    dag_id: str | None = None,
    run_id: str | None = None,
    task_id: str | None = None,
    state: str | None = None,
    kind: str | None = None,
) -> EventFilter:
    return EventFilter(dag_id=dag_id, run_id=run_id, task_id=task_id, state=state, kind=kind)


def create_app(log: EventLog, auth: Auth, root_path: str = "", access: DagAccess | None = None) -> FastAPI:
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
    )
    # Routes that decide per DAG name the same dependency (FastAPI resolves it once per request). It is
    # a default value, not an annotation: annotations are resolved at module level, where `auth` is not.
    current_user = Depends(auth)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi() -> dict[str, Any]:
        return app.openapi()

    @app.get("/events", response_model=EventPage)
    def read_events(
        where: Annotated[EventFilter, Depends(_filter)],
        after: Annotated[int, Query(ge=0, description="return events with a larger offset")] = 0,
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

    @app.get("/runs/{dag_id}", response_model=list[RunView])
    def list_runs(dag_id: str, user: Any = current_user) -> list[RunView]:
        _require(dags, user, "read", dag_id)
        by_run: dict[str, list[Event]] = {}
        for event in _all(log, EventFilter(dag_id=dag_id)):
            by_run.setdefault(event.run_id, []).append(event)
        return [fold_run(dag_id, run_id, events) for run_id, events in by_run.items()]

    @app.get("/runs/{dag_id}/{run_id}", response_model=RunView)
    def run_status(dag_id: str, run_id: str, user: Any = current_user) -> RunView:
        _require(dags, user, "read", dag_id)
        events = _all(log, EventFilter(dag_id=dag_id, run_id=run_id))
        if not events:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no events for run {run_id!r} of DAG {dag_id!r}")
        return fold_run(dag_id, run_id, events)

    @app.post("/artifacts", response_model=Published, status_code=status.HTTP_201_CREATED)
    def publish_artifact(artifact: ArtifactIn, user: Any = current_user) -> Published:
        """One artifact per task try; publishing the same try again is ignored (safe retries)."""
        _require(dags, user, "write", artifact.dag_id)
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

    @app.get("/artifacts/{dag_id}/{run_id}", response_model=list[Event])
    def read_artifacts(dag_id: str, run_id: str, user: Any = current_user) -> list[Event]:
        _require(dags, user, "read", dag_id)
        return _all(log, EventFilter(dag_id=dag_id, run_id=run_id, kind=ARTIFACT))

    @app.post("/supplements", response_model=Published)
    def supplement(body: SupplementIn, user: Any = current_user) -> Published:
        _require(dags, user, "write", body.event.dag_id)
        offset = None
        if body.append:
            result = log.append([body.event])
            offset = result.last_offset if result.appended else None
        log.annotate(body.event.detail_key, body.detail)
        return Published(offset=offset, duplicate=offset is None)

    return app


def _all(log: EventLog, where: EventFilter, page: int = 5000) -> list[Event]:
    events: list[Event] = []
    after = 0
    while True:
        batch = log.read(after, page, where)
        events += batch
        if len(batch) < page:
            return events
        after = batch[-1].offset
