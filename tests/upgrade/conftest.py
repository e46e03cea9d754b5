"""Helpers for before/after rule tests, run against the real generated moves table."""

from __future__ import annotations

import ast
import textwrap

from airshift.upgrade.context import Settings
from airshift.upgrade.engine import Analysis, analyse
from airshift.upgrade.moves import load_table
from airshift.upgrade.registry import Selection
from airshift.upgrade.versions import parse_target

TODAY = "2026-11-22"


def run(
    text: str, target: str = "3.3", fix: bool = True, select: tuple[str, ...] = (), **settings: object
) -> Analysis:
    # `settings` may hold `source` (the Airflow the code was written for), hence `text` for the code.
    # Rules other than the behaviour defaults (AS8xx) are tested without those additions, so each
    # before/after pair shows only its own rule's change; AS8xx tests pass adopt_new_defaults=False.
    settings.setdefault("adopt_new_defaults", not any(code.startswith("AS8") for code in select))
    selection = Selection(select)
    options = Settings(target=parse_target(target), today=TODAY, **settings)  # type: ignore[arg-type]
    return analyse(text, selection.rules(), load_table(), options, selection, fix=fix)


def assert_fix(
    before: str, after: str, target: str = "3.3", select: tuple[str, ...] = (), dedent: bool = True
) -> Analysis:
    """The fix turns `before` into exactly `after`; the output parses; a second run changes nothing."""
    if dedent:
        before, after = textwrap.dedent(before), textwrap.dedent(after)
    result = run(before, target=target, select=select)
    assert result.text == after
    ast.parse(result.text)
    again = run(result.text, target=target, select=select)
    assert again.text == result.text, "not idempotent"
    assert not any(f.fixed for f in again.findings)
    return result


def codes(analysis: Analysis, fixed: bool | None = None) -> list[str]:
    return [f.code for f in analysis.findings if fixed is None or f.fixed is fixed]


def assert_no_op(
    sources: tuple[str, ...], select: tuple[str, ...], target: str = "3.3", **settings: object
) -> None:
    """Each source (aliases, shadowed names, compat `try/except ImportError`, non-Airflow code...) is left
    exactly as it is and nothing is reported."""
    for source in sources:
        source = textwrap.dedent(source)
        result = run(source, target=target, select=select, **settings)
        assert result.text == source, source
        assert codes(result) == [], source
