"""Switching one DAG from one side to the other: the steps `cutover run` takes old -> new and
`cutover rollback` takes new -> old.

1. drain the side it leaves: wait until no run is queued or running and the next scheduled run is
   not about to be created, then pause; pausing first would freeze runs in flight (a paused DAG's
   queued runs never start and its running runs never get new tasks);
2. copy the run history made since the last copy into the other side's metadata database: the
   newest automated run there is what that side's scheduler and dag-processor start from, on every
   re-parse (writing `next_dagrun` would be overwritten within seconds);
3. unpause on the side it joins, if it was active where it came from (else pause it there too);
4. confirm: that side's next run must come after the last run the other side made.

Every step is journalled before the next starts, and every step can be repeated: a run killed at
any point is resumed from the journal (the leaving side's paused state is taken from the journal,
since the cutover itself changed it). A DAG whose switch fails is given back to the side it came from,
as it was.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from airshift.cutover import continuity
from airshift.cutover.airflow110 import SCHEDULER_LAG, NextRun110, mark_run_failed, read_next_run
from airshift.cutover.airflow_rest import AirflowClient, RunInfo
from airshift.cutover.checks import normalize_schedule
from airshift.cutover.journal import Step, now
from airshift.cutover.sides import Side, Sides
from airshift.errors import AirshiftError

Action = Literal["cutover", "rollback"]
DrainPolicy = Literal["fail", "hand-over"]
Report = Callable[[str, str, str, str], None]  # dag_id, step, status, message


@dataclass(frozen=True)
class SwitchOptions:
    drain_timeout: float = 600.0
    on_drain_timeout: DrainPolicy = "fail"
    confirm_timeout: float = 180.0
    poll: float = 2.0
    # Do not pause within this many seconds of the next scheduled run: the scheduler may be creating it.
    margin: float = 8.0
    settle: float = 2.0


@dataclass
class Outcome:
    dag_id: str
    ok: bool
    owner: Side
    message: str = ""
    skipped: bool = False
    notes: list[str] = field(default_factory=list)


class SwitchFailed(AirshiftError):
    def __init__(self, step: str, message: str) -> None:
        super().__init__(message)
        self.step = step


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _parse(value: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) and value else None


def last_automated_due(client: AirflowClient, dag_id: str) -> dt.datetime | None:
    """When the newest finished scheduled/backfill run of a DAG became due."""
    run = continuity.newest_automated(client, dag_id)
    return run.due if run else None


class Switch:
    """Moves DAGs `frm` -> `to` for one action, journalling every step."""

    def __init__(
        self,
        sides: Sides,
        action: Action,
        wave: str,
        options: SwitchOptions,
        report: Report,
        attempt: str,
    ) -> None:
        self.sides = sides
        self.action: Action = action
        self.frm: Side = "old" if action == "cutover" else "new"
        self.to: Side = "new" if action == "cutover" else "old"
        self.wave = wave
        self.options = options
        self.report = report
        self.attempt = attempt
        self.journal = sides.journal
        self.source = sides.client(self.frm)
        self.target = sides.client(self.to)

    # -- journal ------------------------------------------------------------------------------------

    def record(
        self,
        dag_id: str,
        step: str,
        *,
        status: str = "ok",
        owner: Side | None = None,
        message: str = "",
        detail: dict[str, Any] | None = None,
    ) -> Step:
        recorded = self.journal.record_step(
            dag_id, step, wave=self.wave, action=self.action, status=status, owner=owner,
            message=message, detail=detail, attempt=self.attempt,
        )  # fmt: skip
        self.report(dag_id, step, status, recorded.message)
        return recorded

    def next_run_110(self, side: Side, dag_id: str) -> NextRun110 | None:
        """A 1.10 side's next run, from its metadata database (its API does not say); None for other
        versions or without the database."""
        db = self.sides.db(side)
        if self.sides.client(side).flavour != "experimental" or db is None:
            return None
        return read_next_run(db.url, db.password.reveal() if db.password else None, dag_id, now())

    # -- one DAG ------------------------------------------------------------------------------------

    def switch(self, dag_id: str) -> Outcome:
        attempt = self.journal.open_attempt(dag_id, self.action)
        if not attempt and self.journal.owner_of(dag_id) == self.to:
            self.report(dag_id, "skip", "ok", f"already on the {self.to} side")
            return Outcome(dag_id, True, self.to, f"already on the {self.to} side", skipped=True)
        if attempt:
            start = attempt[0]
            done = {step.step for step in attempt if step.status == "ok"}
            self.report(dag_id, "resume", "ok", f"resuming after {attempt[-1].step}")
        else:
            start = self._start(dag_id)
            done = set()
        was_paused = bool(start.detail.get("was_paused"))
        last_due = _parse(start.detail.get("last_due"))
        expect_next = bool(start.detail.get("had_next"))
        marked = next(
            (s for s in reversed(attempt) if s.step in ("copied", "marked") and s.status == "ok"), None
        )
        step = "continuity"
        try:
            if "paused_from" not in done:
                # Refuse before anything changes when no method can continue the DAG's schedule.
                choice, _ = self._decide(dag_id)
                if choice.refused:
                    raise SwitchFailed("continuity", choice.reason)
                step = "drain"
                self._drain_and_pause(dag_id, was_paused)
            step = "continuity"
            if marked is None:
                marked = self._continue(dag_id)
            step = "hand over"
            if "handed_over" not in done:
                self._fail_handed_over(dag_id)
            if marked.step == "marked" and marked.detail.get("marker_run_id"):
                step = "continuity"
                self._await_parse(dag_id, marked)
            step = "activate"
            self._activate(dag_id, was_paused)
            step = "confirm"
            if marked.step == "marked" and marked.detail.get("last_due"):
                last_due = _parse(marked.detail.get("last_due"))
            next_due = self._confirm(dag_id, last_due, expect_next, marked)
        except AirshiftError as error:
            failed_step = error.step if isinstance(error, SwitchFailed) else step
            self.record(dag_id, failed_step, status="failed", message=str(error))
            self._give_back(dag_id, was_paused)
            return Outcome(dag_id, False, self.frm, self.journal.redact(str(error)))
        self.record(dag_id, "done", owner=self.to, detail={"next_due": _iso(next_due)})
        return Outcome(dag_id, True, self.to)

    def _start(self, dag_id: str) -> Step:
        info = self.source.get_dag(dag_id)
        if info is None:
            raise AirshiftError(f"DAG {dag_id!r} is not on the {self.frm} side")
        last_due = last_automated_due(self.source, dag_id)
        had_next = info.next_run_after is not None or info.next_logical_date is not None
        old_style = self.next_run_110(self.frm, dag_id)
        if old_style is not None:
            had_next = old_style.due is not None
            # 1.10 dates a run at its interval's start; it became due at the interval's end. Finished
            # runs only (as for 2.x/3.x): a run handed over unfinished is the joining side's to run.
            last_due = old_style.finished_due or last_due
        return self.record(
            dag_id,
            "start",
            owner=self.frm,
            detail={
                "from": self.frm,
                "to": self.to,
                "was_paused": info.is_paused,
                "last_due": _iso(last_due),
                "had_next": had_next,
            },
        )

    def _drain_and_pause(self, dag_id: str, was_paused: bool) -> None:
        options = self.options
        if was_paused:
            self.source.set_paused(dag_id, True)
            frozen = self.source.active_runs(dag_id)
            self.record(dag_id, "paused_from", detail={"frozen_runs": [r.run_id for r in frozen]},
                        message="was paused: nothing drained" + (f"; {len(frozen)} run(s) stay frozen" if frozen else ""))  # fmt: skip
            return
        started = time.monotonic()
        deadline = started + options.drain_timeout
        waiting: list[RunInfo] = []
        while True:
            waiting = self.source.active_runs(dag_id)
            info = self.source.get_dag(dag_id)
            if info is not None and info.is_paused:
                # Paused by a run of ours that was killed before it journalled the pause.
                if not waiting:
                    break
                self.source.set_paused(dag_id, False)  # its runs froze: let them finish first
                info = self.source.get_dag(dag_id)
            due = info.next_run_after if info else None
            soon = due is not None and (due - now()).total_seconds() < options.margin
            old_style = self.next_run_110(self.frm, dag_id)
            if old_style is not None:
                # Also not just after a tick: 1.10's scheduler creates that tick's run a while later.
                moment = now()
                soon = (
                    old_style.due is not None and (old_style.due - moment).total_seconds() < options.margin
                ) or (
                    old_style.previous_tick is not None and moment - old_style.previous_tick < SCHEDULER_LAG
                )
            if not waiting and not soon:
                self.source.set_paused(dag_id, True)
                time.sleep(options.settle)  # a scheduler loop that chose the DAG just before the pause
                waiting = self.source.active_runs(dag_id)
                if not waiting:
                    break
                self.source.set_paused(dag_id, False)  # a run slipped in: let it finish first
            if time.monotonic() >= deadline:
                self._drain_timed_out(dag_id, waiting)
                return
            time.sleep(options.poll)
        self.record(dag_id, "paused_from", detail={"waited_s": round(time.monotonic() - started, 1)},
                    message=f"drained in {time.monotonic() - started:.0f} s and paused")  # fmt: skip

    def _drain_timed_out(self, dag_id: str, waiting: list[RunInfo]) -> None:
        ids = [run.run_id for run in waiting]
        message = (
            f"{len(ids)} run(s) still in flight on the {self.frm} side after {self.options.drain_timeout:.0f} s: "
            + ", ".join(ids[:5])
        )
        if self.options.on_drain_timeout == "fail":
            raise SwitchFailed("drain", message)
        # hand-over: pause (those runs freeze), copy, then mark them failed so that they never resume;
        # the other side runs their intervals again (only finished runs are copied).
        self.source.set_paused(dag_id, True)
        self.record(dag_id, "paused_from", message=f"{message}; handing over",
                    detail={"handed_over": ids})  # fmt: skip

    def _kind(self, side: Side) -> continuity.SideKind:
        return continuity.SideKind(self.sides.client(side).flavour, self.sides.db(side) is not None)

    def _decide(self, dag_id: str) -> tuple[continuity.Choice, RunInfo | None]:
        return continuity.decide(
            dag_id, self.source, self.target, self._kind(self.frm), self._kind(self.to), self.frm, self.to
        )

    def _continue(self, dag_id: str) -> Step:
        """Make the joining side continue where the leaving side stopped (the DAG is paused on both):
        copy the history, or place a marker run, as the continuity method for the DAG says. Decided
        now, after the drain: the leaving side's history is final."""
        choice, last = self._decide(dag_id)
        if choice.method is None:
            raise SwitchFailed("continuity", choice.reason)
        if choice.method == "copy":
            return self._copy(dag_id)
        try:
            marker = self._mark(dag_id, choice.method, last)
        except continuity.MarkerFailed as error:
            raise SwitchFailed("marked", str(error)) from None
        return self.record(dag_id, "marked", owner=self.to, message=f"{choice.method}: {marker.message}",
                           detail={**marker.detail(), "why": choice.reason})  # fmt: skip

    def _mark(self, dag_id: str, method: continuity.Method, last: RunInfo | None) -> continuity.Marker:
        if method == "nothing" or last is None:
            return continuity.Marker("nothing", None, None, None, "nothing to mark")
        last_due = last.due
        old_style = self.next_run_110(self.frm, dag_id)
        if old_style is not None:
            last_due = old_style.finished_due or last_due  # 1.10 dates a run at its interval's start
        if last_due is None:
            return continuity.Marker(
                method, None, None, None, "the leaving side's last run has no date: nothing to mark"
            )
        if method == "backfill-marker":
            return continuity.backfill_marker(self.target, dag_id, last, last_due, self.to)
        info = self.target.get_dag(dag_id)
        once = info is not None and normalize_schedule(info.schedule) == "@once"
        return continuity.manual_marker(self.target, dag_id, last_due, self.to, once=once,
                                        wait=self.options.confirm_timeout, poll=self.options.poll)  # fmt: skip

    def _await_parse(self, dag_id: str, marked: Step) -> None:
        """Keep the DAG paused on the joining side until its dag-processor has parsed it again after the
        marker: until then the scheduler holds the next run computed without the marker."""
        try:
            continuity.wait_for_parse(
                self.target, dag_id, marked.at, self.to,
                last_due=_parse(marked.detail.get("last_due")),
                strictly_after=marked.detail.get("method") == "backfill-marker",
                wait=self.options.confirm_timeout, poll=self.options.poll,
            )  # fmt: skip
        except continuity.MarkerFailed as error:
            raise SwitchFailed("marked", str(error)) from None

    def _copy(self, dag_id: str) -> Step:
        from airshift.state.transfer import TransferRequest, run_transfer

        source_db, target_db = self.sides.db(self.frm), self.sides.db(self.to)
        if source_db is None or target_db is None:
            missing = self.frm if source_db is None else self.to
            raise SwitchFailed(
                "copy",
                f"the {missing} side's metadata database is not in the plan ([{missing}] db_url_file or "
                "db_url_env): run history is copied between metadata databases",
            )
        previous = self.journal.last_step(dag_id, "copied", action=self.action)
        since = _parse(previous.detail.get("newest")) if previous and previous.status == "ok" else None
        newest_runs = self.source.list_runs(dag_id, ("success", "failed"), limit=1)
        request = TransferRequest(
            sources=(source_db.url,),
            history=True,
            to_db=target_db.url,
            from_db_password=source_db.password,
            to_db_password=target_db.password,
            dag_ids=frozenset({dag_id}),
            since=since,
        )
        result = run_transfer(request)
        history = result.history
        assert history is not None
        return self.record(
            dag_id,
            "copied",
            owner=self.to,
            message=f"{history.runs_written} run(s), {history.tis_written} task instance(s) copied"
            + "".join(f"; {note}" for note in history.notes),
            detail={
                "since": _iso(since),
                "newest": _iso(newest_runs[0].logical_date) if newest_runs else _iso(since),
                "runs_written": history.runs_written,
                "tis_written": history.tis_written,
                "notes": history.notes,
            },
        )

    def _fail_handed_over(self, dag_id: str) -> None:
        """hand-over: the runs left in flight (frozen by the pause, not copied: unfinished) are marked
        failed on the side left, so they can never resume there; the joining side runs their intervals
        itself, since its next run follows the newest *finished* run copied. Airflow 1.10's API cannot
        set a run's state: there the run and its unfinished task instances are marked in its metadata
        database. A task still running stops at its next heartbeat (its state was set from outside)."""
        handed = self.journal.last_step(dag_id, "paused_from", action=self.action)
        run_ids = list(handed.detail.get("handed_over") or []) if handed else []
        if not run_ids:
            return
        db = self.sides.db(self.frm)
        for run_id in run_ids:
            if self.source.flavour == "experimental" and db is not None:
                password = db.password.reveal() if db.password else None
                mark_run_failed(db.url, password, dag_id, run_id, now())
            else:
                self.source.set_run_state(dag_id, run_id, "failed")
        self.record(
            dag_id, "handed_over", detail={"failed_on_" + self.frm: run_ids},
            message=f"marked failed on the {self.frm} side: {', '.join(run_ids)}; the {self.to} side runs "
            "their intervals",
        )  # fmt: skip

    def _activate(self, dag_id: str, was_paused: bool) -> None:
        self.target.set_paused(dag_id, was_paused)
        self.record(dag_id, "paused_to" if was_paused else "unpaused_to")

    def _confirm(
        self, dag_id: str, last_due: dt.datetime | None, expect_next: bool, marked: Step | None = None
    ) -> dt.datetime | None:
        """Wait until the joining side has computed its next run (it does so when it re-parses the DAG
        after the copy) and check that it comes after the last run the leaving side made. After a manual
        marker the next run may still be the marked tick itself: the scheduler finds the marker there and
        skips it, and the next parse after the following tick moves on."""
        manual_at = None
        if marked is not None and marked.step == "marked" and marked.detail.get("method") == "manual-marker":
            manual_at = _parse(marked.detail.get("marker_logical_date"))
        deadline = time.monotonic() + self.options.confirm_timeout
        seen: dt.datetime | None = None
        while True:
            info = self.target.get_dag(dag_id)
            if info is None:
                raise SwitchFailed("confirm", f"DAG {dag_id!r} is gone from the {self.to} side")
            seen = info.next_run_after or info.next_data_interval_end or info.next_logical_date
            old_style = self.next_run_110(self.to, dag_id)
            if old_style is not None:
                seen = old_style.due
                if old_style.newest_due is None and last_due is None:
                    # Neither side ever scheduled it: 1.10 starts from the DAG's start_date.
                    self.record(dag_id, "confirmed", message="no scheduled run on either side yet")
                    return None
            if seen is not None and (last_due is None or seen > last_due):
                self.record(dag_id, "confirmed", detail={"next_due": _iso(seen), "last_due": _iso(last_due)},
                            message=f"next run due {_iso(seen)}")  # fmt: skip
                return seen
            if manual_at is not None and info.next_logical_date == manual_at:
                self.record(dag_id, "confirmed", detail={"next_due": _iso(seen), "last_due": _iso(last_due),
                                                         "marker_at_next": True},
                            message=f"next run {_iso(manual_at)} has its marker: the scheduler skips it and runs "
                            "the tick after")  # fmt: skip
                return seen
            if seen is None and not expect_next:
                self.record(dag_id, "confirmed", message="no next scheduled run on either side")
                return None
            if time.monotonic() >= deadline:
                raise SwitchFailed(
                    "confirm",
                    f"the {self.to} side's next run is {_iso(seen) or 'not set'} after "
                    f"{self.options.confirm_timeout:.0f} s; it must come after {_iso(last_due)}, the last "
                    f"run on the {self.frm} side",
                )
            time.sleep(self.options.poll)

    def _give_back(self, dag_id: str, was_paused: bool) -> None:
        notes = []
        try:
            self.target.set_paused(dag_id, True)
        except AirshiftError as error:
            notes.append(f"could not pause on the {self.to} side: {error}")
        try:
            self.source.set_paused(dag_id, was_paused)
        except AirshiftError as error:
            notes.append(f"could not restore the {self.frm} side: {error}")
        self.record(
            dag_id,
            "returned",
            owner=self.frm,
            status="ok" if not notes else "failed",
            message=f"given back to the {self.frm} side as it was ({'paused' if was_paused else 'active'})"
            + ("; " + "; ".join(notes) if notes else ""),
        )
