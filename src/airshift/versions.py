"""The one vocabulary of Airflow versions, shared by `fix` (upgrade targets, source kinds) and `verify`
(the releases its runtimes install).

A name a user types for one command must mean the same release in the other: `fix --target 3.1 --verify`
fixes for 3.1 and verifies in the newest 3.1 release. Everything here is plain data and small functions, so
the CLI can check a name before anything is written.
"""

from __future__ import annotations

import re
from functools import cache

from airshift.errors import AirshiftError

Version = tuple[int, int]

# Upgrade targets (major.minor) and the source kinds the upgrader tells apart.
TARGETS: tuple[str, ...] = ("2.11", "3.0", "3.1", "3.2", "3.3")
DEFAULT_TARGET = "3.3"
SOURCES: tuple[str, ...] = ("auto", "1.10", "2")

# The release a short name stands for: the newest patch of each line airshift supports (PyPI, 2026-12).
# Verify installs these; 1.10.15, 2.11.2 and 3.3.2 have committed pins (verify/pins/).
RELEASES: dict[str, str] = {
    "1.10": "1.10.15",
    "2.11": "2.11.2",
    "3.0": "3.0.6",
    "3.1": "3.1.8",
    "3.2": "3.2.2",
    "3.3": "3.3.2",
}
ALIASES: dict[str, str] = {
    **RELEASES,
    "1": RELEASES["1.10"],
    "2": RELEASES["2.11"],
    "3": RELEASES["3.3"],
    "latest": RELEASES["3.3"],
}
_FULL_RELEASE = re.compile(r"^\d+\.\d+\.\d+((a|b|rc)\d+)?$")


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


def resolve_release(spec: str) -> str:
    """The full Airflow release a name stands for: `1.10` -> 1.10.15, `3.1` -> 3.1.8, `2`/`2.11` -> 2.11.2;
    full releases (2.10.5, 3.0.0rc1) pass through."""
    cleaned = spec.strip().lower().removeprefix("apache-airflow==").removeprefix("v")
    if cleaned in ALIASES:
        return ALIASES[cleaned]
    if _FULL_RELEASE.match(cleaned):
        return cleaned
    known = ", ".join(sorted(ALIASES))
    raise AirshiftError(
        f"Airflow version {spec!r} is not understood: use a full release such as 2.10.5, or one of {known}."
    )


def release_for_target(target: Version) -> str:
    """The release verify installs for an upgrade target."""
    return RELEASES[render(target)]
