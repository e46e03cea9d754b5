"""The two Airflows as the router sees them: trigger a run, read a run by id or logical date, list
runs, whatever API the side speaks (1.10 experimental, 2.x `/api/v1`, 3.x `/api/v2`).

Connection, credentials, version detection and JWT renewal are the cutover REST client's
(`airshift.cutover.airflow_rest`); this module only needs its `request()` and builds the bodies the
router needs that the shared client does not send (notes, data intervals, a null logical date), and
reads the owner's JSON whole so a caller speaking the owner's API gets it back unchanged."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airshift.errors import AirshiftError
from airshift.route.dates import iso_offset, read_optional
from airshift.route.model import DuplicateRun, RouteError, RunInfo, SideName, TriggerRequest

if TYPE_CHECKING:
    from airshift.cutover.airflow_rest import AirflowClient as RestClient


def _status(error: Exception) -> int:
    return int(getattr(error, "status", 0) or 0)


def _reason(error: Exception, client: RestClient | None) -> str:
    """The owner's reason without the server's name or address (callers need not learn those)."""
    text = str(error)
    if client is None:
        return "connection or login failed" if text else ""
    _, found, tail = text.partition(f"from {client.name}")
    reason = tail.lstrip(": ").strip() if found else ""
    return reason[:300]


def _path(part: str) -> str:
    return quote(part, safe="")


class Side:
    """One Airflow behind the router. The connection is made on first use and again after a failed
    attempt, so the router starts (and serves the other side) while one Airflow is down."""

    def __init__(self, name: SideName, connect: Callable[[], RestClient]) -> None:
        self.name = name
        self._connect = connect
        self._client: RestClient | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> RestClient:
        with self._lock:
            if self._client is None:
                try:
                    self._client = self._connect()
                except AirshiftError as error:
                    raise RouteError(
                        "owner_down",
                        f"the {self.name} Airflow cannot be reached: {_reason(error, None) or 'connection failed'}",
                    ) from None
            return self._client

    def connected(self) -> RestClient | None:
        """The client if a connection was made or can be made now, else None (for the status page)."""
        try:
            return self.client
        except RouteError:
            return None

    @property
    def api(self) -> str:
        return self.client.flavour

    # -- reading runs -------------------------------------------------------------------------------

    def _read_run(self, data: dict[str, Any]) -> RunInfo:
        conf = data.get("conf")
        run_id = str(data.get("dag_run_id") or data.get("run_id"))
        run_type = data.get("run_type")
        if self.api == "experimental":
            # 1.10 lists neither run type nor conf: the run id's prefix is how 1.10 itself tells a
            # scheduled or backfill run from a triggered one; conf stays unknown (None), not empty.
            prefix = run_id.split("__", 1)[0] if "__" in run_id else ""
            run_type = {"scheduled": "scheduled", "backfill_": "backfill", "backfill": "backfill"}.get(
                prefix, "manual"
            )
            conf = None
        return RunInfo(
            dag_id=str(data.get("dag_id")),
            run_id=run_id,
            state=data.get("state"),
            side=self.name,
            run_type=run_type,
            logical_date=read_optional(data.get("logical_date") or data.get("execution_date")),
            queued_at=read_optional(data.get("queued_at")),
            start_date=read_optional(data.get("start_date")),
            end_date=read_optional(data.get("end_date")),
            data_interval_start=read_optional(data.get("data_interval_start")),
            data_interval_end=read_optional(data.get("data_interval_end")),
            run_after=read_optional(data.get("run_after")),
            last_scheduling_decision=read_optional(data.get("last_scheduling_decision")),
            external_trigger=bool(data.get("external_trigger", run_type == "manual")),
            triggered_by=data.get("triggered_by"),
            conf=conf if isinstance(conf, dict) else (None if self.api == "experimental" else {}),
            note=data.get("note"),
            raw=data if self.api in ("v1", "v2") else None,
            raw_api=self.api,
        )

    def _call(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        """JSON of one call; None for 404. Unreachable -> owner_down, other errors -> owner_error."""
        try:
            response = self.client.request(method, path, what, ok_missing=True, **kwargs)
        except AirshiftError as error:
            raise self._failure(error, what) from None
        if response is None:
            return None
        try:
            return response.json()
        except ValueError:
            raise RouteError(
                "owner_error", f"the {self.name} Airflow answered {what} with something that is not JSON"
            ) from None

    def _failure(self, error: Exception, what: str) -> RouteError:
        status = _status(error)
        if status == 0:
            return RouteError(
                "owner_down", f"the {self.name} Airflow, which owns this DAG, cannot be reached ({what})"
            )
        if status in (401, 403):
            return RouteError(
                "owner_error", f"the {self.name} Airflow refused the router's credentials (HTTP {status})"
            )
        return RouteError(
            "owner_error",
            f"the {self.name} Airflow failed {what} (HTTP {status}) {_reason(error, self.client)}".strip(),
        )

    def get_run(self, dag_id: str, run_id: str, *, timeout: float | None = None) -> RunInfo | None:
        """The run with this id, or None. `timeout` (seconds) overrides the plan's for this call."""
        what = f"reading run {run_id!r} of DAG {dag_id!r}"
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        if self.api == "experimental":
            return next(
                (run for run in self.list_runs(dag_id, timeout=timeout) if run.run_id == run_id), None
            )
        data = self._call("GET", f"/dags/{_path(dag_id)}/dagRuns/{_path(run_id)}", what, **extra)
        return None if data is None else self._read_run(data)

    def list_runs(self, dag_id: str, *, timeout: float | None = None) -> list[RunInfo]:
        what = f"listing runs of DAG {dag_id!r}"
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        if self.api == "experimental":
            try:
                response = self.client.request(
                    "GET", f"/dags/{_path(dag_id)}/dag_runs", what, ok_missing=True, **extra
                )
            except AirshiftError as error:
                if _status(error) == 400:  # 1.10 answers an unknown DAG with 400
                    return []
                raise self._failure(error, what) from None
            items = [] if response is None else response.json()
            return [self._read_run({**item, "dag_id": dag_id}) for item in items if isinstance(item, dict)]
        order = "-execution_date" if self.api == "v1" else "-logical_date"
        data = self._call(
            "GET", f"/dags/{_path(dag_id)}/dagRuns", what, params={"order_by": order, "limit": 100}, **extra
        )
        return [] if data is None else [self._read_run(item) for item in data.get("dag_runs") or []]

    def run_at(self, dag_id: str, logical_date: datetime) -> RunInfo | None:
        """The run at exactly this logical date (how 1.10 clients name a run)."""
        what = f"reading the run of DAG {dag_id!r} at {logical_date.isoformat()}"
        if self.api == "experimental":
            return next((run for run in self.list_runs(dag_id) if run.logical_date == logical_date), None)
        bound = logical_date.isoformat()
        names = (
            ("execution_date_gte", "execution_date_lte")
            if self.api == "v1"
            else ("logical_date_gte", "logical_date_lte")
        )
        data = self._call(
            "GET", f"/dags/{_path(dag_id)}/dagRuns", what, params={names[0]: bound, names[1]: bound}
        )
        runs = [] if data is None else [self._read_run(item) for item in data.get("dag_runs") or []]
        return next((run for run in runs if run.logical_date == logical_date), None)

    # -- triggering ---------------------------------------------------------------------------------

    @staticmethod
    def execution_date(request: TriggerRequest, now: datetime) -> datetime:
        """The execution date a 1.10 side gets: 1.10 has no run without one."""
        return request.logical_date or request.run_after or now

    def trigger_body(self, request: TriggerRequest, now: datetime) -> dict[str, Any]:
        """The body this side's API takes for the normalized request."""
        if self.api == "experimental":
            return {
                "run_id": request.run_id,
                "conf": request.conf,
                "execution_date": self.execution_date(request, now).isoformat(),
                "replace_microseconds": "false",  # the router already applied the caller's choice
            }
        if request.partition_key is not None and self.api != "v2":
            raise RouteError(
                "bad_request", f"partition_key needs Airflow 3; the {self.name} side speaks /api/{self.api}"
            )
        body: dict[str, Any] = {"dag_run_id": request.run_id, "conf": request.conf}
        if request.note is not None:
            body["note"] = request.note
        if request.data_interval is not None:
            body["data_interval_start"] = iso_offset(request.data_interval[0])
            body["data_interval_end"] = iso_offset(request.data_interval[1])
        if self.api == "v2":
            body["logical_date"] = iso_offset(request.logical_date)
            if request.run_after is not None:
                body["run_after"] = iso_offset(request.run_after)
            if request.partition_key is not None:
                body["partition_key"] = request.partition_key
        elif request.logical_date is not None or request.run_after is not None:
            body["logical_date"] = iso_offset(request.logical_date or request.run_after)
        return body

    def trigger(self, request: TriggerRequest, now: datetime) -> RunInfo:
        """Create the run. A run id already used raises DuplicateRun with the existing run. When the
        owner cannot be reached mid-request the run may exist anyway: it is looked up by id before
        the caller is told anything, so a retry never makes a second run."""
        body = self.trigger_body(request, now)
        what = f"triggering DAG {request.dag_id!r}"
        path = f"/dags/{_path(request.dag_id)}/" + ("dag_runs" if self.api == "experimental" else "dagRuns")
        try:
            response = self.client.request("POST", path, what, ok_missing=True, json=body)
        except AirshiftError as error:
            status = _status(error)
            if self.api == "experimental" and status in (400, 500):
                raise self._refused_110(request, self.execution_date(request, now), error) from None
            if status in (0, 400, 409, 500, 502, 503, 504):
                existing = self._lookup_after_failure(request)
                if existing is not None:
                    if status == 0 or status >= 500:
                        return existing  # our own request made it before the connection failed
                    raise DuplicateRun(existing) from None
            if status == 409:
                raise RouteError(
                    "conflict",
                    f"DAG {request.dag_id!r} already has a run at that logical date on the {self.name} side",
                ) from None
            if status == 400:
                raise RouteError(
                    "bad_request",
                    f"the {self.name} Airflow refused the trigger: {_reason(error, self.client)}",
                ) from None
            raise self._failure(error, what) from None
        if response is None:
            raise RouteError(
                "not_found", f"DAG {request.dag_id!r} not found on the {self.name} side, which owns it"
            )
        if self.api == "experimental":
            run = self.get_run(request.dag_id, request.run_id)
            if run is None:
                raise RouteError(
                    "owner_error",
                    f"the {self.name} Airflow accepted the trigger but lists no run {request.run_id!r}",
                )
            # 1.10 lists no conf; this run was just made with exactly the conf sent.
            return dataclasses.replace(run, conf=dict(request.conf), external_trigger=True)
        return self._read_run(response.json())

    def _refused_110(self, request: TriggerRequest, when: datetime, error: Exception) -> Exception:
        """What a 400 or 500 from a 1.10 side means. 1.10 answers a used run id with 400, and a taken
        execution date (its runs are unique by DAG and execution date) with a 500 from the database's
        unique constraint: also when two triggers race for one id. Either way this request made no
        run: a run with its id is a duplicate, a run at its date a conflict."""
        status = _status(error)
        try:
            existing = self.get_run(request.dag_id, request.run_id)
            taken = None if existing is not None else self.run_at(request.dag_id, when)
        except RouteError:
            existing = taken = None
        if existing is not None:
            return DuplicateRun(existing)
        if taken is not None:
            return RouteError(
                "conflict",
                f"DAG {request.dag_id!r} already has a run at {when.isoformat()} on the {self.name} side "
                f"(run {taken.run_id!r}); Airflow 1.10 allows one run per execution date",
            )
        if status == 400:
            return RouteError(
                "bad_request", f"the {self.name} Airflow refused the trigger: {_reason(error, self.client)}"
            )
        return RouteError(
            "owner_error",
            f"the {self.name} Airflow (1.10) failed triggering DAG {request.dag_id!r} (HTTP 500); 1.10 does "
            "so for an execution date before the start_date in the DAG's default_args",
        )

    def _lookup_after_failure(self, request: TriggerRequest) -> RunInfo | None:
        try:
            return self.get_run(request.dag_id, request.run_id)
        except RouteError:
            return None
