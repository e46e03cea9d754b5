"""The text report of scan/fix: findings per file, diffs, a summary and the requirements.

Written as plain lines in one pass, because a scan of a large estate has a hundred thousand findings and
a per-line renderer would cost more than the scan. On a terminal the same lines get colour (ANSI codes
added around the same text); in a file or a pipe they are exactly the text, never wrapped."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import TextIO

from airshift.report.upgrade_json import summary
from airshift.upgrade.model import RuleMeta
from airshift.upgrade.runner import RunResult

_RESET = "\x1b[0m"
_BOLD, _RED, _GREEN, _YELLOW, _BLUE, _CYAN, _DIM = (f"\x1b[{n}m" for n in (1, 31, 32, 33, 34, 36, 2))
_CATEGORY = {"required": _RED, "behaviour": _YELLOW, "suggested": _CYAN, "info": _DIM}
_DIFF = {"+": _GREEN, "-": _RED, "@": _CYAN}


def wants_colour(stream: TextIO) -> bool:
    """Colour on a terminal only; NO_COLOR turns it off, FORCE_COLOR on (the conventions rich follows)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


def write(
    stream: TextIO,
    result: RunResult,
    metas: list[RuleMeta],
    command: str,
    colour: bool = False,
    show_fixed: bool = True,
) -> None:
    """Write the whole report to `stream` in one call."""
    stream.write("".join(lines(result, metas, command, colour, show_fixed)))


def lines(
    result: RunResult, metas: list[RuleMeta], command: str, colour: bool = False, show_fixed: bool = True
) -> Iterator[str]:
    """The report's lines, each ending in a newline."""

    def paint(style: str, text: str) -> str:
        return f"{style}{text}{_RESET}" if colour else text

    fixed_word, fixable_word = paint(_GREEN, "fixed") + " ", paint(_BLUE, "fixable") + " "
    for report in result.files:
        path = report.path
        if report.error:
            yield f"{paint(_BOLD, path)}: {paint(_RED, 'failed')}: {report.error}\n"
        for problem in report.problems:
            if problem.fixed and not show_fixed:
                continue
            state = fixed_word if problem.fixed else (fixable_word if problem.fixable else "")
            code = paint(_CATEGORY.get(problem.category, ""), problem.code) if colour else problem.code
            yield f"{path}:{problem.line}:{problem.col}: {code} {state}{problem.message}\n"
        for dropped in report.dropped:
            yield f"{path}: {paint(_YELLOW, 'note')}: {dropped}\n"
        if report.diff:
            for line in report.diff.splitlines(keepends=True):
                style = _DIFF.get(line[:1]) if colour and not line.startswith(("+++", "---")) else None
                yield paint(style, line.rstrip("\r\n")) + "\n" if style else line
    yield from _summary(result, metas, command, paint)


def _summary(
    result: RunResult, metas: list[RuleMeta], command: str, paint: Callable[[str, str], str]
) -> Iterator[str]:
    data = summary(result)
    yield paint(_BOLD, f"airshift {command}") + "\n"
    done = "fixed" if command == "fix" else "fixable"  # scan and fix --check wrote nothing
    counts = [
        ("files scanned", data["files"]),
        ("files changed" if command == "fix" else "files to change", data["changed"]),
        ("files failed", data["failed"]),
        ("findings", data["findings"]),
        (done, data[done]),
        ("seconds", f"{data['seconds']:.2f}"),
    ]
    yield from _table(None, [(label, str(value)) for label, value in counts], right=(1,))
    if data["by_rule"]:
        names = {meta.code: meta.name for meta in metas}
        yield paint(_BOLD, "findings by rule") + "\n"
        rows = [
            (code, names.get(code, ""), str(counts["found"]), str(counts[done]))
            for code, counts in data["by_rule"].items()
        ]
        yield from _table(("code", "rule", "found", done), rows, right=(2, 3))
    requirements = result.requirements
    if requirements:
        yield paint(_BOLD, "requirements the migrated DAGs need:") + "\n"
        for requirement in requirements:
            yield f"  {requirement.render()}\n"


def _table(
    header: tuple[str, ...] | None, rows: Sequence[tuple[str, ...]], right: tuple[int, ...]
) -> Iterator[str]:
    """Aligned columns, two spaces apart, indented by two: readable as text and by `column -t`."""
    everything = [*([header] if header else []), *rows]
    widths = [max(len(row[i]) for row in everything) for i in range(len(everything[0]))]
    for row in everything:
        cells = [
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        yield "  " + "  ".join(cells).rstrip() + "\n"


def render(result: RunResult, metas: list[RuleMeta], command: str, show_fixed: bool = True) -> str:
    """The report as one string, without colour."""
    return "".join(lines(result, metas, command, False, show_fixed))
