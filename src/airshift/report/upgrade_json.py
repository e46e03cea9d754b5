"""The JSON report of scan/fix: a stable, versioned document other steps and tools can read.

Written file by file (`write`), so a large estate's report is never held as one string; the bytes are
those of `json.dumps(document, indent=2)`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TextIO

from airshift import __version__
from airshift.report import json_stream
from airshift.upgrade.runner import FileReport, RunResult

SCHEMA_VERSION = 1


def summary(result: RunResult) -> dict[str, Any]:
    files = result.files
    by_rule: dict[str, dict[str, int]] = {}
    for report in files:
        for problem in report.problems:
            counts = by_rule.setdefault(problem.code, {"found": 0, "fixed": 0, "fixable": 0})
            counts["found"] += 1
            counts["fixed"] += int(problem.fixed)
            counts["fixable"] += int(problem.fixable and not problem.fixed)
    return {
        "files": len(files),
        "changed": sum(r.status == "changed" for r in files),
        "unchanged": sum(r.status == "unchanged" for r in files),
        "failed": sum(r.status == "failed" for r in files),
        "findings": sum(len(r.problems) for r in files),
        "fixed": sum(p.fixed for r in files for p in r.problems),
        "fixable": sum(p.fixable and not p.fixed for r in files for p in r.problems),
        "by_rule": dict(sorted(by_rule.items())),
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
