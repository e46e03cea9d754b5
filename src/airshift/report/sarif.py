"""SARIF 2.1.0 for code-scanning dashboards (GitHub, GitLab, Azure DevOps)."""

from __future__ import annotations

import json

from airshift import __version__
from airshift.upgrade.model import RuleMeta
from airshift.upgrade.runner import RunResult

_LEVELS = {"required": "error", "behaviour": "warning", "suggested": "note", "info": "note"}


def render(result: RunResult, metas: list[RuleMeta]) -> str:
    rules = [
        {
            "id": meta.code,
            "name": meta.name,
            "shortDescription": {"text": meta.title},
            "fullDescription": {"text": meta.why},
            "defaultConfiguration": {"level": _LEVELS[meta.category.value]},
            "properties": {"category": meta.category.value, "fix": meta.fix.value},
        }
        for meta in metas
    ]
    index = {meta.code: number for number, meta in enumerate(metas)}
    results = []
    for report in result.files:
        for problem in report.problems:
            if problem.fixed:
                continue
            region = {"startLine": problem.line, "startColumn": problem.col}
            if problem.end_line:
                region["endLine"] = problem.end_line
            results.append(
                {
                    "ruleId": problem.code,
                    "ruleIndex": index.get(problem.code, 0),
                    "level": _LEVELS.get(problem.category, "warning"),
                    "message": {"text": problem.message},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": report.path.replace("\\", "/")},
                                "region": region,
                            }
                        }
                    ],
                }
            )
    notifications = [
        {"level": "error", "message": {"text": f"{report.path}: {report.error}"}}
        for report in result.files
        if report.error
    ]
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "airshift", "version": __version__, "rules": rules}},
                "results": results,
                "invocations": [
                    {"executionSuccessful": not notifications, "toolExecutionNotifications": notifications}
                ],
            }
        ],
    }
    return json.dumps(document, indent=2)
