"""Airflow versions as comparable (major, minor) pairs, and the targets airshift supports."""

from __future__ import annotations

from functools import cache

from airshift.errors import AirshiftError

Version = tuple[int, int]

TARGETS: tuple[str, ...] = ("2.11", "3.0", "3.1", "3.2", "3.3")
DEFAULT_TARGET = "3.3"
SOURCES: tuple[str, ...] = ("auto", "1.10", "2")


@cache
def parse_version(text: str) -> Version:
    """'3.3' or '3.3.2' -> (3, 3); raises AirshiftError on anything else."""
    parts = text.strip().split(".")
    try:
        major, minor = int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        raise AirshiftError(f"not an Airflow version: {text!r}") from None
    return (major, minor)


def parse_target(text: str) -> Version:
    version = parse_version(text)
    # "3" must not quietly mean 3.0: a target names its minor release
    if len(text.strip().split(".")) < 2 or f"{version[0]}.{version[1]}" not in TARGETS:
        raise AirshiftError(f"unsupported target {text!r}; choose one of {', '.join(TARGETS)}")
    return version


def at_least(target: Version, threshold: str | None) -> bool:
    """True when `threshold` is set and the target is at or past it."""
    return threshold is not None and target >= parse_version(threshold)


def render(version: Version) -> str:
    return f"{version[0]}.{version[1]}"
