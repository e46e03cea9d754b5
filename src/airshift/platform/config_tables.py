"""The configuration tables generated from the real Airflow installs (scripts/generate_config_tables.py).

Read once per process; everything here is plain data lookups."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

Key = tuple[str, str]  # (section, option), lower case as Airflow compares them

# Options whose target default changes what DAGs do, beyond what CONFIGS_CHANGES flags as a default
# change: the `.airflowignore` syntax decides which files are parsed at all.
EXTRA_BEHAVIOUR_DEFAULTS: tuple[Key, ...] = (("core", "dag_ignore_file_syntax"),)


@dataclass(frozen=True)
class Rename:
    old: Key
    new: Key
    since: str
    origin: str  # which table says so, for the report


@dataclass(frozen=True)
class ValueRewrite:
    key: Key
    pattern: str
    replacement: str
    since: str
    origin: str


@dataclass(frozen=True)
class Change3x:
    """One entry of the 3.x CONFIGS_CHANGES table (what `airflow config lint/update` use)."""

    key: Key
    renamed_to: Key | None
    default_change: bool
    old_default: str | None
    new_default: str | None
    suggestion: str
    was_removed: bool
    remove_if_equals: str | None
    is_invalid_if: str | None


@dataclass
class Release:
    version: str
    options: dict[Key, dict[str, Any]] = field(default_factory=dict)

    @property
    def sections(self) -> set[str]:
        return {section for section, _ in self.options}

    def default(self, key: Key) -> str | None:
        entry = self.options.get(key)
        return None if entry is None or entry.get("default") is None else str(entry["default"])


@dataclass
class Tables:
    releases: dict[str, Release]
    renames_110: list[Rename]
    values_110: list[ValueRewrite]
    sections_2: dict[str, tuple[str, str]]  # old section -> (new section, since)
    renames_2: list[Rename]
    many_to_one_2: list[Rename]
    values_2: list[ValueRewrite]
    changes_3: list[Change3x]
    renames_3_fallback: list[Rename]
    values_3: list[ValueRewrite]
    sensitive: frozenset[Key]

    @property
    def source_110(self) -> Release:
        return self.releases["1.10.15"]

    @property
    def source_2(self) -> Release:
        return self.releases["2.11.2"]

    @property
    def target_3(self) -> Release:
        return self.releases["3.3.2"]


def _key(section: str, option: str) -> Key:
    return (section.lower(), option.lower())


def _renames(rows: list[dict[str, Any]], origin: str) -> list[Rename]:
    return [
        Rename(
            old=_key(row["old_section"], row["old_option"]),
            new=_key(row["new_section"], row["new_option"]),
            since=str(row.get("since") or ""),
            origin=origin,
        )
        for row in rows
    ]


def _values(rows: list[dict[str, Any]], origin: str) -> list[ValueRewrite]:
    return [
        ValueRewrite(
            key=_key(row["section"], row["option"]),
            pattern=row["pattern"],
            replacement=str(row["replacement"]),
            since=str(row.get("since") or ""),
            origin=origin,
        )
        for row in rows
    ]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


@cache
def load_tables() -> Tables:
    raw = json.loads(
        resources.files("airshift.platform.tables").joinpath("config.json").read_text(encoding="utf-8")
    )
    releases: dict[str, Release] = {}
    sensitive: set[Key] = set()
    for version, data in raw["releases"].items():
        release = Release(version)
        for section, options in data["options"].items():
            for option, entry in options.items():
                release.options[_key(section, option)] = entry
                if entry.get("sensitive"):
                    sensitive.add(_key(section, option))
        for section, options in data.get("provider_options", {}).items():
            for option, entry in options.items():
                release.options.setdefault(_key(section, option), {**entry, "provider": True})
                if entry.get("sensitive"):
                    sensitive.add(_key(section, option))
        releases[version] = release
    r110, r2, r3 = raw["releases"]["1.10.15"], raw["releases"]["2.11.2"], raw["releases"]["3.3.2"]
    changes = [
        Change3x(
            key=_key(row["section"], row["option"]),
            renamed_to=_key(row["renamed_to"]["section"], row["renamed_to"]["option"])
            if row.get("renamed_to")
            else None,
            default_change=bool(row.get("default_change")),
            old_default=_text(row.get("old_default")),
            new_default=_text(row.get("new_default")),
            suggestion=str(row.get("suggestion") or ""),
            was_removed=bool(row.get("was_removed", True)),
            remove_if_equals=_text(row.get("remove_if_equals")),
            is_invalid_if=_text(row.get("is_invalid_if")),
        )
        for row in r3["configs_changes"]
    ]
    return Tables(
        releases=releases,
        renames_110=_renames(r110["deprecated_options"], "1.10.15 deprecated_options"),
        values_110=_values(r110["deprecated_values"], "1.10.15 deprecated_values"),
        sections_2={
            row["old_section"]: (row["new_section"], str(row["since"])) for row in r2["deprecated_sections"]
        },
        renames_2=_renames(r2["deprecated_options"], "2.11.2 deprecated_options"),
        many_to_one_2=_renames(r2["many_to_one_deprecated_options"], "2.11.2 many_to_one_deprecated_options"),
        values_2=_values(r2["deprecated_values"], "2.11.2 deprecated_values"),
        changes_3=changes,
        renames_3_fallback=_renames(
            r3["deprecated_options"], "3.3.2 deprecated_options (read-time fallback)"
        ),
        values_3=_values(r3["deprecated_values"], "3.3.2 deprecated_values"),
        sensitive=frozenset(sensitive),
    )
