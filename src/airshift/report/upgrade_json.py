"""The JSON report of scan/fix: a stable, versioned document other steps and tools can read.

Written file by file (`write`), so a large estate's report is never held as one string; the bytes are
those of `json.dumps(document, indent=2)`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any, TextIO

from airshift import __version__
from airshift.report import json_stream
from airshift.upgrade.runner import FileReport, RunResult

SCHEMA_VERSION = 1


def summary(result: RunResult) -> dict[str, Any]:
    files = result.files
    # One pass over the (often a hundred thousand) findings, counted by (code, fixed, fixable) in C.
    kinds = Counter((p.code, p.fixed, p.fixable) for r in files for p in r.problems)
    by_rule: dict[str, dict[str, int]] = {}
    for (code, fixed, fixable), count in sorted(kinds.items()):
        counts = by_rule.setdefault(code, {"found": 0, "fixed": 0, "fixable": 0})
        counts["found"] += count
        counts["fixed"] += count if fixed else 0
        counts["fixable"] += count if fixable and not fixed else 0
    statuses = Counter(r.status for r in files)
    return {
        "files": len(files),
        "changed": statuses["changed"],
        "unchanged": statuses["unchanged"],
        "failed": statuses["failed"],
        "findings": sum(kinds.values()),
        "fixed": sum(counts["fixed"] for counts in by_rule.values()),
        "fixable": sum(counts["fixable"] for counts in by_rule.values()),
        "by_rule": by_rule,
        "seconds": round(result.elapsed, 3),
    }


def _file_entry(report: FileReport) -> dict[str, Any]:
    return {
        "path": report.path,
        "status": report.status,
        "source_version": report.source_version,
        "error": report.error,
        "dropped": report.dropped,
        "findings": [vars(p) for p in report.problems],
        **({"diff": report.diff} if report.diff else {}),
    }


def chunks(result: RunResult, command: str, target: str) -> Iterator[str]:
    """The document in pieces: one per file, between the head and the end."""
    head = {
        "schema": SCHEMA_VERSION,
        "tool": "airshift",
        "version": __version__,
        "command": command,
        "target": target,
        "summary": summary(result),
        "requirements": [r.render() for r in result.requirements],
        "files": json_stream.PLACEHOLDER,
    }
    return json_stream.chunks(head, (_file_entry(report) for report in result.files))


def write(stream: TextIO, result: RunResult, command: str, target: str) -> None:
    for chunk in chunks(result, command, target):
        stream.write(chunk)
    stream.write("\n")


def render(result: RunResult, command: str, target: str) -> str:
    return "".join(chunks(result, command, target))
