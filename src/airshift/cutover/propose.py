"""`airshift cutover plan --inventory`: propose waves from an inventory's DAGs, least risk first.

The rule (documented in docs/commands/cutover.md), each DAG in the first wave that matches:
1. `needs-attention` (switched last): the DAG's file failed to parse or reaches into the metadata DB;
   it needs code work first.
2. `unscheduled`: no schedule (`None`, `@once`; on Airflow 3 also no `schedule=` at all). No interval to
   continue, so nothing can be missed or run twice.
3. `daily-or-rarer`: `@daily`, `@weekly`, `@monthly`, `@yearly`, ... or a cron whose minute and hour are
   fixed numbers; on 1.10/2.x also no `schedule=` at all (the default is one day). Long gaps between
   runs leave room to drain.
4. `frequent`: everything else (`@hourly`, `*/5 * * * *`, timedeltas, assets, computed schedules).
Empty waves are left out. The inventory records no per-DAG paused state, so paused DAGs are not told
apart: `cutover plan --wave` shows it per DAG before anything moves."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from airshift.errors import AirshiftError
from airshift.platform.inventory_model import Inventory

_RARE_PRESETS = {"@daily", "@midnight", "@weekly", "@monthly", "@quarterly", "@yearly", "@annually"}
_NUMBER = re.compile(r"^\d+$")
WAVE_ORDER = ("unscheduled", "daily-or-rarer", "frequent", "needs-attention")


@dataclass
class ProposedWave:
    name: str
    dag_ids: list[str]


def classify_schedule(schedule: str | None, generation: str) -> str:
    if schedule is None:
        return "unscheduled" if generation == "3" else "daily-or-rarer"
    text = schedule.strip()
    if text in ("none", "@once", "None"):
        return "unscheduled"
    if text in _RARE_PRESETS:
        return "daily-or-rarer"
    fields = text.split()
    if len(fields) == 5 and _NUMBER.match(fields[0]) and _NUMBER.match(fields[1]):
        return "daily-or-rarer"
    return "frequent"


def propose_waves(inventory: Inventory, path: Path) -> list[ProposedWave]:
    generation = inventory.source_major() or "2"
    groups: dict[str, list[str]] = {name: [] for name in WAVE_ORDER}
    seen: set[str] = set()
    for folder in inventory.dag_folders:
        attention = set(folder.uses_metadata_db) | set(folder.failed_files)
        for dag in folder.dags:
            if dag.dag_id in seen:
                continue  # the same id in two files: Airflow keeps one; so does the plan
            seen.add(dag.dag_id)
            group = (
                "needs-attention" if dag.file in attention else classify_schedule(dag.schedule, generation)
            )
            groups[group].append(dag.dag_id)
    waves = [ProposedWave(name, sorted(ids)) for name, ids in groups.items() if ids]
    if not waves:
        raise AirshiftError(
            f"inventory {path}: it records no DAG (give `airshift inventory` the DAG folders)"
        )
    return waves


def plan_text(waves: list[ProposedWave], inventory_path: Path) -> str:
    """A cutover plan file: placeholder [old]/[new] to fill in, and the proposed waves."""
    lines = [
        f"# Proposed by `airshift cutover plan --inventory {inventory_path}`. Fill in [old] and [new] (see",
        "# docs/commands/cutover.md: credentials by *_file or *_env only), review the waves, then run",
        "# `airshift cutover plan --wave 1`.",
        "",
        "[old]",
        'url = "https://old-airflow.example.invalid"',
        "",
        "[new]",
        'url = "https://new-airflow.example.invalid"',
        "",
        "[cutover]",
        "parallelism = 4",
    ]
    for wave in waves:
        lines += ["", "[[waves]]", f"name = {json.dumps(wave.name)}", "dag_ids = ["]
        lines += [f"  {json.dumps(dag_id)}," for dag_id in wave.dag_ids]
        lines.append("]")
    return "\n".join(lines) + "\n"
