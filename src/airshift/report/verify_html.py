"""The HTML report of `airshift verify`: one self-contained page (inline CSS, no scripts, no external
assets) with summary counts, each DAG's differences, import errors and task runs. Every value from a
snapshot is escaped: DAG ids, file names and rendered templates are user data."""

from __future__ import annotations

from html import escape

from airshift import __version__
from airshift.report.verify_text import describe, value_text
from airshift.verify.result import DagComparison, VerifyResult
from airshift.verify.snapshot_model import FileProblem

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#1d2430;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{border:1px solid #d5dae1;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f1f3f6}td.v{font-family:ui-monospace,monospace;white-space:pre-wrap;word-break:break-word}
.match{color:#17733a}.mismatch,.missing,.failed{color:#b3261e}.extra{color:#8a5a00}.intended{color:#5b6472}
.cards{display:flex;gap:.8em;flex-wrap:wrap}.card{border:1px solid #d5dae1;border-radius:6px;padding:.5em 1em}
.card b{display:block;font-size:1.6em}details{margin:.4em 0}summary{cursor:pointer}
.verdict{font-size:1.2em;font-weight:bold}
"""


def _card(label: str, value: int, css: str = "") -> str:
    return f'<div class="card {css}"><b>{value}</b>{escape(label)}</div>'


def _dag(dag: DagComparison) -> str:
    label = f"{dag.dag_id} ({dag.file_before or dag.file_after or ''})"
    head = f'<summary><span class="{dag.status}">{escape(dag.status.upper())}</span> {escape(label)} '
    head += (
        f"- tasks {dag.tasks_before} &rarr; {dag.tasks_after}, {len(dag.mismatches)} differences</summary>"
    )
    if not dag.differences:
        return f"<details>{head}<p>No differences.</p></details>"
    rows = []
    for difference in dag.differences:
        css = "intended" if difference.intended else "mismatch"
        note = f"intended: {difference.intended}" if difference.intended else describe(difference)
        rows.append(
            f'<tr class="{css}"><td>{escape(difference.task_id or "(DAG)")}</td><td>{escape(difference.field)}</td>'
            f"<td>{escape(difference.kind)}</td><td class=v>{escape(value_text(difference.before))}</td>"
            f"<td class=v>{escape(value_text(difference.after))}</td><td>{escape(note)}</td></tr>"
        )
    table = (
        "<table><tr><th>task</th><th>field</th><th>kind</th><th>original</th><th>migrated</th><th>note</th></tr>"
        + "".join(rows)
        + "</table>"
    )
    opened = " open" if dag.status != "match" else ""
    return f"<details{opened}>{head}{table}</details>"


def _problems(title: str, problems: list[FileProblem]) -> str:
    if not problems:
        return f"<h2>{escape(title)}</h2><p>None.</p>"
    rows = "".join(
        f"<tr><td>{escape(p.file)}</td><td>{p.line or ''}</td><td>{escape(p.kind)}</td>"
        f"<td class=v>{escape(p.message)}</td></tr>"
        for p in problems
    )
    return (
        f"<h2>{escape(title)}</h2><table><tr><th>file</th><th>line</th><th>kind</th><th>message</th></tr>"
        f"{rows}</table>"
    )


def _runs(result: VerifyResult) -> str:
    if not result.runs:
        return ""
    parts = ["<h2>Task runs (airflow dags test)</h2>"]
    for run in result.runs:
        css = "match" if run.ok else "failed"
        verdict = "ok" if run.ok else (run.error or f"exit code {run.exit_code}")
        rows = "".join(
            f"<tr><td>{escape(t.task_id)}</td><td>{escape(str(t.state))}</td><td>{t.try_number or ''}</td></tr>"
            for t in run.tasks
        )
        parts.append(
            f'<details{" open" if not run.ok else ""}><summary><span class="{css}">{escape(verdict)}</span> '
            f"{escape(run.dag_id)} @ {escape(run.logical_date)} ({run.seconds:.1f}s)</summary>"
            f"<table><tr><th>task</th><th>state</th><th>try</th></tr>{rows}</table>"
            + (f"<pre>{escape(run.log_tail)}</pre>" if run.log_tail and not run.ok else "")
            + "</details>"
        )
    return "".join(parts)


def render(result: VerifyResult) -> str:
    s = result.summary()
    verdict = (
        '<p class="verdict match">Every DAG matches.</p>'
        if result.ok
        else '<p class="verdict mismatch">Differences or errors found.</p>'
    )
    cards = "".join(
        [
            _card("matching DAGs", s.matching, "match"),
            _card("DAGs with differences", s.mismatched, "mismatch" if s.mismatched else ""),
            _card("missing DAGs", s.missing, "missing" if s.missing else ""),
            _card("extra DAGs", s.extra, "extra" if s.extra else ""),
            _card("differences", s.differences),
            _card("intended changes", s.intended, "intended"),
            _card("import errors (original)", s.import_errors_before),
            _card("import errors (migrated)", s.import_errors_after),
        ]
        + ([_card("failed runs", s.runs_failed, "failed" if s.runs_failed else "")] if s.runs else [])
    )
    title = f"airshift verify: Airflow {result.source_airflow} → {result.target_airflow}"
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f"<p>Original <code>{escape(result.original)}</code> in Airflow {escape(result.source_airflow)}; "
        f"migration <code>{escape(result.migrated)}</code> in Airflow {escape(result.target_airflow)}; "
        f"templates rendered for the run at or after {escape(result.logical_date)} UTC.</p>"
        f"{verdict}<div class=cards>{cards}</div>"
        "<h2>DAGs</h2>"
        + "".join(_dag(d) for d in result.dags)
        + _problems("Import errors: original", result.problems_before)
        + _problems("Import errors: migration", result.problems_after)
        + _runs(result)
        + f"<p class=intended>Generated by airshift {escape(__version__)}.</p></body></html>\n"
    )
