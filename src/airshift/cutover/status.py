"""Cutover status: per wave and DAG, who owns it, the last step taken, the last run on each side, the
next run on the owning side, and problems. One model, three renderings: a rich table, JSON and a
self-contained HTML page (the router serves it at `/`).

`collect_status` reads the journal and, when clients are given, both Airflows' REST APIs; a side that
cannot be reached becomes a problem on every row, not an error, so the page still shows the journal.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from airshift.cutover.journal import Journal, now

if TYPE_CHECKING:
    from rich.console import Console

    from airshift.cutover.airflow_rest import AirflowClient, RunInfo
    from airshift.cutover.plan import CutoverPlan

STATUS_SCHEMA = 1
_SAFE_ID = re.compile(r"[^A-Za-z0-9_.-]")


class RunSummary(BaseModel):
    run_id: str
    state: str
    logical_date: dt.datetime | None = None
    due: dt.datetime | None = None
    run_type: str | None = None


class DagStatus(BaseModel):
    dag_id: str
    wave: str
    owner: Literal["old", "new"]
    # False when no cutover step has touched the DAG yet (it is where it always was: old).
    journaled: bool = False
    since: dt.datetime | None = None
    step: str | None = None
    step_status: str | None = None
    step_at: dt.datetime | None = None
    paused_old: bool | None = None
    paused_new: bool | None = None
    last_run_old: RunSummary | None = None
    last_run_new: RunSummary | None = None
    next_run: dt.datetime | None = None
    problems: list[str] = Field(default_factory=list)


class WaveStatus(BaseModel):
    number: int
    name: str
    dags: list[DagStatus] = Field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "old": sum(d.owner == "old" for d in self.dags),
            "new": sum(d.owner == "new" for d in self.dags),
            "problems": sum(bool(d.problems) for d in self.dags),
        }


class CutoverStatus(BaseModel):
    schema_version: int = STATUS_SCHEMA
    generated_at: dt.datetime = Field(default_factory=now)
    plan: str = ""
    journal: str = ""
    old: str = ""
    new: str = ""
    waves: list[WaveStatus] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)

    def dag(self, dag_id: str) -> DagStatus | None:
        for wave in self.waves:
            for dag in wave.dags:
                if dag.dag_id == dag_id:
                    return dag
        return None


# -- collecting -------------------------------------------------------------------------------------


def _summary(run: RunInfo | None) -> RunSummary | None:
    if run is None:
        return None
    return RunSummary(
        run_id=run.run_id, state=run.state, logical_date=run.logical_date, due=run.due, run_type=run.run_type
    )


def collect_status(
    plan: CutoverPlan,
    journal: Journal,
    old: AirflowClient | None = None,
    new: AirflowClient | None = None,
    *,
    wave: str | int | None = None,
) -> CutoverStatus:
    """The status of every wave (or one) from the journal and, when clients are given, both sides."""
    from airshift.errors import AirshiftError

    status = CutoverStatus(
        plan=str(plan.path), journal=journal.location, old=plan.old.label, new=plan.new.label
    )
    owners = journal.ownership()
    catalogue: dict[str, tuple[str, ...]] = {}
    side_down: dict[str, str] = {}
    for side, client in (("old", old), ("new", new)):
        if client is None or client.flavour == "experimental":
            continue  # 1.10's API cannot list DAGs: its waves name their dag_ids, read one by one below
        try:
            catalogue.update(client.list_dags())
        except AirshiftError as error:
            side_down[side] = journal.redact(str(error))
            status.problems.append(f"{side} side: {side_down[side]}")
    waves = list(enumerate(plan.waves, 1))
    if wave is not None:
        chosen = plan.wave(wave)
        waves = [(n, w) for n, w in waves if w.name == chosen.name]
    claimed: set[str] = set()
    for number, plan_wave in waves:
        known = {d: t for d, t in catalogue.items()} | {d: () for d in owners if d not in catalogue}
        wave_status = WaveStatus(number=number, name=plan_wave.name)
        for dag_id in plan_wave.resolve({d: list(t) for d, t in known.items()}):
            if dag_id in claimed:
                continue  # a DAG belongs to the first wave that selects it
            claimed.add(dag_id)
            wave_status.dags.append(_dag_status(dag_id, plan_wave.name, journal, owners, old, new, side_down))
        status.waves.append(wave_status)
    return status


def _dag_status(
    dag_id: str,
    wave: str,
    journal: Journal,
    owners: dict[str, Any],
    old: AirflowClient | None,
    new: AirflowClient | None,
    side_down: dict[str, str],
) -> DagStatus:
    from airshift.errors import AirshiftError

    owned = owners.get(dag_id)
    last = journal.last_step(dag_id)
    dag = DagStatus(
        dag_id=dag_id,
        wave=wave,
        owner=owned.side if owned else "old",
        journaled=owned is not None,
        since=owned.since if owned else None,
        step=last.step if last else None,
        step_status=last.status if last else None,
        step_at=last.at if last else None,
    )
    if last is not None and last.status == "failed":
        dag.problems.append(f"{last.action} step {last.step} failed: {last.message}")
    for side, client in (("old", old), ("new", new)):
        if client is None or side in side_down:
            continue
        try:
            info = client.get_dag(dag_id)
            if info is None:
                dag.problems.append(f"not on the {side} side")
                continue
            if info.has_import_errors:
                dag.problems.append(f"import errors on the {side} side")
            runs = client.list_runs(dag_id, limit=1)
        except AirshiftError as error:
            dag.problems.append(journal.redact(str(error)))
            continue
        setattr(dag, f"paused_{side}", info.is_paused)
        setattr(dag, f"last_run_{side}", _summary(runs[0] if runs else None))
        if side == dag.owner:
            dag.next_run = info.next_run_after or info.next_data_interval_end or info.next_logical_date
    if dag.paused_old is False and dag.paused_new is False:
        dag.problems.append("active on both sides: both schedulers will run it")
    return dag


# -- rendering --------------------------------------------------------------------------------------


def to_json(status: CutoverStatus) -> str:
    body = status.model_dump(mode="json")
    return json.dumps({"tool": "airshift", "command": "cutover status", **body}, indent=2) + "\n"


def _when(value: dt.datetime | None) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _run_text(run: RunSummary | None) -> str:
    return f"{run.state} {_when(run.logical_date)}" if run else "-"


def _step_text(dag: DagStatus) -> str:
    if not dag.step:
        return "-"
    return f"{dag.step} ({dag.step_status})" if dag.step_status != "ok" else dag.step


def render_table(status: CutoverStatus, console: Console) -> None:
    from rich.markup import escape
    from rich.table import Table

    for wave in status.waves:
        counts = wave.counts
        table = Table(
            title=f"wave {wave.number}: {wave.name} - {counts['new']} on new, {counts['old']} on old, "
            f"{counts['problems']} with problems",
            title_justify="left",
        )
        for column in (
            "DAG",
            "owner",
            "since",
            "step",
            "last run old",
            "last run new",
            "next run",
            "problems",
        ):
            table.add_column(column)
        for dag in wave.dags:
            owner = f"[green]{dag.owner}[/]" if dag.owner == "new" else dag.owner
            table.add_row(
                escape(dag.dag_id),
                owner,
                _when(dag.since),
                escape(_step_text(dag)),
                _run_text(dag.last_run_old),
                _run_text(dag.last_run_new),
                _when(dag.next_run),
                "[red]" + escape("; ".join(dag.problems)) + "[/]" if dag.problems else "",
            )
        console.print(table)
    for problem in status.problems:
        console.print(f"[red]problem:[/] {escape(problem)}", highlight=False)


def dag_element_id(dag_id: str) -> str:
    """The HTML id of a DAG's row: `dag-` and the DAG id with anything outside [A-Za-z0-9_.-] as `_`."""
    return "dag-" + _SAFE_ID.sub("_", dag_id)


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:1.5rem;color:#1b1f24;background:#fff}
h1{font-size:1.4rem;margin:0 0 .3rem} h2{font-size:1.1rem;margin:1.6rem 0 .4rem}
.meta{color:#57606a;font-size:.85rem;margin:0 0 1rem}
table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{border-bottom:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
.owner-new .owner{color:#1a7f37;font-weight:600} .owner-old .owner{color:#57606a}
tr.has-problems{background:#fff5f5} .problems{color:#cf222e} .problems ul{margin:0;padding-left:1rem}
.counts span{margin-right:1rem} .global-problems{color:#cf222e}
"""


def render_html(status: CutoverStatus, *, refresh_seconds: int | None = None) -> str:
    """A self-contained page (inline CSS, no scripts, no external resources). Every DAG row is
    `<tr id="dag-<id>" class="dag-row owner-<side>[ has-problems]" data-dag-id="<id>" data-owner="<side>">`
    and its problems are `<li class="problem">` items in `<td class="problems">`."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
    ]
    if refresh_seconds:
        parts.append(f'<meta http-equiv="refresh" content="{int(refresh_seconds)}">')
    parts += [
        "<title>airshift cutover status</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>airshift cutover status</h1>",
        f'<p class="meta">old: {e(status.old)} &middot; new: {e(status.new)} &middot; plan: {e(status.plan)} '
        f"&middot; journal: {e(status.journal)} &middot; generated {e(_when(status.generated_at))} UTC</p>",
    ]
    if status.problems:
        parts.append('<ul class="global-problems" id="problems">')
        parts += [f'<li class="problem">{e(p)}</li>' for p in status.problems]
        parts.append("</ul>")
    for wave in status.waves:
        counts = wave.counts
        parts.append(
            f'<section class="wave" id="wave-{wave.number}" data-wave="{e(wave.name)}">'
            f"<h2>Wave {wave.number}: {e(wave.name)}</h2>"
            f'<p class="counts"><span class="count-new">{counts["new"]} on new</span>'
            f'<span class="count-old">{counts["old"]} on old</span>'
            f'<span class="count-problems">{counts["problems"]} with problems</span></p>'
            "<table><thead><tr><th>DAG</th><th>owner</th><th>since</th><th>step</th><th>last run old</th>"
            "<th>last run new</th><th>next run</th><th>problems</th></tr></thead><tbody>"
        )
        for dag in wave.dags:
            classes = f"dag-row owner-{dag.owner}" + (" has-problems" if dag.problems else "")
            problems = (
                "<ul>" + "".join(f'<li class="problem">{e(p)}</li>' for p in dag.problems) + "</ul>"
                if dag.problems
                else ""
            )
            parts.append(
                f'<tr id="{e(dag_element_id(dag.dag_id))}" class="{classes}" data-dag-id="{e(dag.dag_id)}" '
                f'data-owner="{dag.owner}"><td class="dag-id">{e(dag.dag_id)}</td>'
                f'<td class="owner">{dag.owner}</td><td class="since">{e(_when(dag.since))}</td>'
                f'<td class="step">{e(_step_text(dag))}</td>'
                f'<td class="last-run-old">{e(_run_text(dag.last_run_old))}</td>'
                f'<td class="last-run-new">{e(_run_text(dag.last_run_new))}</td>'
                f'<td class="next-run">{e(_when(dag.next_run))}</td>'
                f'<td class="problems">{problems}</td></tr>'
            )
        parts.append("</tbody></table></section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
