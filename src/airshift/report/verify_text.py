"""The terminal report of `airshift verify`: summary, then each DAG's differences, import errors, runs."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from airshift.verify.result import DagComparison, Difference, VerifyResult
from airshift.verify.snapshot_model import FileProblem

_MAX_VALUE = 300
_STATUS_STYLE = {"match": "green", "mismatch": "red", "missing": "red", "extra": "yellow"}


def value_text(value: Any) -> str:
    """A short one-line picture of a snapshot value."""
    if value is None:
        return "-"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    text = text.replace("\n", "\\n")
    return text if len(text) <= _MAX_VALUE else text[:_MAX_VALUE] + "..."


def describe(difference: Difference) -> str:
    """'retries: 3 -> 0', 'task missing', 'upstream missing: a >> b'."""
    if difference.field == "dag":
        return "DAG only in the original" if difference.kind == "missing" else "DAG only in the migration"
    if difference.field == "task":
        return "task only in the original" if difference.kind == "missing" else "task only in the migration"
    if difference.field == "upstream":
        edge = difference.before if difference.kind == "missing" else difference.after
        return f"dependency {'lost' if difference.kind == 'missing' else 'added'}: {edge}"
    if difference.kind == "missing":
        return f"{difference.field}: only in the original ({value_text(difference.before)})"
    if difference.kind == "extra":
        return f"{difference.field}: only in the migration ({value_text(difference.after)})"
    return f"{difference.field}: {value_text(difference.before)} -> {value_text(difference.after)}"


def _summary(console: Console, result: VerifyResult) -> None:
    s = result.summary()
    console.print(
        f"airshift verify: {result.original} (Airflow {result.source_airflow}) -> "
        f"{result.migrated} (Airflow {result.target_airflow})",
        highlight=False,
    )
    parts = [
        f"{s.matching} matching",
        f"{s.mismatched} with differences",
        f"{s.missing} missing",
        f"{s.extra} extra",
        f"import errors: {s.import_errors_before} before, {s.import_errors_after} after",
    ]
    if s.intended:
        parts.append(f"{s.intended} intended changes")
    if s.runs:
        parts.append(f"runs: {s.runs - s.runs_failed}/{s.runs} succeeded")
    console.print(f"DAGs: {', '.join(parts)}", highlight=False)


def _dag(console: Console, dag: DagComparison, show_intended: bool) -> None:
    style = _STATUS_STYLE[dag.status]
    console.print(
        f"[{style}]{dag.status.upper():8}[/] {escape(dag.dag_id)} "
        f"[dim]({escape(dag.file_before or dag.file_after or '')}, tasks {dag.tasks_before} -> {dag.tasks_after})[/]"
    )
    for difference in dag.differences:
        if difference.intended is not None:
            if show_intended:
                console.print(
                    f"    [dim]intended  {escape(difference.task_id or '(dag)')}: {escape(describe(difference))}"
                    f" - {escape(difference.intended)}[/]"
                )
            continue
        if difference.field in ("dag",):
            continue
        where = difference.task_id or "(dag)"
        console.print(f"    [red]x[/] {escape(where)}: {escape(describe(difference))}")


def _problems(console: Console, title: str, problems: list[FileProblem]) -> None:
    if not problems:
        return
    console.print(f"[bold]{escape(title)}[/]")
    for problem in problems:
        where = f"{problem.file}:{problem.line}" if problem.line else problem.file
        console.print(f"  [red]{problem.kind}[/] {escape(where)}: {escape(value_text(problem.message))}")


def render(console: Console, result: VerifyResult, show_intended: bool = True) -> None:
    _summary(console, result)
    for dag in result.dags:
        if dag.status != "match" or (show_intended and dag.differences):
            _dag(console, dag, show_intended)
        else:
            console.print(f"[green]MATCH   [/] {escape(dag.dag_id)}")
    _problems(
        console,
        f"Original (Airflow {result.source_airflow}): files that did not load",
        result.problems_before,
    )
    _problems(
        console,
        f"Migration (Airflow {result.target_airflow}): files that did not load",
        result.problems_after,
    )
    if result.runs:
        table = Table(title="airflow dags test", title_justify="left")
        for column in ("DAG", "logical date", "result", "tasks"):
            table.add_column(column)
        for run in result.runs:
            states: dict[str, int] = {}
            for task in run.tasks:
                states[str(task.state)] = states.get(str(task.state), 0) + 1
            table.add_row(
                escape(run.dag_id),
                run.logical_date,
                "[green]ok[/]" if run.ok else f"[red]{escape(run.error or f'exit {run.exit_code}')}[/]",
                ", ".join(f"{n} {state}" for state, n in sorted(states.items())) or "-",
            )
        console.print(table)
        for run in result.runs:
            failed = [t.task_id for t in run.tasks if t.state not in ("success", "skipped")]
            if not run.ok and run.log_tail:
                console.print(
                    f"[bold]{escape(run.dag_id)}[/] failed tasks: {escape(', '.join(failed) or '-')}"
                )
                console.print(f"[dim]{escape(run.log_tail)}[/]")
    verdict = (
        "[green]OK: every DAG matches[/]" if result.ok else "[red]FAILED: differences or errors above[/]"
    )
    console.print(verdict)
