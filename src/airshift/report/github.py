"""GitHub Actions workflow commands: one annotation per finding, shown on the pull request diff."""

from __future__ import annotations

from airshift.upgrade.runner import RunResult

_LEVELS = {"required": "error", "behaviour": "warning", "suggested": "notice", "info": "notice"}


def _escape(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape(text).replace(":", "%3A").replace(",", "%2C")


def render(result: RunResult) -> str:
    lines: list[str] = []
    for report in result.files:
        path = _escape_property(report.path)
        if report.error:
            lines.append(f"::error file={path},title=airshift::{_escape(report.error)}")
        for problem in report.problems:
            if problem.fixed:
                continue
            level = _LEVELS.get(problem.category, "warning")
            title = _escape_property(problem.code)
            lines.append(
                f"::{level} file={path},line={problem.line},col={problem.col},title={title}::{_escape(problem.message)}"
            )
    return "\n".join(lines) + ("\n" if lines else "")
