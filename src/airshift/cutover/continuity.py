"""How a switch makes the joining side continue a DAG's schedule where the leaving side stopped: per
DAG, one continuity **method**.

- `copy`: both metadata databases are in the plan; the run history is copied (`airshift.state`), and
  the joining side's dag-processor computes the next run from the newest copied run. Every version.
- `backfill-marker`: the joining side is Airflow 3 reached by REST only and the DAG catches up. While
  the DAG is paused there, `POST /api/v2/backfills` for exactly the last tick the leaving side ran
  creates one run of type `backfill` (it stays queued: the DAG is paused), marked `success` by
  `PATCH .../dagRuns/{id}`. Backfill runs are automated runs: the dag-processor computes the next run
  from it on every parse, so the joining side starts at the following tick and catches up from there.
- `manual-marker`: Airflow 3 by REST only, catchup=False (or `@once`). Manual runs are ignored by the
  next-run computation, so a backfill would not help the latest-tick rule either way; instead a
  manual run is created at exactly the joining side's `next_dagrun_logical_date` when that is the tick
  the leaving side ran, and marked `success`: the scheduler finds a run at its next logical date,
  skips it, and runs the following tick.
- `nothing`: no schedule, or the leaving side never ran the DAG on schedule: there is nothing to
  continue; the joining side starts as Airflow would.

Where no method is safe the DAG is refused, naming it, the side and the reason: an Airflow 2 joining
side without a copy (its REST API has no backfill, and markers are only proven on Airflow 3), and any
Airflow 1.10 side without its metadata database (its API has no next-run fields at all).

After a marker the DAG stays paused until the joining side's dag-processor has parsed the file again
(its `last_parsed_time` moves): a paused DAG's next run is recomputed at each parse, and until then
the scheduler still holds the next run computed before the marker existed.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any, Literal

from airshift.cutover.airflow_rest import AirflowApiError, AirflowClient, DagInfo, RunExists, RunInfo
from airshift.cutover.checks import FINISHED, normalize_schedule
from airshift.errors import AirshiftError

Method = Literal["copy", "backfill-marker", "manual-marker", "nothing"]
METHODS: tuple[Method, ...] = ("copy", "backfill-marker", "manual-marker", "nothing")
AUTOMATED = ("scheduled", "backfill")
MARKER_PREFIX = "airshift_marker__"

WHAT: dict[Method, str] = {
    "copy": "copy run history since the last copy into the joining side's metadata database",
    "backfill-marker": "mark the last tick run on the leaving side with a backfill run (REST), wait for a re-parse",
    "manual-marker": "mark the joining side's next tick, when the leaving side ran it, with a manual run (REST), "
    "wait for a re-parse",
    "nothing": "nothing to continue (no schedule, or never run on schedule)",
}


@dataclass(frozen=True)
class SideKind:
    """What decides the method about one side: its API flavour and whether its database is given."""

    flavour: str  # "experimental" (1.10), "v1" (2.x), "v2" (3.x)
    has_db: bool

    @property
    def label(self) -> str:
        return {"experimental": "Airflow 1.10", "v1": "Airflow 2", "v2": "Airflow 3"}.get(
            self.flavour, self.flavour
        )


@dataclass(frozen=True)
class Choice:
    """The method for one DAG, or None with `reason` saying why none is safe."""

    method: Method | None
    reason: str

    @property
    def refused(self) -> bool:
        return self.method is None


def by_sides(
    dag_id: str, *, leaving: SideKind, joining: SideKind, leaving_name: str, joining_name: str
) -> Choice | None:
    """What the sides alone decide, whatever the DAG: a copy when both databases are given, a refusal
    for an Airflow 1.10 side without its database; None when it depends on the DAG."""
    if leaving.has_db and joining.has_db:
        return Choice("copy", "both metadata databases are in the plan")
    for name, side in ((leaving_name, leaving), (joining_name, joining)):
        if side.flavour == "experimental" and not side.has_db:
            return Choice(
                None,
                f"DAG {dag_id!r}: the {name} side is Airflow 1.10 and its metadata database is not in the plan "
                f"([{name}] db_url_file or db_url_env): its API gives no next run, so a switch cannot drain, "
                "mark or confirm it",
            )
    return None


def choose(
    dag_id: str,
    *,
    leaving: SideKind,
    joining: SideKind,
    leaving_name: str,
    joining_name: str,
    schedule: str | None,
    catchup: bool | None,
    has_history: bool,
) -> Choice:
    """The continuity method for one DAG (pure). `schedule` is normalised (`checks.normalize_schedule`:
    None for no schedule, `@once`, a cron or `every Ns`); `catchup` is the joining side's (None: not
    known); `has_history` whether the leaving side ever finished a scheduled or backfill run of it."""
    fixed = by_sides(
        dag_id, leaving=leaving, joining=joining, leaving_name=leaving_name, joining_name=joining_name
    )
    if fixed is not None:
        return fixed
    if schedule is None:
        return Choice("nothing", "no schedule: nothing to continue")
    if not has_history:
        return Choice("nothing", f"never run on schedule on the {leaving_name} side: the {joining_name} side "
                                 "starts as Airflow would")  # fmt: skip
    missing = leaving_name if not leaving.has_db else joining_name
    if joining.flavour != "v2":
        why = (
            "its REST API cannot create a backfill run, the only marker that holds with catchup"
            if catchup is not False and schedule != "@once"
            else "REST marker runs are only proven on Airflow 3"
        )
        return Choice(
            None,
            f"DAG {dag_id!r}: the {joining_name} side is {joining.label} and the {missing} side's metadata "
            f"database is not in the plan, so run history cannot be copied; {why}. Give [{missing}] "
            "db_url_file or db_url_env",
        )
    if schedule == "@once":
        return Choice("manual-marker", "@once, already run: a manual run marks the one tick")
    if catchup is None:
        return Choice(
            None,
            f"DAG {dag_id!r}: the {joining_name} side did not say whether the DAG catches up; "
            "no marker is safe without knowing",
        )
    if catchup:
        return Choice("backfill-marker", "Airflow 3 by REST only, catchup=True")
    return Choice("manual-marker", "Airflow 3 by REST only, catchup=False")


# -- reading the sides ------------------------------------------------------------------------------


def newest_automated(client: AirflowClient, dag_id: str) -> RunInfo | None:
    """The newest finished scheduled/backfill run of a DAG."""
    for run in client.list_runs(dag_id, FINISHED, limit=25):
        if run.run_type in AUTOMATED or run.run_type is None:
            return run
    return None


def joining_catchup(client: AirflowClient, dag_id: str) -> bool | None:
    """Whether the DAG catches up on the joining side (None: that side cannot say)."""
    try:
        details = client.dag_details(dag_id)
    except AirflowApiError:
        if client.flavour == "experimental":
            return None
        raise
    return details.catchup if details else None


# -- markers ----------------------------------------------------------------------------------------


class MarkerFailed(AirshiftError):
    """A marker could not be placed; the switch gives the DAG back."""


@dataclass(frozen=True)
class Marker:
    method: Method
    run_id: str | None
    logical_date: dt.datetime | None
    last_due: dt.datetime | None
    message: str

    def detail(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "marker_run_id": self.run_id,
            "marker_logical_date": self.logical_date.isoformat() if self.logical_date else None,
            "last_due": self.last_due.isoformat() if self.last_due else None,
        }


def _finish(client: AirflowClient, run: RunInfo) -> None:
    """Mark a marker run success. Only a queued run (one that never started: the DAG is paused there) is
    changed; a run that exists and ran, or is running, is left as it is. A queued marker that cannot be
    marked is deleted: left queued, it would run the interval once the DAG is unpaused there."""
    if run.state != "queued":
        return
    try:
        client.set_run_state(run.dag_id, run.run_id, "success")
    except AirflowApiError as error:
        try:
            client.delete_run(run.dag_id, run.run_id)
            fate = "deleted it"
        except AirflowApiError:
            fate = f"could not delete it either: delete run {run.run_id!r} before unpausing the DAG there"
        raise MarkerFailed(
            f"marking run {run.run_id!r} of DAG {run.dag_id!r} success failed ({error}); {fate}"
        ) from None


def _trigger_semantics(info: DagInfo) -> bool:
    """True when the joining side dates a run at its tick (trigger timetables, Airflow 3's default),
    False when at its interval's start (data-interval timetables)."""
    if info.next_logical_date is None or info.next_run_after is None:
        return True
    return info.next_logical_date == info.next_run_after


def backfill_marker(
    client: AirflowClient, dag_id: str, last: RunInfo, last_due: dt.datetime, side_name: str
) -> Marker:
    """One backfill run on the joining side for the tick the leaving side ran last, marked success.
    Reuses a run already there for that tick (a resumed switch), never makes a second one."""
    info = client.get_dag(dag_id)
    if info is None:
        raise MarkerFailed(f"DAG {dag_id!r} is not on the {side_name} side")
    if _trigger_semantics(info):
        logical = last_due
    else:
        logical = last.data_interval_start or last.logical_date or last_due
    existing = [run for run in client.runs_at(dag_id, logical) if run.run_type in AUTOMATED]
    if not existing:
        try:
            client.create_backfill(dag_id, logical, logical)
        except RunExists:
            raise MarkerFailed(
                f"the {side_name} side refused the backfill marker of DAG {dag_id!r}: another backfill of it "
                "is still running there; let it finish (or cancel it) and run the command again"
            ) from None
        except AirflowApiError as error:
            text = str(error)
            if "depends_on_past" in text or "depends_on_previous" in text:
                raise MarkerFailed(
                    f"the {side_name} side refused the backfill marker of DAG {dag_id!r}: the DAG has tasks with "
                    "depends_on_past, and Airflow 3 backfills such DAGs only by re-running runs that exist; "
                    "with no metadata database to copy history into there is no safe marker for it. Give "
                    "both metadata databases (copy), or move it by hand"
                ) from None
            raise MarkerFailed(f"backfill marker of DAG {dag_id!r}: {text}") from None
        existing = [run for run in client.runs_at(dag_id, logical) if run.run_type in AUTOMATED]
    if not existing:
        raise MarkerFailed(
            f"the backfill of DAG {dag_id!r} at {logical.isoformat()} made no run on the {side_name} side"
        )
    run = existing[0]
    if run.due is not None and run.due != last_due:
        if run.run_type == "backfill" and run.state == "queued":
            client.delete_run(dag_id, run.run_id)
        raise MarkerFailed(
            f"the backfill marker of DAG {dag_id!r} fell due at {run.due.isoformat()}, not at "
            f"{last_due.isoformat()} (the last tick run on the leaving side): the two sides' schedules disagree"
        )
    _finish(client, run)
    return Marker("backfill-marker", run.run_id, logical, last_due,
                  f"backfill run {run.run_id} marked success for the tick {last_due.isoformat()}")  # fmt: skip


def manual_marker(
    client: AirflowClient,
    dag_id: str,
    last_due: dt.datetime | None,
    side_name: str,
    *,
    once: bool,
    wait: float,
    poll: float,
) -> Marker:
    """A manual run at exactly the joining side's next logical date when that is the tick the leaving
    side ran last (for `@once`: whatever its one tick is), marked success. When the joining side's next
    tick is already later, nothing needs marking; when it is earlier (not re-parsed since that tick),
    wait for a parse."""
    deadline = time.monotonic() + wait
    while True:
        info = client.get_dag(dag_id)
        if info is None:
            raise MarkerFailed(f"DAG {dag_id!r} is not on the {side_name} side")
        due = info.next_run_after or info.next_logical_date
        if info.next_logical_date is None or due is None:
            return Marker("manual-marker", None, None, last_due,
                          f"the {side_name} side schedules no further run: nothing to mark")  # fmt: skip
        if not once and last_due is not None and due > last_due:
            return Marker("manual-marker", None, None, last_due,
                          f"the {side_name} side's next run ({due.isoformat()}) is already after the last run "
                          f"({last_due.isoformat()}): nothing to mark")  # fmt: skip
        if once or last_due is None or due == last_due:
            break
        if time.monotonic() >= deadline:
            raise MarkerFailed(
                f"the {side_name} side's next run of DAG {dag_id!r} stayed at {due.isoformat()}, before the last "
                f"run ({last_due.isoformat()}), for {wait:.0f} s: it has not parsed the DAG again"
            )
        time.sleep(poll)
    logical = info.next_logical_date
    run_id = f"{MARKER_PREFIX}{logical.isoformat()}"
    run = client.get_run(dag_id, run_id)
    if run is None:
        try:
            run = client.trigger(dag_id, run_id=run_id, logical_date=logical)
        except RunExists:
            found = client.runs_at(dag_id, logical)
            if not found:
                raise MarkerFailed(
                    f"the {side_name} side says DAG {dag_id!r} has a run at {logical.isoformat()} but lists none"
                ) from None
            run = found[0]
    _finish(client, run)
    return Marker("manual-marker", run.run_id, logical, last_due,
                  f"manual run {run.run_id} marked success at the next tick {logical.isoformat()}")  # fmt: skip


def wait_for_parse(
    client: AirflowClient,
    dag_id: str,
    after: dt.datetime,
    side_name: str,
    *,
    last_due: dt.datetime | None,
    strictly_after: bool,
    wait: float,
    poll: float,
) -> DagInfo:
    """Wait until the joining side's dag-processor has parsed the DAG after `after` (when the marker was
    made; also later than any parse seen before it) and its next run comes after the last run of the
    leaving side (`strictly_after`, a backfill marker) or no earlier than it (a manual marker: the
    scheduler skips a next run that already has a run)."""
    deadline = time.monotonic() + wait
    while True:
        info = client.get_dag(dag_id)
        if info is None:
            raise MarkerFailed(f"DAG {dag_id!r} is gone from the {side_name} side")
        due = info.next_run_after or info.next_logical_date
        parsed = info.last_parsed is not None and info.last_parsed > after
        placed = last_due is None or due is None or (due > last_due if strictly_after else due >= last_due)
        if parsed and placed:
            return info
        if time.monotonic() >= deadline:
            shown = info.last_parsed.isoformat() if info.last_parsed else "never"
            raise MarkerFailed(
                f"the {side_name} side did not parse DAG {dag_id!r} again after its marker within {wait:.0f} s "
                f"(last parsed {shown}, next run {due.isoformat() if due else 'none'}, last run on the other "
                f"side {last_due.isoformat() if last_due else 'none'}); it stays paused"
            )
        time.sleep(poll)


# -- deciding from the live sides -------------------------------------------------------------------


def decide(
    dag_id: str,
    leaving: AirflowClient,
    joining: AirflowClient,
    leaving_kind: SideKind,
    joining_kind: SideKind,
    leaving_name: str,
    joining_name: str,
) -> tuple[Choice, RunInfo | None]:
    """The method for a DAG from what the two sides say now, and the leaving side's newest finished
    automated run (None when not needed: a copy, or none exists). Reads only what the choice needs: a
    copy costs no call."""
    fixed = by_sides(dag_id, leaving=leaving_kind, joining=joining_kind, leaving_name=leaving_name,
                     joining_name=joining_name)  # fmt: skip
    if fixed is not None:
        return fixed, None
    reader = joining if leaving.flavour == "experimental" else leaving
    info = reader.get_dag(dag_id)
    schedule = normalize_schedule(info.schedule) if info else None
    last = newest_automated(leaving, dag_id) if schedule is not None else None
    catchup = None
    if (
        schedule is not None
        and schedule != "@once"
        and last is not None
        and joining.flavour != "experimental"
    ):
        catchup = joining_catchup(joining, dag_id)
    choice = choose(dag_id, leaving=leaving_kind, joining=joining_kind, leaving_name=leaving_name,
                    joining_name=joining_name, schedule=schedule, catchup=catchup, has_history=last is not None)  # fmt: skip
    return choice, last
