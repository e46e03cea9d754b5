"""The comparison report as text (terminals and CI logs), JSON (machines) and one self-contained HTML
page (inline CSS, no scripts). Every name in it (topics, groups) is escaped in HTML; secrets never
reach a report, since it only holds the clusters' secret-free descriptions."""

from __future__ import annotations

import json
from html import escape

from airshift import __version__
from airshift.kafka.diff import KINDS
from airshift.kafka.model import CompareReport, PartitionReport

_LABEL = {
    "missing": "missing on target",
    "extra": "extra on target",
    "duplicate": "duplicated",
    "reordered": "reordered",
    "changed": "changed",
}


def render(report: CompareReport, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report.to_dict(), indent=2, sort_keys=True) + "\n"
    if fmt == "html":
        return render_html(report)
    return render_text(report)


def _finding_line(kind: str, source: int | None, target: int | None, detail: str) -> str:
    where = []
    if source is not None:
        where.append(f"source offset {source}")
    if target is not None:
        where.append(f"target offset {target}")
    return f"{_LABEL[kind]}: {', '.join(where)}" + (f" ({detail})" if detail else "")


def _partition_summary(part: PartitionReport) -> str:
    counts = ", ".join(f"{part.counts[k]} {_LABEL[k]}" for k in KINDS if part.counts[k])
    state = counts or ("behind" if part.lag else "identical")
    records = (
        "sampled" if part.mode == "sampled" else f"{part.source.records} / {part.target.records} records"
    )
    digest = ""
    if part.mode == "whole" and part.source.digest:
        same = part.source.digest == part.target.digest
        digest = f", digest {'equal' if same else 'differs'} {part.source.digest[:12]}"
        if not same:
            digest += f" / {part.target.digest[:12]}"
    extra = f", lag {part.lag} from source offset {part.first_lag_offset}" if part.lag else ""
    if part.newer_on_target:
        extra += f", {part.newer_on_target} newer on target"
    return (
        f"[{part.partition}] source {part.source.earliest}..{part.source.latest} "
        f"target {part.target.earliest}..{part.target.latest}, {records}, "
        f"{part.compared} matched{digest}{extra}: {state}"
    )


def render_text(report: CompareReport) -> str:
    lines = [
        f"airshift kafka compare ({report.mode}): {report.verdict.upper()}",
        f"source: {report.source}",
        f"target: {report.target}",
        f"MM2 offset syncs: {report.offset_syncs_topic or 'none found (aligned by content)'}; "
        f"checkpoints: {report.checkpoints_topic or 'none found'}",
    ]
    for message in report.errors:
        lines.append(f"ERROR {message}")
    for message in report.warnings:
        lines.append(f"warning {message}")
    for topic in report.topics:
        lines.append("")
        lines.append(
            f"topic {topic.topic} -> {topic.target_topic}: partitions {topic.source_partitions} / "
            f"{topic.target_partitions if topic.target_partitions is not None else '-'}"
        )
        for message in topic.errors:
            lines.append(f"  ERROR {message}")
        for part in topic.partitions:
            lines.append(f"  {_partition_summary(part)}")
            for message in part.errors:
                lines.append(f"    ERROR {message}")
            for finding in part.findings:
                lines.append(
                    "    ERROR "
                    + _finding_line(
                        finding.kind, finding.source_offset, finding.target_offset, finding.detail
                    )
                )
            listed = len(part.findings)
            total = sum(part.counts.values())
            if total > listed:
                lines.append(f"    ... {total - listed} more (counted above)")
            for message in part.warnings:
                lines.append(f"    warning {message}")
    if report.groups:
        lines.append("")
        lines.append("consumer groups (switching to the target now):")
        for g in report.groups:
            lines.append("  " + _group_line(g.group, g.topic, g.partition, g.verdict, g.records, g.source_committed,
                                            g.exact_target, g.translated, g.translated_from))  # fmt: skip
    rate = report.records_compared / report.seconds if report.seconds > 0 else 0.0
    lines.append("")
    lines.append(
        f"{report.error_count} error(s), {report.warning_count} warning(s), lag {report.lag}; "
        f"{report.records_compared:,} records read in {report.seconds:.1f} s ({rate:,.0f}/s); "
        f"exit {report.exit_code}"
    )
    return "\n".join(lines) + "\n"


def _group_line(
    group: str,
    topic: str,
    partition: int,
    verdict: str,
    records: int,
    committed: int,
    exact: int | None,
    translated: int | None,
    origin: str,
) -> str:
    where = f"group {group} on {topic}[{partition}]"
    facts = f"source commit {committed}, exact target {exact}, translated {translated} ({origin})"
    if verdict == "skip":
        return f"ERROR {where} would SKIP {records} record(s): {facts}"
    if verdict == "re-read":
        return f"warning {where} would re-read {records} record(s): {facts}"
    if verdict == "untranslated":
        return f"warning {where} has no translated offset on the target: {facts}"
    return f"ok {where}: {facts}"


_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#1d2430;padding:0 1em}
table{border-collapse:collapse;width:100%;margin:.5em 0}th,td{border:1px solid #d5dae1;padding:.3em .5em;
text-align:left;vertical-align:top}th{background:#f1f3f6}.ok{color:#17733a}.err{color:#b3261e}
.warn{color:#8a5a00}code{font-family:ui-monospace,monospace}.verdict{font-size:1.3em;font-weight:bold}
"""


def render_html(report: CompareReport) -> str:
    css = "ok" if report.exit_code == 0 else ("err" if report.error_count else "warn")
    out = [
        "<!doctype html><html><head><meta charset='utf-8'><title>airshift kafka compare</title>",
        f"<style>{_CSS}</style></head><body><h1>Kafka topic parity</h1>",
        f"<p class='verdict {css}'>{escape(report.verdict.upper())} (exit {report.exit_code})</p>",
        f"<p>source: <code>{escape(report.source)}</code><br>target: <code>{escape(report.target)}</code><br>"
        f"mode: {escape(report.mode)}; MM2 offset syncs: {escape(report.offset_syncs_topic or 'none')}; "
        f"checkpoints: {escape(report.checkpoints_topic or 'none')}</p>",
    ]
    for message in report.errors:
        out.append(f"<p class='err'>{escape(message)}</p>")
    for topic in report.topics:
        out.append(f"<h2>{escape(topic.topic)} &rarr; {escape(topic.target_topic)}</h2>")
        for message in topic.errors:
            out.append(f"<p class='err'>{escape(message)}</p>")
        out.append(
            "<table><tr><th>partition</th><th>source offsets</th><th>target offsets</th><th>records</th>"
            "<th>matched</th><th>lag</th><th>digest</th><th>findings</th></tr>"
        )
        for part in topic.partitions:
            findings = "".join(
                f"<div class='err'>{escape(_finding_line(f.kind, f.source_offset, f.target_offset, f.detail))}</div>"
                for f in part.findings
            )
            findings += "".join(f"<div class='err'>{escape(m)}</div>" for m in part.errors)
            findings += "".join(f"<div class='warn'>{escape(m)}</div>" for m in part.warnings)
            same = part.source.digest == part.target.digest
            digest = (
                f"<code>{escape(part.source.digest[:16])}</code> {'=' if same else '&ne;'} "
                f"<code>{escape(part.target.digest[:16])}</code>"
                + (" (sampled)" if part.mode == "sampled" else "")
            )
            out.append(
                f"<tr><td>{part.partition}</td><td>{part.source.earliest}..{part.source.latest}</td>"
                f"<td>{part.target.earliest}..{part.target.latest}</td>"
                f"<td>{part.source.records} / {part.target.records}</td><td>{part.compared}</td>"
                f"<td>{part.lag}</td><td>{digest}</td><td>{findings or '<span class=ok>identical</span>'}</td></tr>"
            )
        out.append("</table>")
    if report.groups:
        out.append(
            "<h2>Consumer groups</h2><table><tr><th>group</th><th>topic</th><th>partition</th>"
            "<th>source commit</th><th>exact target</th><th>translated</th><th>from</th><th>verdict</th></tr>"
        )
        for g in report.groups:
            css = {"ok": "ok", "skip": "err"}.get(g.verdict, "warn")
            verdict = g.verdict + (f" {g.records}" if g.records else "")
            out.append(
                f"<tr><td>{escape(g.group)}</td><td>{escape(g.topic)}</td><td>{g.partition}</td>"
                f"<td>{g.source_committed}</td><td>{g.exact_target}</td><td>{g.translated}</td>"
                f"<td>{escape(g.translated_from)}</td><td class='{css}'>{escape(verdict)}</td></tr>"
            )
        out.append("</table>")
    out.append(
        f"<p>{report.error_count} error(s), {report.warning_count} warning(s); "
        f"{report.records_compared:,} records read in {report.seconds:.1f} s. airshift {escape(__version__)}</p>"
    )
    out.append("</body></html>\n")
    return "\n".join(out)
