"""Rewriting Jinja templates for the target Airflow, read with jinja2's own lexer and parser.

The lexer's token stream reproduces the template exactly, so a token's offset is the sum of the lengths
before it and a rewrite touches only the names it replaces. jinja2.meta tells which names are free (taken
from the task context): a name the template binds itself ({% set %}, {% for %}) is left alone.

Replacements are the exact equivalents for a run that has a data interval (every scheduled run):
execution_date is the logical date; next_ds is the end of the data interval; prev_ds depends on the
schedule, so it is rewritten only when the DAG's schedule has a constant period.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from airshift.upgrade.versions import Version

if TYPE_CHECKING:
    import jinja2


class _AnyName(dict[str, Any]):
    """Filters and tests known by any name. Finding a template's free variables compiles it, and jinja2
    refuses filter or test names it does not know: Airflow's own (`ds`, `ts`, ...) and the DAG's
    user_defined_filters. Analysis never calls them, so every name is accepted."""

    def __contains__(self, name: object) -> bool:
        return True

    def __missing__(self, name: str) -> Any:
        return str

    def get(self, name: str, default: Any = None) -> Any:
        return self[name]


@cache
def _environment() -> jinja2.Environment:
    """Made on first use: jinja2 costs a pre-commit run of a file without templates a third of its time."""
    import jinja2

    environment = jinja2.Environment()
    environment.filters = _AnyName(environment.filters)
    environment.tests = _AnyName(environment.tests)
    return environment


_NODASH = "'%Y-%m-%d', '%Y%m%d'"

# name -> replacement expression (valid wherever the name was, once parenthesised)
FIXED: dict[str, str] = {
    "execution_date": "logical_date",
    "next_execution_date": "data_interval_end",
    "next_ds": "data_interval_end | ds",
    "next_ds_nodash": "data_interval_end | ds_nodash",
    "prev_execution_date_success": "prev_data_interval_start_success",
    "tomorrow_ds": "macros.ds_add(ds, 1)",
    "tomorrow_ds_nodash": f"macros.ds_format(macros.ds_add(ds, 1), {_NODASH})",
    "yesterday_ds": "macros.ds_add(ds, -1)",
    "yesterday_ds_nodash": f"macros.ds_format(macros.ds_add(ds, -1), {_NODASH})",
    "triggering_dataset_events": "triggering_asset_events",
}
SCHEDULE_RELATIVE = ("prev_ds", "prev_ds_nodash", "prev_execution_date")
NO_EQUIVALENT: dict[str, str] = {
    "conf": "the Airflow configuration is not in the task context on Airflow 3; pass the value in as a param "
    "or read it in Python",
}
# Attributes of context objects that were renamed: dag_run.execution_date, ti.execution_date, ...
RENAMED_ATTRIBUTES: dict[tuple[str, str], str] = {
    ("dag_run", "execution_date"): "logical_date",
    ("ti", "execution_date"): "logical_date",
    ("task_instance", "execution_date"): "logical_date",
}
REMOVED_NAMES = frozenset({*FIXED, *SCHEDULE_RELATIVE, *NO_EQUIVALENT})
NONE_ON_ASSET_RUNS = frozenset(
    {"next_ds", "next_ds_nodash", "next_execution_date", "prev_ds", "prev_ds_nodash", "prev_execution_date"}
)
# Context variables holding a datetime. Printed as they are (`{{ execution_date }}`), Airflow 1.10's
# pendulum 1 wrote ISO 8601 with a "T"; pendulum 3 (Airflow 2.11, 3.x) writes a space. `| ts` (isoformat)
# keeps the 1.10 text.
DATETIME_NAMES = frozenset(
    {"execution_date", "next_execution_date", "prev_execution_date", "prev_execution_date_success"}
)


@dataclass(frozen=True)
class Schedule:
    """What rewriting schedule-relative variables needs to know about a DAG's schedule."""

    period: dt.timedelta | None  # the constant time between two runs; None when irregular or unknown
    description: str = "unknown"
    # schedule=None on 1.10/2.x: every run is triggered, and for a triggered run those versions set the
    # previous execution date to the run's own logical date, so prev_ds is ds.
    manual_only: bool = False
    # schedule=[Dataset(...)] (or an asset expression): Airflow 2 rendered next_* and prev_* as None for
    # asset-triggered runs, which Airflow 3 has no name for.
    assets: bool = False


@dataclass
class TemplateChange:
    offset: int  # in the template text
    old: str
    new: str

    @property
    def end(self) -> int:
        return self.offset + len(self.old)


@dataclass
class TemplateRewrite:
    text: str
    changes: list[TemplateChange] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (offset, message)


_MENTION = re.compile(
    r"\b("
    + "|".join(
        sorted({*FIXED, *SCHEDULE_RELATIVE, *NO_EQUIVALENT, "external_trigger"}, key=len, reverse=True)
    )
    + r")\b"
)


# Every match of _MENTION contains one of these names: looking for them (a fast substring search each)
# first saves the slower regex on the many texts that hold none of them.
_MENTION_NAMES = tuple(sorted({*FIXED, *SCHEDULE_RELATIVE, *NO_EQUIVALENT, "external_trigger"}))


def mentions_removed(text: str) -> bool:
    """A cheap gate: could this text hold a removed variable at all?"""
    return "{" in text and any(name in text for name in _MENTION_NAMES) and _MENTION.search(text) is not None


@lru_cache(maxsize=4096)
def _read(text: str) -> tuple[tuple[tuple[int, str, str], ...], frozenset[str]] | None:
    """Jinja's tokens and free variables of a template, or None when Jinja cannot read it. Cached: finding
    free variables compiles the template, the costliest step of a scan, and estates repeat templates."""
    import jinja2
    from jinja2 import meta

    environment = _environment()
    try:
        tokens = tuple(environment.lexer.tokeniter(text, None))
        free = frozenset(meta.find_undeclared_variables(environment.parse(text)))
    except jinja2.TemplateSyntaxError:
        return None
    return tokens, free


def applies(target: Version) -> bool:
    return target >= (3, 0)


def _schedule_relative(name: str, schedule: Schedule | None) -> str | None:
    if schedule is not None and schedule.manual_only:
        return {"prev_ds": "ds", "prev_ds_nodash": "ds_nodash", "prev_execution_date": "logical_date"}[name]
    if schedule is None or schedule.period is None:
        return None
    seconds = int(schedule.period.total_seconds())
    if seconds <= 0:
        return None
    if seconds % 86400 == 0:
        days = seconds // 86400
        previous_ds = f"macros.ds_add(ds, -{days})"
        return {
            "prev_ds": previous_ds,
            "prev_ds_nodash": f"macros.ds_format({previous_ds}, {_NODASH})",
            "prev_execution_date": f"logical_date - macros.timedelta(days={days})",
        }[name]
    previous = f"(logical_date - macros.timedelta(seconds={seconds}))"
    return {
        "prev_ds": f"{previous} | ds",
        "prev_ds_nodash": f"{previous} | ds_nodash",
        "prev_execution_date": previous[1:-1],
    }[name]


def _significant(tokens: Sequence[tuple[int, str, str]], index: int, step: int) -> tuple[str, str] | None:
    """The nearest non-whitespace token before (step=-1) or after (step=1) tokens[index]."""
    index += step
    while 0 <= index < len(tokens):
        _, kind, value = tokens[index]
        if kind != "whitespace":
            return kind, value
        index += step
    return None


def rewrite_template(
    text: str,
    schedule: Schedule | None = None,
    quote: str = "'",
    target: Version = (3, 3),
    iso_datetimes: bool = False,
) -> TemplateRewrite:
    """Rewrite removed context variables in one template. `quote` is the quote character the replacement
    may use for strings (the caller picks one that does not close its Python string literal).
    `iso_datetimes` (for Airflow 1.10 sources) keeps datetimes printed on their own in 1.10's ISO form."""
    result = TemplateRewrite(text)
    if not mentions_removed(text):
        return result
    if "{{" not in text and "{%" not in text:
        # Without an expression or a statement, Jinja reads the text as plain data and comments, or cannot
        # read it (an unclosed comment): either way there is nothing to rewrite or report.
        return result
    read = _read(text)
    if read is None:
        return result  # not a template Jinja can read: Airflow would fail on it too, not our rewrite
    tokens, free = read
    if (
        not free & REMOVED_NAMES
        and not any(attr in text for _, attr in RENAMED_ATTRIBUTES)
        and ("external_trigger" not in text)
    ):
        return result
    offset = 0
    for index, (_, kind, value) in enumerate(tokens):
        start = offset
        offset += len(value)
        if kind != "name":
            continue
        before = _significant(tokens, index, -1)
        after = _significant(tokens, index, 1)
        if before == ("operator", "."):
            owner = tokens[index - 2][2] if index >= 2 and tokens[index - 2][1] == "name" else None
            new_attribute = RENAMED_ATTRIBUTES.get((owner or "", value))
            if new_attribute:
                result.changes.append(TemplateChange(start, value, new_attribute))
            elif owner == "dag_run" and value == "external_trigger":
                owner_start = start - 1 - len(owner)
                replacement = f"(dag_run.run_type == {quote}manual{quote})"
                result.changes.append(TemplateChange(owner_start, f"dag_run.{value}", replacement))
            continue
        if value not in free or before == ("operator", "|") or after == ("operator", "="):
            continue
        if value == "triggering_dataset_events" and target < (3, 0):
            continue  # triggering_asset_events only exists from Airflow 3.0
        if schedule is not None and schedule.assets and value in NONE_ON_ASSET_RUNS:
            result.problems.append(
                (
                    start,
                    f"`{value}` was None on this asset-scheduled DAG's runs (Airflow 2 has no next or previous "
                    "schedule for them); Airflow 3 has no such variable: replace it by hand",
                )
            )
            continue
        if value in FIXED:
            replacement = FIXED[value].replace("'", quote)
        elif value in SCHEDULE_RELATIVE:
            found = _schedule_relative(value, schedule)
            if found is None:
                described = schedule.description if schedule else "unknown"
                result.problems.append(
                    (
                        start,
                        f"`{value}` depends on the DAG's schedule ({described}); no constant period to "
                        "compute it from: replace it by hand",
                    )
                )
                continue
            replacement = found.replace("'", quote)
        elif value in NO_EQUIVALENT:
            if target < (3, 0):
                continue
            result.problems.append((start, f"`{value}`: {NO_EQUIVALENT[value]}"))
            continue
        else:
            continue
        alone = before in (
            ("variable_begin", "{{"),
            ("variable_begin", "{{-"),
            ("variable_begin", "{{+"),
        ) and (after is not None and after[0] == "variable_end")
        if alone and iso_datetimes and value in DATETIME_NAMES:
            replacement = f"({replacement}) | ts" if " - " in replacement else f"{replacement} | ts"
        if not alone and any(operator in replacement for operator in ("|", " - ", "==")):
            replacement = f"({replacement})"
        result.changes.append(TemplateChange(start, value, replacement))
    result.changes.sort(key=lambda c: c.offset)
    result.text = apply_changes(text, result.changes)
    return result


def apply_changes(text: str, changes: list[TemplateChange]) -> str:
    parts: list[str] = []
    cursor = 0
    for change in sorted(changes, key=lambda c: c.offset):
        parts.append(text[cursor : change.offset])
        parts.append(change.new)
        cursor = change.end
    parts.append(text[cursor:])
    return "".join(parts)
