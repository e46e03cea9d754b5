"""GitHub Actions workflow commands: one annotation per finding, shown on the pull request diff."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TextIO

from airshift.upgrade.runner import RunResult

_LEVELS = {"required": "error", "behaviour": "warning", "suggested": "notice", "info": "notice"}


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape(text).replace(":", "%3A").replace(",", "%2C")


def lines(result: RunResult) -> Iterator[str]:
    """One workflow command per failed file and per finding still to fix, each ending in a newline."""
    for report in result.files:
        path = _escape_property(report.path)
        if report.error:
            yield f"::error file={path},title=airshift::{_escape(report.error)}\n"
        for problem in report.problems:
            if problem.fixed:
                continue
            level = _LEVELS.get(problem.category, "warning")
            title = _escape_property(problem.code)
            yield f"::{level} file={path},line={problem.line},col={problem.col},title={title}::{_escape(problem.message)}\n"


def write(stream: TextIO, result: RunResult) -> None:
    stream.writelines(lines(result))


def render(result: RunResult) -> str:
    return "".join(lines(result))
