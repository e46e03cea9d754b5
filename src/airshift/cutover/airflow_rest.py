"""One REST client interface over the three Airflow API flavours cutover and the router talk to:

- Airflow 1.10 experimental API (`/api/experimental`): pause by GET, runs listed per DAG, no next-run
  fields (those come from the metadata database);
- Airflow 2.x stable API (`/api/v1`): basic auth or a bearer token;
- Airflow 3.x (`/api/v2`): a JWT from `/auth/token` (renewed once when it expires mid-cutover).

Authentication, TLS and version detection are the transfer code's (`state/`); this module adds the
calls a switch needs: read a DAG's paused flag and next run, pause/unpause, list runs by state, trigger,
read and mark a run. Errors are `AirflowApiError` (an AirshiftError with the HTTP status) and never
quote a request body or a credential.
"""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx

from airshift.cutover.plan import CutoverPlan, Environment
from airshift.errors import AirshiftError
from airshift.state.credentials import ApiAuth, read_secret_file
from airshift.state.secret import Secret
from airshift.state.targets.api_v2 import first_line, normalize_base_url, request_jwt, tls_verify

Flavour = Literal["experimental", "v1", "v2"]
ACTIVE_STATES = ("queued", "running")
PAGE = 100


class AirflowApiError(AirshiftError):
    """A call the Airflow server refused or could not answer; `status` is its HTTP status (0 when the
    server could not be reached)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class RunExists(AirflowApiError):
    """A trigger with a run id or logical date that already has a run (HTTP 409, or 400 on 1.10)."""


@dataclass(frozen=True)
class DagInfo:
    dag_id: str
    is_paused: bool
    # The next scheduled run as the server sees it; None where the API does not say (1.10).
    next_logical_date: dt.datetime | None = None
    next_run_after: dt.datetime | None = None
    next_data_interval_start: dt.datetime | None = None
    next_data_interval_end: dt.datetime | None = None
    has_import_errors: bool = False
    is_active: bool = True
    schedule: str | None = None
    tags: tuple[str, ...] = ()
    # When the server's dag-processor last parsed the DAG's file (2.x/3.x; None where not said).
    last_parsed: dt.datetime | None = None


@dataclass(frozen=True)
class DagDetails:
    """What `GET /dags/{id}/details` adds: whether the DAG catches up."""

    dag_id: str
    catchup: bool | None


@dataclass(frozen=True)
class RunInfo:
    dag_id: str
    run_id: str
    state: str
    logical_date: dt.datetime | None = None
    run_type: str | None = None
    data_interval_start: dt.datetime | None = None
    data_interval_end: dt.datetime | None = None
    run_after: dt.datetime | None = None
    conf: dict[str, Any] = field(default_factory=dict)

    @property
    def due(self) -> dt.datetime | None:
        """When the run became due: its run_after (3.x), else its data interval's end, else its date."""
        return self.run_after or self.data_interval_end or self.logical_date

    def as_dict(self) -> dict[str, Any]:
        def iso(value: dt.datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "dag_id": self.dag_id,
            "run_id": self.run_id,
            "state": self.state,
            "logical_date": iso(self.logical_date),
            "run_type": self.run_type,
            "data_interval_start": iso(self.data_interval_start),
            "data_interval_end": iso(self.data_interval_end),
            "run_after": iso(self.run_after),
        }


def parse_time(value: Any) -> dt.datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _quote(part: str) -> str:
    return httpx.URL(f"http://x/{part}").raw_path.decode("ascii").lstrip("/").replace("/", "%2F")


class AirflowClient(abc.ABC):
    """The interface; one subclass per API flavour. `name` labels the server in messages."""

    flavour: Flavour
    prefix: str

    def __init__(self, base_url: str, auth: ApiAuth, version: str, name: str, timeout: float = 60.0) -> None:
        self.base_url = normalize_base_url(base_url)
        self.version = version
        self.name = name or self.base_url
        self._auth = auth
        self._client = httpx.Client(
            base_url=self.base_url, verify=tls_verify(auth.verify), timeout=timeout, follow_redirects=False
        )
        self._apply_auth()

    # -- plumbing -----------------------------------------------------------------------------------

    def _apply_auth(self) -> None:
        auth = self._auth
        if auth.token is not None:
            self._client.headers["Authorization"] = f"Bearer {auth.token.reveal()}"
        elif auth.user and auth.password is not None:
            self._client.auth = httpx.BasicAuth(auth.user, auth.password.reveal())

    def _renew(self) -> bool:
        """Get fresh credentials after a 401; True when worth retrying (3.x JWTs expire)."""
        return False

    def request(
        self, method: str, path: str, what: str, *, ok_missing: bool = False, **kwargs: Any
    ) -> httpx.Response | None:
        """One call under this flavour's prefix. Returns None for 404 when `ok_missing`."""
        for attempt in (1, 2):
            try:
                response = self._client.request(method, f"{self.prefix}{path}", **kwargs)
            except httpx.HTTPError as error:
                raise AirflowApiError(f"{what}: cannot reach {self.name}: {first_line(error)}") from None
            if response.status_code == 401 and attempt == 1 and self._renew():
                continue
            break
        status = response.status_code
        if status in (401, 403):
            raise AirflowApiError(
                f"{what}: {self.name} refused the credentials (HTTP {status}): check the user, password or "
                "token in the plan, and that the user may edit DAGs and runs",
                status,
            )
        if status == 404 and ok_missing:
            return None
        if status == 409:
            raise RunExists(f"{what}: {self.name} already has that run (HTTP 409)", status)
        if status >= 400:
            raise AirflowApiError(f"{what}: HTTP {status} from {self.name}{_reason(response)}", status)
        return response

    def json(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        response = self.request(method, path, what, **kwargs)
        if response is None:
            return None
        try:
            return response.json()
        except ValueError:
            raise AirflowApiError(f"{what}: {self.name} answered with something that is not JSON") from None

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> AirflowClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def major(self) -> int:
        head = self.version.split(".", 1)[0]
        return int(head) if head.isdigit() else 0

    # -- the interface ------------------------------------------------------------------------------

    @abc.abstractmethod
    def get_dag(self, dag_id: str) -> DagInfo | None: ...

    @abc.abstractmethod
    def list_dags(self) -> dict[str, tuple[str, ...]]:
        """Every DAG the server knows -> its tags."""

    @abc.abstractmethod
    def set_paused(self, dag_id: str, paused: bool) -> None: ...

    @abc.abstractmethod
    def list_runs(
        self,
        dag_id: str,
        states: Iterable[str] | None = None,
        *,
        limit: int = PAGE,
        newest_first: bool = True,
    ) -> list[RunInfo]: ...

    @abc.abstractmethod
    def get_run(self, dag_id: str, run_id: str) -> RunInfo | None: ...

    @abc.abstractmethod
    def trigger(
        self,
        dag_id: str,
        *,
        run_id: str | None = None,
        logical_date: dt.datetime | None = None,
        conf: dict[str, Any] | None = None,
    ) -> RunInfo: ...

    @abc.abstractmethod
    def set_run_state(
        self, dag_id: str, run_id: str, state: Literal["success", "failed", "queued"]
    ) -> None: ...

    def active_runs(self, dag_id: str) -> list[RunInfo]:
        return self.list_runs(dag_id, ACTIVE_STATES)

    def dag_details(self, dag_id: str) -> DagDetails | None:
        """Whether a DAG catches up; None for a DAG the server does not know."""
        raise AirflowApiError(f"{self.name}: this API cannot tell whether DAG {dag_id!r} catches up")

    def create_backfill(self, dag_id: str, from_date: dt.datetime, to_date: dt.datetime) -> int:
        """Ask for a backfill of the runs whose logical dates lie in [from_date, to_date] (runs that
        exist already are left alone); returns the backfill's id. Airflow 3 only."""
        raise AirflowApiError(
            f"{self.name}: only Airflow 3's REST API can create a backfill (DAG {dag_id!r})"
        )

    def delete_run(self, dag_id: str, run_id: str) -> None:
        raise AirflowApiError(f"{self.name}: this API cannot delete a run (run {run_id!r} of {dag_id!r})")

    def runs_at(self, dag_id: str, logical_date: dt.datetime) -> list[RunInfo]:
        """The runs of a DAG at exactly one logical date (any type and state)."""
        wanted = _aware(logical_date)
        return [run for run in self.list_runs(dag_id, limit=PAGE) if run.logical_date == wanted]


class StableApiClient(AirflowClient):
    """What `/api/v1` (2.x) and `/api/v2` (3.x) share; the differences are field names."""

    date_field = "logical_date"
    order_field = "logical_date"

    def _run(self, data: dict[str, Any]) -> RunInfo:
        conf = data.get("conf")
        return RunInfo(
            dag_id=str(data.get("dag_id")),
            run_id=str(data.get("dag_run_id")),
            state=str(data.get("state")),
            logical_date=parse_time(data.get("logical_date") or data.get("execution_date")),
            run_type=data.get("run_type"),
            data_interval_start=parse_time(data.get("data_interval_start")),
            data_interval_end=parse_time(data.get("data_interval_end")),
            run_after=parse_time(data.get("run_after")),
            conf=conf if isinstance(conf, dict) else {},
        )

    def list_dags(self) -> dict[str, tuple[str, ...]]:
        found: dict[str, tuple[str, ...]] = {}
        offset = 0
        while True:
            data = self.json(
                "GET", "/dags", f"listing DAGs on {self.name}", params={"limit": PAGE, "offset": offset}
            )
            items = data.get("dags") or []
            for item in items:
                tags = tuple(str(tag.get("name")) for tag in item.get("tags") or [] if isinstance(tag, dict))
                found[str(item["dag_id"])] = tags
            offset += len(items)
            if not items or offset >= int(data.get("total_entries") or 0):
                return found

    def list_runs(
        self,
        dag_id: str,
        states: Iterable[str] | None = None,
        *,
        limit: int = PAGE,
        newest_first: bool = True,
    ) -> list[RunInfo]:
        params: list[tuple[str, str | int]] = [
            ("limit", min(limit, PAGE)),
            ("order_by", f"{'-' if newest_first else ''}{self.order_field}"),
        ]
        params += [("state", state) for state in states or ()]
        runs: list[RunInfo] = []
        offset = 0
        while len(runs) < limit:
            data = self.json(
                "GET",
                f"/dags/{_quote(dag_id)}/dagRuns",
                f"listing runs of DAG {dag_id!r} on {self.name}",
                ok_missing=True,
                params=[*params, ("offset", offset)],
            )
            if data is None:
                return runs
            items = data.get("dag_runs") or []
            runs += [self._run(item) for item in items]
            offset += len(items)
            if not items or offset >= int(data.get("total_entries") or 0):
                break
        return runs[:limit]

    def get_run(self, dag_id: str, run_id: str) -> RunInfo | None:
        data = self.json(
            "GET",
            f"/dags/{_quote(dag_id)}/dagRuns/{_quote(run_id)}",
            f"reading run {run_id!r} of DAG {dag_id!r} on {self.name}",
            ok_missing=True,
        )
        return None if data is None else self._run(data)

    def set_run_state(self, dag_id: str, run_id: str, state: Literal["success", "failed", "queued"]) -> None:
        what = f"marking run {run_id!r} of DAG {dag_id!r} {state} on {self.name}"
        if self.request("PATCH", f"/dags/{_quote(dag_id)}/dagRuns/{_quote(run_id)}", what, ok_missing=True,
                        json={"state": state}) is None:  # fmt: skip
            raise AirflowApiError(f"{what}: no such run (HTTP 404)", 404)

    date_param = "logical_date"

    def runs_at(self, dag_id: str, logical_date: dt.datetime) -> list[RunInfo]:
        moment = _aware(logical_date).isoformat()
        data = self.json(
            "GET",
            f"/dags/{_quote(dag_id)}/dagRuns",
            f"listing runs of DAG {dag_id!r} at {moment} on {self.name}",
            ok_missing=True,
            params={f"{self.date_param}_gte": moment, f"{self.date_param}_lte": moment, "limit": PAGE},
        )
        if data is None:
            return []
        return [self._run(item) for item in data.get("dag_runs") or []]

    def dag_details(self, dag_id: str) -> DagDetails | None:
        data = self.json(
            "GET", f"/dags/{_quote(dag_id)}/details", f"reading the details of DAG {dag_id!r} on {self.name}",
            ok_missing=True,
        )  # fmt: skip
        if data is None:
            return None
        catchup = data.get("catchup")
        return DagDetails(dag_id, catchup if isinstance(catchup, bool) else None)

    def delete_run(self, dag_id: str, run_id: str) -> None:
        self.request(
            "DELETE", f"/dags/{_quote(dag_id)}/dagRuns/{_quote(run_id)}",
            f"deleting run {run_id!r} of DAG {dag_id!r} on {self.name}", ok_missing=True,
        )  # fmt: skip

    def _trigger_body(
        self, run_id: str | None, logical_date: dt.datetime | None, conf: dict[str, Any] | None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"conf": conf or {}}
        if run_id:
            body["dag_run_id"] = run_id
        if logical_date is not None:
            body["logical_date"] = _aware(logical_date).isoformat()
        return body

    def trigger(
        self,
        dag_id: str,
        *,
        run_id: str | None = None,
        logical_date: dt.datetime | None = None,
        conf: dict[str, Any] | None = None,
    ) -> RunInfo:
        what = f"triggering DAG {dag_id!r} on {self.name}"
        data = self.json(
            "POST", f"/dags/{_quote(dag_id)}/dagRuns", what, ok_missing=True,
            json=self._trigger_body(run_id, logical_date, conf),
        )  # fmt: skip
        if data is None:
            raise AirflowApiError(f"{what}: no such DAG (HTTP 404)", 404)
        return self._run(data)


class ApiV1Client(StableApiClient):
    """Airflow 2.x webserver, `/api/v1`."""

    flavour: Flavour = "v1"
    prefix = "/api/v1"
    order_field = "execution_date"
    date_param = "execution_date"

    def get_dag(self, dag_id: str) -> DagInfo | None:
        data = self.json(
            "GET", f"/dags/{_quote(dag_id)}", f"reading DAG {dag_id!r} on {self.name}", ok_missing=True
        )
        if data is None:
            return None
        # The schedule itself (cron text or interval), comparable with 3.x's timetable summary.
        schedule = _schedule_text(data.get("schedule_interval"))
        return DagInfo(
            dag_id=dag_id,
            is_paused=bool(data.get("is_paused")),
            next_logical_date=parse_time(data.get("next_dagrun")),
            next_run_after=parse_time(data.get("next_dagrun_create_after")),
            next_data_interval_start=parse_time(data.get("next_dagrun_data_interval_start")),
            next_data_interval_end=parse_time(data.get("next_dagrun_data_interval_end")),
            has_import_errors=bool(data.get("has_import_errors")),
            is_active=data.get("is_active") is not False,
            schedule=schedule,
            tags=tuple(str(t.get("name")) for t in data.get("tags") or [] if isinstance(t, dict)),
            last_parsed=parse_time(data.get("last_parsed_time")),
        )

    def set_paused(self, dag_id: str, paused: bool) -> None:
        what = f"{'pausing' if paused else 'unpausing'} DAG {dag_id!r} on {self.name}"
        if self.request("PATCH", f"/dags/{_quote(dag_id)}", what, ok_missing=True,
                        params={"update_mask": "is_paused"}, json={"is_paused": paused}) is None:  # fmt: skip
            raise AirflowApiError(f"{what}: no such DAG (HTTP 404)", 404)


class ApiV2Client(StableApiClient):
    """Airflow 3.x API server, `/api/v2`, JWT auth."""

    flavour: Flavour = "v2"
    prefix = "/api/v2"

    def _apply_auth(self) -> None:
        auth = self._auth
        if auth.token is None and auth.user and auth.password is not None:
            token = request_jwt(self.base_url, auth.user, auth.password, verify=auth.verify, role=self.name)
            self._client.headers["Authorization"] = f"Bearer {token.reveal()}"
        elif auth.token is not None:
            self._client.headers["Authorization"] = f"Bearer {auth.token.reveal()}"

    def _renew(self) -> bool:
        if self._auth.token is None and self._auth.user and self._auth.password is not None:
            self._apply_auth()
            return True
        return False

    def get_dag(self, dag_id: str) -> DagInfo | None:
        data = self.json(
            "GET", f"/dags/{_quote(dag_id)}", f"reading DAG {dag_id!r} on {self.name}", ok_missing=True
        )
        if data is None:
            return None
        return DagInfo(
            dag_id=dag_id,
            is_paused=bool(data.get("is_paused")),
            next_logical_date=parse_time(data.get("next_dagrun_logical_date")),
            next_run_after=parse_time(data.get("next_dagrun_run_after")),
            next_data_interval_start=parse_time(data.get("next_dagrun_data_interval_start")),
            next_data_interval_end=parse_time(data.get("next_dagrun_data_interval_end")),
            has_import_errors=bool(data.get("has_import_errors")),
            is_active=not data.get("is_stale", False),
            schedule=data.get("timetable_summary"),  # None for a DAG without a schedule
            tags=tuple(str(t.get("name")) for t in data.get("tags") or [] if isinstance(t, dict)),
            last_parsed=parse_time(data.get("last_parsed_time")),
        )

    def set_paused(self, dag_id: str, paused: bool) -> None:
        what = f"{'pausing' if paused else 'unpausing'} DAG {dag_id!r} on {self.name}"
        if self.request("PATCH", f"/dags/{_quote(dag_id)}", what, ok_missing=True,
                        json={"is_paused": paused}) is None:  # fmt: skip
            raise AirflowApiError(f"{what}: no such DAG (HTTP 404)", 404)

    def create_backfill(self, dag_id: str, from_date: dt.datetime, to_date: dt.datetime) -> int:
        what = f"creating a backfill of DAG {dag_id!r} on {self.name}"
        body = {
            "dag_id": dag_id,
            "from_date": _aware(from_date).isoformat(),
            "to_date": _aware(to_date).isoformat(),
            "reprocess_behavior": "none",  # never touch a run that exists
            "max_active_runs": 1,
            "run_backwards": False,
            "dag_run_conf": {},
        }
        data = self.json("POST", "/backfills", what, json=body)
        return int(data.get("id") or 0) if isinstance(data, dict) else 0

    def _trigger_body(
        self, run_id: str | None, logical_date: dt.datetime | None, conf: dict[str, Any] | None
    ) -> dict[str, Any]:
        body = super()._trigger_body(run_id, logical_date, conf)
        body.setdefault("logical_date", None)  # a required key in 3.x; null = a run without a date
        return body


class ExperimentalClient(AirflowClient):
    """Airflow 1.10's experimental API. It has no DAG listing and no next-run fields (cutover reads
    those from the metadata database) and cannot mark a run's state."""

    flavour: Flavour = "experimental"
    prefix = "/api/experimental"

    def get_dag(self, dag_id: str) -> DagInfo | None:
        what = f"reading DAG {dag_id!r} on {self.name}"
        try:
            data = self.json("GET", f"/dags/{_quote(dag_id)}/paused", what, ok_missing=True)
        except AirflowApiError as error:
            if error.status in (400, 500):  # 1.10 answers an unknown DAG with an error, not a 404
                return None
            raise
        if data is None:
            return None
        return DagInfo(dag_id=dag_id, is_paused=bool(data.get("is_paused")))

    def list_dags(self) -> dict[str, tuple[str, ...]]:
        raise AirshiftError(
            f"{self.name}: Airflow 1.10's experimental API cannot list DAGs; list the wave's dag_ids in the "
            "plan, or give the old side's metadata database (db_url_file / db_url_env)"
        )

    def set_paused(self, dag_id: str, paused: bool) -> None:
        what = f"{'pausing' if paused else 'unpausing'} DAG {dag_id!r} on {self.name}"
        if self.request("GET", f"/dags/{_quote(dag_id)}/paused/{'true' if paused else 'false'}", what,
                        ok_missing=True) is None:  # fmt: skip
            raise AirflowApiError(f"{what}: no such DAG (HTTP 404)", 404)

    def _run(self, dag_id: str, data: dict[str, Any]) -> RunInfo:
        run_id = str(data.get("run_id") or "")
        run_type = run_id.split("__", 1)[0] if "__" in run_id else None
        return RunInfo(
            dag_id=dag_id,
            run_id=run_id,
            state=str(data.get("state")),
            logical_date=parse_time(data.get("execution_date")),
            run_type="backfill" if run_type == "backfill_" else run_type,
        )

    def list_runs(
        self,
        dag_id: str,
        states: Iterable[str] | None = None,
        *,
        limit: int = PAGE,
        newest_first: bool = True,
    ) -> list[RunInfo]:
        runs: list[RunInfo] = []
        for state in list(states or [None]):  # type: ignore[list-item]
            params = {"state": state} if state else {}
            what = f"listing runs of DAG {dag_id!r} on {self.name}"
            try:
                data = self.json(
                    "GET", f"/dags/{_quote(dag_id)}/dag_runs", what, ok_missing=True, params=params
                )
            except AirflowApiError as error:
                if error.status == 400:  # unknown DAG
                    return []
                raise
            runs += [self._run(dag_id, item) for item in data or [] if isinstance(item, dict)]
        runs.sort(key=lambda run: run.logical_date or dt.datetime.min.replace(tzinfo=dt.timezone.utc),
                  reverse=newest_first)  # fmt: skip
        return runs[:limit]

    def get_run(self, dag_id: str, run_id: str) -> RunInfo | None:
        for run in self.list_runs(dag_id, limit=10_000):
            if run.run_id == run_id:
                return run
        return None

    def trigger(
        self,
        dag_id: str,
        *,
        run_id: str | None = None,
        logical_date: dt.datetime | None = None,
        conf: dict[str, Any] | None = None,
    ) -> RunInfo:
        body: dict[str, Any] = {"conf": conf or {}}
        if run_id:
            body["run_id"] = run_id
        if logical_date is not None:
            body["execution_date"] = _aware(logical_date).isoformat()
            body["replace_microseconds"] = "false"
        what = f"triggering DAG {dag_id!r} on {self.name}"
        try:
            data = self.json("POST", f"/dags/{_quote(dag_id)}/dag_runs", what, ok_missing=True, json=body)
        except AirflowApiError as error:
            if error.status == 400 and run_id and self.get_run(dag_id, run_id) is not None:
                raise RunExists(f"{what}: {self.name} already has run {run_id!r}", 409) from None
            raise
        if data is None:
            raise AirflowApiError(f"{what}: no such DAG (HTTP 404)", 404)
        return RunInfo(
            dag_id=dag_id,
            run_id=str(data.get("run_id") or run_id or ""),
            state="running",
            logical_date=parse_time(data.get("execution_date")),
            run_type="manual",
        )

    def set_run_state(self, dag_id: str, run_id: str, state: Literal["success", "failed", "queued"]) -> None:
        raise AirflowApiError(
            f"{self.name}: Airflow 1.10's experimental API cannot set a run's state (run {run_id!r} of {dag_id!r})"
        )


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _schedule_text(value: Any) -> str | None:
    if isinstance(value, dict):
        if value.get("__type") == "CronExpression":
            return str(value.get("value"))
        if value.get("__type") == "TimeDelta":
            return f"timedelta({value.get('days', 0)}d {value.get('seconds', 0)}s)"
    return None if value is None else str(value)


def _reason(response: httpx.Response) -> str:
    """Airflow's short reason for an error (title/detail), never the request's values."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    detail = body.get("detail")
    if isinstance(detail, list):  # FastAPI validation errors echo the input: keep the locations only
        parts = [".".join(str(p) for p in item.get("loc", [])) + ": " + str(item.get("msg", ""))
                 for item in detail[:3] if isinstance(item, dict)]  # fmt: skip
        return f" ({'; '.join(parts)})" if parts else ""
    parts = [str(body[name]) for name in ("title", "detail", "error") if isinstance(body.get(name), str)]
    text = ": ".join(dict.fromkeys(part.strip() for part in parts if part.strip()))
    return f" ({text.splitlines()[0][:200]})" if text else ""


# -- connecting from a plan -------------------------------------------------------------------------


def environment_auth(plan_path: Path, env: Environment, where: str) -> ApiAuth:
    """The credentials of one side of a plan, from the files and variables it names."""
    verify: bool | str = env.tls_verify
    if env.ca_file is not None:
        ca = env.ca_file if env.ca_file.is_absolute() else plan_path.parent / env.ca_file
        if not ca.is_file():
            raise AirshiftError(f"{plan_path}: [{where}] ca_file: {ca} is not a file")
        verify = str(ca)

    def from_env(key: str, name: str) -> Secret:
        value = os.environ.get(name, "")
        if not value.strip():
            raise AirshiftError(f"{plan_path}: [{where}] {key}: ${name} is not set")
        return Secret(value.strip())

    def from_file(path: Path, what: str) -> Secret:
        full = path if path.is_absolute() else plan_path.parent / path
        try:
            return read_secret_file(full, what)
        except AirshiftError as error:
            raise AirshiftError(f"{plan_path}: [{where}] {error}") from None

    if env.token_file is not None:
        return ApiAuth(token=from_file(env.token_file, "token"), verify=verify)
    if env.token_env is not None:
        return ApiAuth(token=from_env("token_env", env.token_env), verify=verify)
    if env.user:
        if env.password_file is not None:
            password = from_file(env.password_file, "password")
        else:
            assert env.password_env is not None  # the plan's validation
            password = from_env("password_env", env.password_env)
        return ApiAuth(user=env.user, password=password, verify=verify)
    return ApiAuth(verify=verify)


def detect_flavour(base_url: str, auth: ApiAuth, timeout: float = 30.0) -> tuple[Flavour, str]:
    """Which API `base_url` speaks: /api/v2 (3.x), /api/v1 (2.x) or 1.10's experimental API."""
    from airshift.state.sources.api import detect

    base = normalize_base_url(base_url)
    try:
        return detect(base, auth.verify, timeout, auth=auth)
    except AirshiftError as first:
        try:
            response = httpx.get(
                f"{base}/api/experimental/test", verify=tls_verify(auth.verify), timeout=timeout,
                follow_redirects=False,
            )  # fmt: skip
        except httpx.HTTPError:
            raise first from None
        if response.status_code == 200:
            return "experimental", "1.10"
        raise AirshiftError(
            f"{first} (and GET /api/experimental/test answered HTTP {response.status_code})"
        ) from None


_CLIENTS: dict[Flavour, type[AirflowClient]] = {
    "experimental": ExperimentalClient,
    "v1": ApiV1Client,
    "v2": ApiV2Client,
}


def connect(
    base_url: str,
    auth: ApiAuth,
    api: Literal["auto", "experimental", "v1", "v2"] = "auto",
    *,
    name: str = "",
    timeout: float = 60.0,
) -> AirflowClient:
    """A client for the server at `base_url`, its API flavour detected unless given."""
    if api == "auto":
        flavour, version = detect_flavour(base_url, auth)
    else:
        flavour, version = api, {"experimental": "1.10", "v1": "2", "v2": "3"}[api]
    return _CLIENTS[flavour](base_url, auth, version, name, timeout)


def connect_side(plan: CutoverPlan, side: Literal["old", "new"]) -> AirflowClient:
    """The REST client of the plan's old or new Airflow."""
    env = plan.side(side)
    auth = environment_auth(plan.path, env, side)
    return connect(env.url, auth, env.api, name=f"the {side} Airflow ({env.label})", timeout=env.timeout)


def plan_secrets(plan: CutoverPlan) -> list[str]:
    """Every credential the plan points at, for redaction (read best-effort: missing ones are skipped)."""
    found: list[str] = []
    sides: tuple[Literal["old", "new"], ...] = ("old", "new")
    for side in sides:
        env = plan.side(side)
        with contextlib.suppress(AirshiftError):
            auth = environment_auth(plan.path, env, side)
            found += [s.reveal() for s in (auth.password, auth.token) if s is not None]
        with contextlib.suppress(AirshiftError):
            url = side_db_url(plan, side)
            if url and "@" in url:
                head = url.split("://", 1)[-1].split("@", 1)[0]
                if ":" in head:
                    found.append(head.split(":", 1)[1])
        with contextlib.suppress(AirshiftError):
            found.append(side_db_password(plan, side) or "")
    return [s for s in found if s]


def side_db_url(plan: CutoverPlan, side: Literal["old", "new"]) -> str | None:
    """The metadata database URL of one side (from its file or variable), or None if not given."""
    env = plan.side(side)
    if env.db_url_env is not None:
        value = os.environ.get(env.db_url_env, "").strip()
        if not value:
            raise AirshiftError(f"{plan.path}: [{side}] db_url_env: ${env.db_url_env} is not set")
        return value
    if env.db_url_file is not None:
        full = plan.file(env.db_url_file)
        try:
            value = full.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise AirshiftError(
                f"{plan.path}: [{side}] db_url_file: cannot read {full}: {error.strerror}"
            ) from None
        if not value:
            raise AirshiftError(f"{plan.path}: [{side}] db_url_file: {full} is empty")
        return value
    return None


def side_db_password(plan: CutoverPlan, side: Literal["old", "new"]) -> str | None:
    env = plan.side(side)
    if env.db_password_env is not None:
        return os.environ.get(env.db_password_env) or None
    if env.db_password_file is not None:
        full = plan.file(env.db_password_file)
        try:
            return full.read_text(encoding="utf-8").rstrip("\r\n") or None
        except OSError as error:
            raise AirshiftError(
                f"{plan.path}: [{side}] db_password_file: cannot read {full}: {error.strerror}"
            ) from None
    return None
