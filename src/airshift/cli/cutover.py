"""`airshift cutover plan|run|rollback|status`: switch DAGs from an old Airflow to a new one in waves.

Thin: options -> the cutover library -> rendering. Heavy imports (pydantic, httpx, SQLAlchemy) happen
inside the commands, so `airshift scan` does not pay for them.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from airshift.errors import AirshiftError

if TYPE_CHECKING:
    from airshift.cutover.checks import DagCheck
    from airshift.cutover.engine import RunOptions
    from airshift.cutover.plan import CutoverPlan
    from airshift.cutover.switch import Outcome

console = Console()
app = typer.Typer(
    help="Switch DAGs to the new Airflow in waves, roll back, show status.", no_args_is_help=True
)

PlanOption = Annotated[Path, typer.Option("--plan", "-p", help="The cutover plan file (TOML).")]
DEFAULT_PLAN = Path("cutover.toml")


class Policy(str, Enum):
    fail = "fail"
    hand_over = "hand-over"


class StatusFormat(str, Enum):
    table = "table"
    json = "json"
    html = "html"


class PlanFormat(str, Enum):
    text = "text"
    json = "json"


def _load(plan_path: Path) -> CutoverPlan:
    from airshift.cutover.plan import load_plan

    return load_plan(plan_path)


def _options(
    plan: CutoverPlan,
    drain_timeout: float | None,
    policy: Policy | None,
    parallelism: int | None,
    allow_unverified: bool,
    dry_run: bool,
) -> RunOptions:
    from airshift.cutover.engine import RunOptions
    from airshift.cutover.switch import SwitchOptions

    settings = plan.cutover
    return RunOptions(
        switch=SwitchOptions(
            drain_timeout=settings.drain_timeout if drain_timeout is None else drain_timeout,
            on_drain_timeout=settings.on_drain_timeout if policy is None else policy.value,
            confirm_timeout=settings.confirm_timeout,
        ),
        parallelism=settings.parallelism if parallelism is None else parallelism,
        allow_unverified=allow_unverified,
        dry_run=dry_run,
    )


def _render_checks(checks: list[DagCheck], title: str) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_lines=True)
    for column in (
        "DAG",
        "ok",
        "old side",
        "in flight",
        "last finished (old)",
        "first due (new)",
        "continuity",
        "problems / notes",
        "steps",
    ):
        table.add_column(column)
    for check in checks:
        last = check.last_finished_old
        table.add_row(
            escape(check.dag_id),
            "[green]yes[/]" if check.ok else "[red]no[/]",
            "-" if check.old is None else ("paused" if check.old.is_paused else "active"),
            str(len(check.in_flight)),
            f"{last.state} {last.logical_date:%Y-%m-%d %H:%M}" if last and last.logical_date else "-",
            f"{check.first_new_due:%Y-%m-%d %H:%M}" if check.first_new_due else "-",
            check.continuity or "-",  # the method (continuity.py); "-" when refused or not decided
            escape("\n".join([*(f"problem: {p}" for p in check.problems), *check.notes])),
            escape("\n".join(check.steps)),
        )
    console.print(table)
    ready = sum(c.ok for c in checks)
    console.print(f"{ready} of {len(checks)} DAG(s) ready", highlight=False)


def _render_outcomes(outcomes: list[Outcome], verb: str) -> None:
    from rich.markup import escape

    for outcome in outcomes:
        mark = "[green]ok[/]" if outcome.ok else "[red]failed[/]"
        extra = f": {escape(outcome.message)}" if outcome.message else ""
        console.print(f"{mark} {escape(outcome.dag_id)} -> {outcome.owner}{extra}", highlight=False)
    done = sum(o.ok and not o.skipped for o in outcomes)
    skipped = sum(o.skipped for o in outcomes)
    failed = sum(not o.ok for o in outcomes)
    console.print(f"{verb}: {done} switched, {skipped} already done, {failed} failed", highlight=False)


class _Progress:
    """Rich progress: one bar for the wave, one line per step as the journal records it."""

    def __init__(self, total: int, label: str) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=console, transient=False,
        )  # fmt: skip
        self.task = self.progress.add_task(label, total=total)

    def __enter__(self) -> _Progress:
        self.progress.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.progress.stop()

    def __call__(self, dag_id: str, step: str, status: str, message: str) -> None:
        from rich.markup import escape

        colour = {"ok": "green", "failed": "red"}.get(status, "yellow")
        text = f"  {escape(dag_id)}: [{colour}]{escape(step)}[/]" + (f" {escape(message)}" if message else "")
        self.progress.console.print(text, highlight=False)
        if step in ("done", "returned", "skip", "error") or (step == "checked" and status == "failed"):
            self.progress.advance(self.task)


@app.command("plan")
def plan_command(
    wave: Annotated[str | None, typer.Option("--wave", "-w", help="Wave number (1-based) or name.")] = None,
    plan_path: PlanOption = DEFAULT_PLAN,
    allow_unverified: Annotated[
        bool,
        typer.Option("--allow-unverified", help="Do not require `airshift verify` to have matched each DAG."),
    ] = False,
    fmt: Annotated[PlanFormat, typer.Option("--format", help="Output format.")] = PlanFormat.text,
    inventory: Annotated[
        Path | None,
        typer.Option(
            "--inventory",
            help="Instead of checking a wave: propose waves from an `airshift inventory` JSON's DAGs.",
        ),
    ] = None,
    write_plan: Annotated[
        Path | None,
        typer.Option("--write-plan", help="With --inventory: write the proposed waves as a new plan file."),
    ] = None,
) -> None:
    """Per DAG of a wave: the checks and the steps `cutover run` would take. Writes nothing.

    With --inventory: propose waves (least risk first) and, with --write-plan, write them as a plan."""
    import json

    from airshift.cutover.engine import check_wave, wave_dags
    from airshift.cutover.sides import open_sides

    if inventory is not None:
        if wave is not None:
            raise AirshiftError("--inventory proposes waves; check one with --wave, not both at once")
        _propose(inventory, write_plan, fmt)
        return
    if write_plan is not None:
        raise AirshiftError("--write-plan needs --inventory (the DAGs to group into waves)")
    if wave is None:
        raise AirshiftError("give --wave N (the wave to check), or --inventory to propose waves")
    plan = _load(plan_path)
    chosen = plan.wave(wave)
    with open_sides(plan, create_journal=False) as sides:
        checks = check_wave(sides, wave_dags(sides, chosen), allow_unverified, plan.parallelism)
    if fmt is PlanFormat.json:
        typer.echo(json.dumps({"wave": chosen.name, "dags": [c.as_dict() for c in checks]}, indent=2))
    else:
        _render_checks(checks, f"cutover plan: wave {chosen.name} ({plan.old.label} -> {plan.new.label})")
    if not all(check.ok for check in checks):
        raise typer.Exit(1)


def _propose(inventory_path: Path, write_plan: Path | None, fmt: PlanFormat) -> None:
    import json

    from airshift.cutover.propose import plan_text, propose_waves
    from airshift.platform import inventory_use

    inventory = inventory_use.load(inventory_path)
    inventory_use.require_generation(inventory, inventory_path)
    waves = propose_waves(inventory, inventory_path)
    if write_plan is not None:
        from airshift.platform.files import write_text

        if write_plan.exists():
            raise AirshiftError(f"--write-plan {write_plan} exists; choose a new file (nothing was written)")
        write_text(write_plan, plan_text(waves, inventory_path))
    if fmt is PlanFormat.json:
        typer.echo(json.dumps({"waves": [{"name": w.name, "dag_ids": w.dag_ids} for w in waves]}, indent=2))
    else:
        for number, wave in enumerate(waves, 1):
            console.print(
                f"wave {number} {wave.name}: {len(wave.dag_ids)} DAG(s): {', '.join(wave.dag_ids)}",
                highlight=False,
                markup=False,
            )
        if write_plan is not None:
            console.print(
                f"wrote {write_plan}: fill in [old] and [new], then review", highlight=False, markup=False
            )


@app.command("run")
def run_command(
    wave: Annotated[str, typer.Option("--wave", "-w", help="Wave number (1-based) or name.")],
    plan_path: PlanOption = DEFAULT_PLAN,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check and show the steps; change nothing.")
    ] = False,
    drain_timeout: Annotated[
        float | None,
        typer.Option("--drain-timeout", min=0, help="Seconds to wait for runs in flight [plan]."),
    ] = None,
    on_drain_timeout: Annotated[
        Policy | None, typer.Option("--on-drain-timeout", help="When runs are still in flight [plan].")
    ] = None,
    parallelism: Annotated[
        int | None, typer.Option("--parallelism", min=1, max=64, help="DAGs switched at once [plan].")
    ] = None,
    allow_unverified: Annotated[
        bool,
        typer.Option("--allow-unverified", help="Do not require `airshift verify` to have matched each DAG."),
    ] = False,
) -> None:
    """Switch a wave of DAGs to the new side: drain, pause, copy history, unpause, confirm."""
    from airshift.cutover.engine import cutover_wave
    from airshift.cutover.sides import open_sides

    plan = _load(plan_path)
    chosen = plan.wave(wave)
    options = _options(plan, drain_timeout, on_drain_timeout, parallelism, allow_unverified, dry_run)
    with open_sides(plan) as sides:
        if dry_run:
            checks, _ = cutover_wave(sides, chosen, options, lambda *_: None)
            _render_checks(checks, f"cutover run --dry-run: wave {chosen.name}")
            return
        from airshift.cutover.engine import wave_dags

        total = len(wave_dags(sides, chosen))
        with _Progress(total, f"wave {chosen.name}") as progress:
            _checks, outcomes = cutover_wave(sides, chosen, options, progress)
    _render_outcomes(outcomes, f"wave {chosen.name}")
    if not all(outcome.ok for outcome in outcomes):
        raise typer.Exit(1)


@app.command("rollback")
def rollback_command(
    plan_path: PlanOption = DEFAULT_PLAN,
    wave: Annotated[str | None, typer.Option("--wave", "-w", help="Roll back a whole wave.")] = None,
    dag: Annotated[list[str] | None, typer.Option("--dag", help="Roll back one DAG (repeatable).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be rolled back.")] = False,
    drain_timeout: Annotated[
        float | None,
        typer.Option("--drain-timeout", min=0, help="Seconds to wait for runs in flight [plan]."),
    ] = None,
    on_drain_timeout: Annotated[
        Policy | None, typer.Option("--on-drain-timeout", help="When runs are still in flight [plan].")
    ] = None,
    parallelism: Annotated[
        int | None, typer.Option("--parallelism", min=1, max=64, help="DAGs switched at once [plan].")
    ] = None,
) -> None:
    """Give DAGs back to the old side, with the runs the new side made carried back."""
    from airshift.cutover.engine import rollback_dags, wave_dags
    from airshift.cutover.sides import open_sides

    if (wave is None) == (not dag):
        raise AirshiftError("give --wave N or --dag ID (not both)")
    plan = _load(plan_path)
    options = _options(plan, drain_timeout, on_drain_timeout, parallelism, True, dry_run)
    with open_sides(plan) as sides:
        if wave is not None:
            chosen = plan.wave(wave)
            dag_ids, wave_name = wave_dags(sides, chosen), chosen.name
        else:
            dag_ids = sorted(set(dag or []))
            found = plan.wave_of(dag_ids[0]) if dag_ids else None
            wave_name = found.name if found else "-"
        if dry_run:
            outcomes = rollback_dags(sides, wave_name, dag_ids, options, lambda *_: None)
            for outcome in outcomes:
                console.print(f"{outcome.dag_id}: {outcome.message}", highlight=False)
            return
        with _Progress(len(dag_ids), f"rollback {wave_name}") as progress:
            outcomes = rollback_dags(sides, wave_name, dag_ids, options, progress)
    _render_outcomes(outcomes, "rollback")
    if not all(outcome.ok for outcome in outcomes):
        raise typer.Exit(1)


@app.command("status")
def status_command(
    plan_path: PlanOption = DEFAULT_PLAN,
    wave: Annotated[str | None, typer.Option("--wave", "-w", help="Only this wave.")] = None,
    fmt: Annotated[StatusFormat, typer.Option("--format", help="table, json or html.")] = StatusFormat.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
    offline: Annotated[
        bool, typer.Option("--journal-only", help="Read only the journal, not the two Airflows.")
    ] = False,
) -> None:
    """Per wave and DAG: owner, step, last run on each side, next run, problems."""
    from airshift.cutover.airflow_rest import connect_side
    from airshift.cutover.sides import open_journal_of
    from airshift.cutover.status import collect_status, render_html, render_table, to_json

    plan = _load(plan_path)
    with open_journal_of(plan, create=False) as journal:
        clients = {}
        problems = []
        if not offline:
            for side in ("old", "new"):
                try:
                    clients[side] = connect_side(plan, side)
                except AirshiftError as error:
                    problems.append(f"{side} side: {journal.redact(str(error))}")
        try:
            status = collect_status(plan, journal, clients.get("old"), clients.get("new"), wave=wave)
        finally:
            for client in clients.values():
                client.close()
        status.problems[:0] = problems
    if fmt is StatusFormat.table:
        if output is not None:
            raise AirshiftError("--output is for --format json or html")
        render_table(status, console)
        return
    text = to_json(status) if fmt is StatusFormat.json else render_html(status)
    if output is None:
        typer.echo(text, nl=False)
        return
    _write_atomic(output, text)
    console.print(f"wrote {output}", highlight=False)


def _write_atomic(path: Path, text: str) -> None:
    import os
    import tempfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(handle, "w", encoding="utf-8") as sink:
            sink.write(text)
        os.replace(temporary, path)
    except OSError as error:
        raise AirshiftError(f"cannot write {path}: {error.strerror or error}") from None


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="cutover")
