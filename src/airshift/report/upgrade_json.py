"""The JSON report of scan/fix: a stable, versioned document other steps and tools can read."""

from __future__ import annotations

import json
from typing import Any

from airshift import __version__
from airshift.upgrade.runner import RunResult

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


def render(result: RunResult, command: str, target: str) -> str:
    document = {
        "schema": SCHEMA_VERSION,
        "tool": "airshift",
        "version": __version__,
        "command": command,
        "target": target,
        "summary": summary(result),
        "requirements": [r.render() for r in result.requirements],
        "files": [
            {
                "path": report.path,
                "status": report.status,
                "source_version": report.source_version,
                "error": report.error,
                "dropped": report.dropped,
                "findings": [vars(p) for p in report.problems],
                **({"diff": report.diff} if report.diff else {}),
            }
            for report in result.files
        ],
    }
    return json.dumps(document, indent=2)
