"""Airflow versions for the upgrader: the names live in airshift.versions (one vocabulary for fix and
verify); this module keeps the upgrader's import path."""

from __future__ import annotations

from airshift.versions import (
    DEFAULT_TARGET,
    SOURCES,
    TARGETS,
    Version,
    at_least,
    parse_target,
    parse_version,
    render,
)

__all__ = [
    "DEFAULT_TARGET",
    "SOURCES",
    "TARGETS",
    "Version",
    "at_least",
    "parse_target",
    "parse_version",
    "render",
]
