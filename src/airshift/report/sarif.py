"""SARIF 2.1.0 for code-scanning dashboards (GitHub, GitLab, Azure DevOps), written result by result."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TextIO

from airshift import __version__
from airshift.report import json_stream
from airshift.upgrade.model import RuleMeta
from airshift.upgrade.runner import RunResult

_LEVELS = {"required": "error", "behaviour": "warning", "suggested": "note", "info": "note"}


def _results(result: RunResult, index: dict[str, int]) -> Iterator[dict[str, Any]]:
    for report in result.files:
        uri = report.path.replace("\\", "/")
        for problem in report.problems:
            if problem.fixed:
                continue
            region = {"startLine": problem.line, "startColumn": problem.col}
            if problem.end_line:
                region["endLine"] = problem.end_line
            yield {
                "ruleId": problem.code,
                "ruleIndex": index.get(problem.code, 0),
                "level": _LEVELS.get(problem.category, "warning"),
                "message": {"text": problem.message},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}, "region": region}}],
            }


def chunks(result: RunResult, metas: list[RuleMeta]) -> Iterator[str]:
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
                "results": json_stream.PLACEHOLDER,
                "invocations": [
                    {"executionSuccessful": not notifications, "toolExecutionNotifications": notifications}
                ],
            }
        ],
    }
    return json_stream.chunks(document, _results(result, index))


def write(stream: TextIO, result: RunResult, metas: list[RuleMeta]) -> None:
    for chunk in chunks(result, metas):
        stream.write(chunk)
    stream.write("\n")


def render(result: RunResult, metas: list[RuleMeta]) -> str:
    return "".join(chunks(result, metas))
