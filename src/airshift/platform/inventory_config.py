"""Configuration sources for the inventory: airflow.cfg, env files, Helm values, the `AIRFLOW__`
environment, and the option maps of managed platforms. Read with the same readers and tables as
`config migrate`, so the inventory already says what migrating will rename, remove and add."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from airshift.platform.config_plan import Entry, Options, mask_value, plan_migration, show
from airshift.platform.config_tables import load_tables
from airshift.platform.inventory_model import ConfigSource


def config_from_entries(location: str, fmt: str, entries: list[Entry]) -> ConfigSource:
    tables = load_tables()
    plan = plan_migration(tables, entries, Options())
    settings = {
        f"{entry.key[0]}.{entry.key[1]}": mask_value(tables, entry.key, entry.value) for entry in entries
    }
    executor = next((entry.value for entry in entries if entry.key == ("core", "executor")), None)
    return ConfigSource(
        path=location,
        format=fmt,
        source_version=plan.source,
        executor=executor,
        settings=settings,
        renamed=sum(1 for fate in plan.fates if fate.key is not None and fate.key != fate.entry.key),
        removed=[show(fate.entry.key) for fate in plan.fates if fate.key is None],
        needs_added=[show(addition.key) for addition in plan.additions],
    )


def read_config_file(path: Path) -> ConfigSource:
    from airshift.platform.config_env import parse_env
    from airshift.platform.config_migrate import detect_format
    from airshift.platform.files import read_text

    text = read_text(path, "configuration file")
    fmt = detect_format(path, text)
    tables = load_tables()
    if fmt == "cfg":
        from airshift.platform.config_ini import parse_ini

        entries = parse_ini(text, str(path)).entries()
    elif fmt == "env":
        entries = parse_env(text, tables).entries()
    else:
        from airshift.platform.config_helm import parse_helm

        helm = parse_helm(text, str(path), tables)
        entries = helm.entries()
        executor = helm.data.get("executor")
        if executor and not any(entry.key == ("core", "executor") for entry in entries):
            entries.append(Entry("core", "executor", str(executor), len(entries)))
    return config_from_entries(str(path), fmt, entries)


def read_environ(environ: Mapping[str, str] | None = None) -> ConfigSource:
    from airshift.platform.config_env import split_env_name

    tables = load_tables()
    entries: list[Entry] = []
    for name, value in sorted((environ if environ is not None else os.environ).items()):
        parts = split_env_name(name, tables) if name.startswith("AIRFLOW__") else None
        if parts is not None and not parts[2]:
            entries.append(Entry(parts[0], parts[1], value, len(entries)))
    return config_from_entries("environment (AIRFLOW__*)", "environ", entries)


def entries_from_dotted(options: Iterable[tuple[str, str]], separator: str) -> list[Entry]:
    """Managed platforms' option maps: MWAA `core.parallelism`, Composer `core-parallelism`."""
    entries: list[Entry] = []
    for key, value in options:
        if separator in key:
            section, option = key.split(separator, 1)
            entries.append(Entry(section, option, str(value), len(entries)))
    return entries
