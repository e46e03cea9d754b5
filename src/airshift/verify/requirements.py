"""The providers each side of a verification needs, found without the user's help.

A DAG folder that imports `airflow.providers.google...` fails to load in a bare runtime, and verify would
report an import error that is not real. So each side gets the provider distributions its own DAG files
import (unguarded imports, the same reading `fix` does), plus, for the migrated side, the requirements
file `fix` wrote. Names already in the runtime's committed pins are left out: they are installed anyway,
and naming them again would only make a new runtime.
"""

from __future__ import annotations

import ast
import re
import warnings
from pathlib import Path

from airshift.verify.runtimes import available_pins, resolve_airflow_version


def imported_providers(folder: Path) -> set[str]:
    """Provider distributions (bare names) the Python files under `folder` import."""
    from airshift.upgrade.discovery import discover
    from airshift.upgrade.engine import provider_requirements
    from airshift.upgrade.moves import load_table
    from airshift.upgrade.names import ImportTable
    from airshift.upgrade.source import UnreadableSource, read_source

    table = load_table()
    names: set[str] = set()
    for _, path in discover([folder]).python:
        try:
            text = read_source(path).text
        except (UnreadableSource, OSError):
            continue
        if "airflow.providers" not in text:
            continue  # the only imports that name a provider distribution
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError):
            continue  # the snapshot reports the file; it cannot need anything we could install
        names |= {r.distribution for r in provider_requirements(ImportTable(tree), table)}
    return names


def _pinned(airflow_version: str) -> set[str]:
    """Distributions the committed pins of this release install (any Python minor)."""
    found: set[str] = set()
    for version, minor in available_pins():
        if version != airflow_version:
            continue
        pins = Path(__file__).parent / "pins" / f"airflow-{version}-py{minor}.txt"
        for line in pins.read_text(encoding="utf-8").splitlines():
            name = line.split("==", 1)[0].strip()
            if name and not name.startswith("#"):
                found.add(_canonical(name))
    return found


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[\s<>=!~;\[@]", name.strip(), maxsplit=1)[0]).lower()


def for_release(distributions: set[str], airflow: str) -> set[str]:
    """The names as that release installs them: 1.10 has the backport packages of the same providers."""
    if resolve_airflow_version(airflow).startswith("1."):
        return {
            d.replace("apache-airflow-providers-", "apache-airflow-backport-providers-")
            for d in distributions
        }
    return distributions


def auto_requirements(folder: Path, airflow: str, given: list[str]) -> list[str]:
    """Providers `folder` imports that neither the given requirements nor the release's pins cover."""
    covered = {_canonical(line) for line in given} | _pinned(resolve_airflow_version(airflow))
    return sorted(d for d in for_release(imported_providers(folder), airflow) if _canonical(d) not in covered)
