"""The Airflow listener: what only the task process knows (error text, hostname), sent to the API.

Registered by the airshift plugin (`airshift.events.plugin`). It never raises into Airflow and never
blocks a task for long: one HTTP call with a short timeout; a message that cannot be delivered goes
to a local spool file and is retried on the next call. With the database triggers installed
(mode `supplement`) the messages only add `detail` to events the triggers logged. Where the
database is not ours (MWAA, Composer), mode `listener-only` logs the listener's events themselves:
best effort, because Airflow calls listeners only for running/success/failed/up_for_retry and
self-skips (never scheduled, queued, upstream_failed or scheduler-made skips), and not at all when a
worker is killed.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from airshift.events import settings
from airshift.events.model import DAG_RUN, TASK_INSTANCE, NewEvent

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 2.0
SPOOL_BUDGET_SECONDS = 3.0  # at most this long retrying spooled messages per call
_ERROR_LIMIT = 4000

try:  # Airflow's pluggy marker; absent when airshift is imported outside Airflow
    from airflow.listeners import hookimpl as _airflow_hookimpl  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # outside Airflow
    _airflow_hookimpl = None

F = TypeVar("F", bound=Callable[..., Any])


def hookimpl(function: F) -> F:
    """Mark a hook implementation for Airflow's listener manager (pluggy), keeping its type."""
    return function if _airflow_hookimpl is None else cast(F, _airflow_hookimpl(function))


def _text(value: object) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


def _int(value: object, default: int) -> int:
    return default if value is None else int(str(value))


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def task_message(task_instance: Any, state: str, previous: object, **detail: Any) -> dict[str, Any]:
    event = NewEvent(
        kind=TASK_INSTANCE,
        dag_id=str(task_instance.dag_id),
        run_id=str(task_instance.run_id),
        task_id=str(task_instance.task_id),
        map_index=_int(getattr(task_instance, "map_index", None), -1),
        try_number=_int(getattr(task_instance, "try_number", None), 0),
        state=state,
        previous_state=_text(previous),
        changed_at=_now(),
        source="listener",
    )
    return {"event": event.model_dump(), "detail": {"hostname": socket.getfqdn(), **detail}}


def _post(body: dict[str, Any]) -> bool:
    import httpx

    url, token = settings.get("url"), settings.token()
    if not url or not token:
        return False
    try:
        response = httpx.post(
            url.rstrip("/") + "/supplements",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=TIMEOUT_SECONDS,
        )
    except httpx.HTTPError:
        return False
    return response.status_code < 300


class Spool:
    """Undelivered messages, one JSON line each; a file lock keeps task processes on one host apart."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "messages.jsonl"
        self.lock = directory / "messages.lock"

    def _locked(self) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd

    def add(self, body: dict[str, Any]) -> None:
        fd = self._locked()
        try:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(body) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
        finally:
            os.close(fd)

    def retry(self, budget: float = SPOOL_BUDGET_SECONDS) -> int:
        """Send spooled messages in order until one fails or the time budget is spent; keep the rest."""
        if not self.path.exists():
            return 0
        fd = self._locked()
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
            deadline, sent = time.monotonic() + budget, 0
            while sent < len(lines) and time.monotonic() < deadline:
                try:
                    body = json.loads(lines[sent])
                except ValueError:
                    sent += 1  # a torn line from a crash: nothing to deliver
                    continue
                if not _post(body):
                    break
                sent += 1
            temp = self.path.with_suffix(".tmp")
            temp.write_text("".join(line + "\n" for line in lines[sent:]), encoding="utf-8")
            os.replace(temp, self.path)
            return sent
        finally:
            os.close(fd)


def deliver(body: dict[str, Any]) -> None:
    """Send now (after older spooled messages, to keep their order); spool on failure. Never raises."""
    try:
        body["append"] = settings.mode() == "listener-only"
        spool = Spool(settings.spool_dir())
        spool.retry()
        if spool.path.exists() and spool.path.stat().st_size:
            spool.add(body)  # older messages still wait: queue behind them
        elif not _post(body):
            spool.add(body)
    except Exception:  # a listener must never break Airflow
        log.warning("airshift events: could not deliver or spool a listener message", exc_info=True)


@hookimpl
def on_task_instance_running(previous_state: Any, task_instance: Any) -> None:
    deliver(task_message(task_instance, "running", previous_state))


@hookimpl
def on_task_instance_success(previous_state: Any, task_instance: Any) -> None:
    deliver(task_message(task_instance, "success", previous_state))


@hookimpl
def on_task_instance_failed(previous_state: Any, task_instance: Any, error: Any) -> None:
    # Airflow calls this for up_for_retry too; the task instance's state says which.
    state = _text(getattr(task_instance, "state", None))
    if state not in ("failed", "up_for_retry"):
        state = "failed"
    text = None if error is None else (str(error) or type(error).__name__)[:_ERROR_LIMIT]
    deliver(task_message(task_instance, state, previous_state, error=text))


def _dag_run_message(dag_run: Any, state: str, msg: object) -> dict[str, Any]:
    event = NewEvent(
        kind=DAG_RUN,
        dag_id=str(dag_run.dag_id),
        run_id=str(dag_run.run_id),
        try_number=int(getattr(dag_run, "clear_number", 0) or 0),
        state=state,
        changed_at=_now(),
        source="listener",
    )
    return {"event": event.model_dump(), "detail": {"message": None if msg is None else str(msg)}}


@hookimpl
def on_dag_run_running(dag_run: Any, msg: Any) -> None:
    deliver(_dag_run_message(dag_run, "running", msg))


@hookimpl
def on_dag_run_success(dag_run: Any, msg: Any) -> None:
    deliver(_dag_run_message(dag_run, "success", msg))


@hookimpl
def on_dag_run_failed(dag_run: Any, msg: Any) -> None:
    deliver(_dag_run_message(dag_run, "failed", msg))


# Airflow 3 only (self-skips); on Airflow 2 pluggy keeps it as an unused implementation.
@hookimpl
def on_task_instance_skipped(previous_state: Any, task_instance: Any) -> None:
    deliver(task_message(task_instance, "skipped", previous_state))
