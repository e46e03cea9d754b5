"""The terminal report of scan/fix: findings per file, diffs, a summary table and the requirements."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table

from airshift.report.upgrade_json import summary
from airshift.upgrade.model import RuleMeta
from airshift.upgrade.runner import RunResult

_STYLE = {"required": "red", "behaviour": "yellow", "suggested": "cyan", "info": "dim"}


def render(
    console: Console, result: RunResult, metas: list[RuleMeta], command: str, show_fixed: bool = True
) -> None:
    names = {meta.code: meta.name for meta in metas}
    for report in result.files:
        if report.error:
            console.print(
                f"[bold]{escape(report.path)}[/]: [red]failed[/]: {escape(report.error)}", highlight=False
            )
        for problem in report.problems:
            if problem.fixed and not show_fixed:
                continue
            state = "[green]fixed[/] " if problem.fixed else ("[blue]fixable[/] " if problem.fixable else "")
            style = _STYLE.get(problem.category, "white")
            console.print(
                f"{escape(report.path)}:{problem.line}:{problem.col}: [{style}]{problem.code}[/] {state}"
                f"{escape(problem.message)}",
                highlight=False,
            )
        for dropped in report.dropped:
            console.print(f"{escape(report.path)}: [yellow]note[/]: {escape(dropped)}", highlight=False)
        if report.diff:
            console.print(Syntax(report.diff, "diff", theme="ansi_dark", background_color="default"))
    data = summary(result)
    table = Table(title=f"airshift {command}", show_header=False, title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("files scanned", str(data["files"]))
    table.add_row("files changed" if command == "fix" else "files to change", str(data["changed"]))
    table.add_row("files failed", str(data["failed"]))
    table.add_row("findings", str(data["findings"]))
    if command == "fix":
        table.add_row("fixed", str(data["fixed"]))
    else:  # scan and fix --check wrote nothing: say what a fix would do
        table.add_row("fixable", str(data["fixable"]))
    table.add_row("seconds", f"{data['seconds']:.2f}")
    console.print(table)
    if data["by_rule"]:
        rules = Table(title="findings by rule", title_justify="left")
        rules.add_column("code")
        rules.add_column("rule")
        rules.add_column("found", justify="right")
        done = "fixed" if command == "fix" else "fixable"
        rules.add_column(done, justify="right")
        for code, counts in data["by_rule"].items():
            rules.add_row(code, names.get(code, ""), str(counts["found"]), str(counts[done]))
        console.print(rules)
    requirements = result.requirements
    if requirements:
        console.print("[bold]requirements the migrated DAGs need:[/]")
        for requirement in requirements:
            console.print(f"  {escape(requirement.render())}", highlight=False)
