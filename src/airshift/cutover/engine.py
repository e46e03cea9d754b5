"""Waves: which DAGs a command acts on, the checks before a cutover, and running the switches of a
wave in parallel (up to the plan's bound). The CLI renders; this module decides."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from airshift.cutover.checks import DagCheck, check_dag, load_verified, steps_for
from airshift.cutover.continuity import SideKind, decide
from airshift.cutover.plan import Wave
from airshift.cutover.sides import Sides
from airshift.cutover.switch import Action, Outcome, Report, Switch, SwitchOptions
from airshift.errors import AirshiftError


@dataclass(frozen=True)
class RunOptions:
    switch: SwitchOptions
    parallelism: int = 4
    allow_unverified: bool = False
    dry_run: bool = False


def wave_dags(sides: Sides, wave: Wave) -> list[str]:
    """The wave's DAG ids among those the old side knows (and listed ids it does not, to report them).
    Airflow 1.10's API cannot list DAGs: then only the wave's listed ids count."""
    try:
        available = {dag_id: list(tags) for dag_id, tags in sides.old.list_dags().items()}
    except AirshiftError:
        if sides.old.flavour != "experimental":
            raise
        if wave.globs or wave.tags:
            raise AirshiftError(
                f"wave {wave.name!r}: globs and tags need a DAG listing, which Airflow 1.10's experimental "
                "API does not have; list the DAGs in dag_ids"
            ) from None
        available = {}
    return wave.resolve(available)


def check_wave(
    sides: Sides, dag_ids: Iterable[str], allow_unverified: bool, parallelism: int
) -> list[DagCheck]:
    verify_report = sides.plan.cutover.verify_report
    verified = load_verified(sides.plan.file(verify_report) if verify_report else None)
    ids = list(dag_ids)

    def check(dag_id: str) -> DagCheck:
        try:
            result = check_dag(dag_id, sides.old, sides.new, verified, allow_unverified)
        except AirshiftError as error:
            result = DagCheck(dag_id, problems=[sides.journal.redact(str(error))])
        if result.new is not None and not result.new.is_paused and sides.journal.owner_of(dag_id) != "new":
            result.problems.append(
                "already active on the new side: both schedulers would run it; pause it there"
            )
        if result.old is not None and result.new is not None:
            try:
                choice, _ = decide(
                    dag_id, sides.old, sides.new,
                    SideKind(sides.old.flavour, sides.old_db is not None),
                    SideKind(sides.new.flavour, sides.new_db is not None),
                    "old", "new",
                )  # fmt: skip
            except AirshiftError as error:
                result.problems.append(f"continuity: {sides.journal.redact(str(error))}")
            else:
                result.continuity, result.continuity_why = choice.method, choice.reason
                if choice.refused:
                    result.problems.append(choice.reason)
                result.steps = steps_for(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        return list(pool.map(check, ids))


def run_switches(
    sides: Sides,
    action: Action,
    wave_name: str,
    dag_ids: list[str],
    options: RunOptions,
    report: Report,
) -> list[Outcome]:
    attempt = uuid.uuid4().hex[:12]
    switch = Switch(sides, action, wave_name, options.switch, report, attempt)

    def one(dag_id: str) -> Outcome:
        try:
            return switch.switch(dag_id)
        except AirshiftError as error:  # the journal or a side failed before the switch began
            message = sides.journal.redact(str(error))
            report(dag_id, "error", "failed", message)
            return Outcome(dag_id, False, "old" if action == "cutover" else "new", message)

    with ThreadPoolExecutor(max_workers=max(1, options.parallelism)) as pool:
        return list(pool.map(one, dag_ids))


def cutover_wave(
    sides: Sides, wave: Wave, options: RunOptions, report: Report
) -> tuple[list[DagCheck], list[Outcome]]:
    """Check the wave's DAGs; switch those that pass (and those a killed run left half-way, which were
    checked before they started). Failed checks are journalled, and those DAGs stay where they are."""
    dag_ids = wave_dags(sides, wave)
    journal = sides.journal
    resuming = {d for d in dag_ids if journal.open_attempt(d, "cutover")}
    switched = {d for d in dag_ids if d not in resuming and journal.owner_of(d) == "new"}
    fresh = [d for d in dag_ids if d not in resuming and d not in switched]
    checks = check_wave(sides, fresh, options.allow_unverified, options.parallelism)
    if options.dry_run:
        return checks, []
    go = sorted({c.dag_id for c in checks if c.ok} | resuming | switched)
    for check in checks:
        if not check.ok:
            journal.record_step(check.dag_id, "checked", wave=wave.name, status="failed",
                                message="; ".join(check.problems))  # fmt: skip
            report(check.dag_id, "checked", "failed", "; ".join(check.problems))
    outcomes = run_switches(sides, "cutover", wave.name, go, options, report)
    failed_checks = [Outcome(c.dag_id, False, "old", "; ".join(c.problems)) for c in checks if not c.ok]
    return checks, sorted(outcomes + failed_checks, key=lambda o: o.dag_id)


def rollback_dags(
    sides: Sides, wave_name: str, dag_ids: list[str], options: RunOptions, report: Report
) -> list[Outcome]:
    """Roll back the DAGs the new side owns (or that a killed rollback left half-way); others are
    reported as already on the old side."""
    journal = sides.journal
    chosen = [d for d in dag_ids if journal.owner_of(d) == "new" or journal.open_attempt(d, "rollback")]
    if options.dry_run:
        return [Outcome(d, True, "new" if d in chosen else "old", "would roll back" if d in chosen else
                        "not on the new side", skipped=d not in chosen) for d in dag_ids]  # fmt: skip
    outcomes = run_switches(sides, "rollback", wave_name, chosen, options, report)
    others = [Outcome(d, True, "old", "not on the new side: nothing to roll back", skipped=True)
              for d in dag_ids if d not in chosen]  # fmt: skip
    return sorted(outcomes + others, key=lambda o: o.dag_id)
