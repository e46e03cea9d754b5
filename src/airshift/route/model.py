"""The one normalized trigger request every inbound shape is parsed into, the one normalized run every
owner's answer is read into, and the errors a route can end in (each shape renders them its own way)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Shape = Literal["experimental", "v1", "v2", "pubsub"]
SideName = Literal["old", "new"]


@dataclass(frozen=True)
class TriggerRequest:
    """What to create on the owner. `run_id` is always set (the caller's, or one made the way the
    caller's Airflow would have made it), so a retry after an ambiguous failure can be checked by id;
    `run_id_given` says which. `logical_date` is timezone-aware, or None for an Airflow 3 run without a
    logical date."""

    dag_id: str
    run_id: str
    logical_date: datetime | None
    conf: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    data_interval: tuple[datetime, datetime] | None = None
    run_after: datetime | None = None
    partition_key: str | None = None
    shape: Shape = "v2"
    # False when the router made the run id from the date (`manual__<date>`): a run with that id
    # then means another trigger took the date, not that this one is repeated.
    run_id_given: bool = True


@dataclass(frozen=True)
class RunInfo:
    """A DAG run as the owner reported it, whatever its Airflow version; dates are aware datetimes."""

    dag_id: str
    run_id: str
    state: str | None
    side: SideName
    run_type: str | None = None
    logical_date: datetime | None = None
    queued_at: datetime | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    data_interval_start: datetime | None = None
    data_interval_end: datetime | None = None
    run_after: datetime | None = None
    last_scheduling_decision: datetime | None = None
    external_trigger: bool = True
    triggered_by: str | None = None
    # None: the owner does not say (Airflow 1.10's experimental API lists no conf).
    conf: dict[str, Any] | None = field(default_factory=dict)
    note: str | None = None
    # The owner's own JSON, handed back unchanged when the caller speaks the owner's API.
    raw: dict[str, Any] | None = field(default=None, compare=False)
    raw_api: str | None = None


@dataclass(frozen=True)
class Answer:
    """An HTTP answer in one caller's shape."""

    status: int
    body: Any
    media_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


ErrorKind = Literal[
    "bad_request",  # a body or parameter the caller's Airflow would refuse
    "invalid",  # an Airflow 3 body that fails its schema (422 there)
    "unauthorized",  # no or bad credentials
    "not_found",  # unknown DAG or run
    "conflict",  # a run exists at that logical date (or, for v1/v2, with that run id)
    "owner_down",  # the owning Airflow cannot be reached or timed out
    "owner_error",  # the owning Airflow answered with an error the router cannot map
]


class RouteError(Exception):
    """A failure to answer in the caller's shape. `message` never carries a submitted value that could
    be a secret (conf, credentials); `details` are Airflow 3 style validation entries for 422."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        title: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.title = title
        self.details = details


class DuplicateRun(Exception):
    """The run id was already used: `run` is the existing run (on whichever side holds it)."""

    def __init__(self, run: RunInfo) -> None:
        super().__init__(f"run {run.run_id!r} of DAG {run.dag_id!r} exists on the {run.side} side")
        self.run = run
