"""`cutover plan`: per DAG of a wave, the checks that must pass before it may switch and the steps a
run would take. Reads both sides; writes nothing.

Checks (each failing one is a `problem`, which stops that DAG's cutover; `notes` only inform):
- present on the new side, active, without import errors;
- verified: `airshift verify --format json` found it matching (unless unverified DAGs are allowed);
- the same schedule on both sides (cron, preset or interval, compared after normalising);
- paused or active on the old side (the new side ends up the same);
- runs in flight on the old side (drained before the switch);
- the last finished interval on the old side and the first one the new side will run.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airshift.cutover.airflow_rest import AirflowClient, DagInfo, RunInfo
from airshift.errors import AirshiftError

FINISHED = ("success", "failed")
_PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_DELTA = re.compile(r"^(?:(\d+) days?, )?(\d+):(\d\d):(\d\d)$")


def normalize_schedule(text: str | None) -> str | None:
    """A schedule as both sides can be compared: a cron expression, `every <seconds>s`, `@once`, or
    None (manual only). Airflow 2 reports `{"__type": "CronExpression"}` objects (turned into text by
    the client), Airflow 3 a timetable summary (`0 0 * * *`, `1 day, 0:00:00`, `None`)."""
    if text is None:
        return None
    value = text.strip()
    if value in ("", "None", "null"):
        return None
    if value.startswith("timedelta("):
        numbers = re.findall(r"(-?\d+)([ds])", value)
        seconds = sum(int(n) * (86400 if unit == "d" else 1) for n, unit in numbers)
        return f"every {seconds}s"
    match = _DELTA.match(value)
    if match:
        days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
        return f"every {days * 86400 + hours * 3600 + minutes * 60 + seconds}s"
    return _PRESETS.get(value, " ".join(value.split()))


def next_tick(schedule: str | None, after: dt.datetime) -> dt.datetime | None:
    """The first tick of a normalised schedule after `after` (UTC), or None if it cannot say."""
    if schedule is None or schedule == "@once":
        return None
    if schedule.startswith("every "):
        return after + dt.timedelta(seconds=int(schedule[6:-1]))
    from croniter import croniter

    if not croniter.is_valid(schedule):
        return None
    following: dt.datetime = croniter(schedule, after).get_next(dt.datetime)
    return following


@dataclass
class DagCheck:
    dag_id: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    old: DagInfo | None = None
    new: DagInfo | None = None
    schedule: str | None = None
    in_flight: list[RunInfo] = field(default_factory=list)
    last_finished_old: RunInfo | None = None
    first_new_due: dt.datetime | None = None
    # How the new side will continue the schedule (see continuity.py), and why; None: refused.
    continuity: str | None = None
    continuity_why: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "dag_id": self.dag_id,
            "ok": self.ok,
            "problems": self.problems,
            "notes": self.notes,
            "steps": self.steps,
            "paused_old": self.old.is_paused if self.old else None,
            "schedule": self.schedule,
            "runs_in_flight": [run.run_id for run in self.in_flight],
            "last_finished_old": self.last_finished_old.as_dict() if self.last_finished_old else None,
            "first_new_due": self.first_new_due.isoformat() if self.first_new_due else None,
            "continuity": self.continuity,
            "continuity_why": self.continuity_why,
        }


def load_verified(path: Path | None) -> dict[str, str] | None:
    """DAG id -> verify status from an `airshift verify --format json` report; None without a report."""
    if path is None:
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise AirshiftError(f"cannot read verify report {path}: {error.strerror or error}") from None
    except ValueError:
        raise AirshiftError(f"verify report {path} is not JSON") from None
    if not isinstance(document, dict) or document.get("command") != "verify" or "dags" not in document:
        raise AirshiftError(f"{path} is not the output of `airshift verify --format json`")
    statuses: dict[str, str] = {}
    for dag in document["dags"]:
        if isinstance(dag, dict) and isinstance(dag.get("dag_id"), str):
            statuses[dag["dag_id"]] = str(dag.get("status"))
    for run in document.get("runs") or []:
        # `verify --run` results: a DAG whose test run failed is not verified either
        if isinstance(run, dict) and run.get("dag_id") in statuses and run.get("exit_code") not in (0, None):
            statuses[run["dag_id"]] = "run failed"
    return statuses


def check_dag(
    dag_id: str,
    old: AirflowClient,
    new: AirflowClient,
    verified: dict[str, str] | None,
    allow_unverified: bool,
) -> DagCheck:
    check = DagCheck(dag_id)
    check.old = old.get_dag(dag_id)
    if check.old is None:
        check.problems.append("not on the old side")
        return check
    check.new = new.get_dag(dag_id)
    if check.new is None:
        check.problems.append("not on the new side (deploy it and let the new side parse it)")
    else:
        if check.new.has_import_errors:
            check.problems.append("import errors on the new side")
        if not check.new.is_active:
            check.problems.append("not active on the new side (its file is gone or was not parsed)")
    status = None if verified is None else verified.get(dag_id)
    if status != "match":
        why = "no verify report given" if verified is None else f"verify says {status or 'nothing about it'}"
        if allow_unverified:
            check.notes.append(f"unverified ({why}); allowed")
        else:
            check.problems.append(f"not verified ({why}); run `airshift verify` or pass --allow-unverified")
    old_schedule = normalize_schedule(check.old.schedule)
    check.schedule = old_schedule
    if old.flavour == "experimental":
        check.notes.append("Airflow 1.10's API does not give the schedule: compare it by hand")
        check.schedule = normalize_schedule(check.new.schedule) if check.new else None
    elif check.new is not None:
        new_schedule = normalize_schedule(check.new.schedule)
        if old_schedule != new_schedule:
            check.problems.append(
                f"schedules differ: old {old_schedule or 'none'}, new {new_schedule or 'none'}"
            )
    check.in_flight = old.active_runs(dag_id)
    if check.in_flight:
        check.notes.append(
            f"{len(check.in_flight)} run(s) in flight on the old side: "
            + ", ".join(run.run_id for run in check.in_flight[:5])
            + (" (paused: they are frozen and will not finish by themselves)" if check.old.is_paused else "")
        )
    finished = old.list_runs(dag_id, FINISHED, limit=1)
    check.last_finished_old = finished[0] if finished else None
    last_due = check.last_finished_old.due if check.last_finished_old else None
    check.first_new_due = next_tick(old_schedule, last_due) if last_due else None
    check.steps = steps_for(check)
    return check


def steps_for(check: DagCheck) -> list[str]:
    paused = check.old is not None and check.old.is_paused
    continuity = {
        "copy": "copy run history since the last copy into the new side's metadata database",
        "backfill-marker": "continuity backfill-marker: one backfill run on the new side for the old side's last "
        "tick, marked success; wait for the new side to parse the DAG again",
        "manual-marker": "continuity manual-marker: a manual run at the new side's next tick if the old side "
        "ran it, marked success; wait for the new side to parse the DAG again",
        "nothing": "continuity nothing: no schedule, or never run on schedule on the old side",
    }.get(check.continuity or "", "continuity: refused")
    steps = [
        "drain the old side (wait for runs in flight, pause between two scheduled runs)"
        if not paused
        else "the old side is paused: nothing to drain",
        continuity,
        "unpause on the new side" if not paused else "leave paused on the new side",
        "confirm the new side's next run follows the old side's last one",
    ]
    return steps
