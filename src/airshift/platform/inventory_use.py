"""What the later steps (`fix`/`scan`, `transfer`, `cutover plan`) take from an `airshift inventory` file.

Each function names the inventory file in its errors, so a stale or foreign inventory is caught where it
is used: a missing file, another schema version, or a source of another Airflow generation."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from airshift.errors import AirshiftError
from airshift.platform.inventory_model import Inventory, read_inventory

if TYPE_CHECKING:
    from airshift.state.plan import Plan

GENERATIONS = ("1.10", "2", "3")


def load(path: Path) -> Inventory:
    """The inventory at `path` (clear errors for a missing file, bad JSON, another schema version)."""
    return read_inventory(path)


def generation_of(version: str | None) -> str | None:
    """ "1.10", "2" or "3" for an Airflow version such as "2.11.2", "2.x", "1.10.15" or "3"."""
    text = (version or "").strip()
    if text.startswith("1."):
        return "1.10"
    if text[:1] in ("2", "3"):
        return text[:1]
    return None


def require_generation(inventory: Inventory, path: Path) -> str:
    found = inventory.source_major()
    if found is None:
        raise AirshiftError(
            f"inventory {path}: it records no Airflow version (give a DAG folder, configuration, database or "
            "API source to `airshift inventory`)"
        )
    return found


def dag_folders(inventory: Inventory, path: Path) -> list[Path]:
    """The inventory's DAG folders as they exist here: as recorded (relative to the current folder), else
    relative to the inventory file's folder."""
    if not inventory.dag_folders:
        raise AirshiftError(f"inventory {path}: it records no DAG folder; give the DAG folders as arguments")
    found: list[Path] = []
    for folder in inventory.dag_folders:
        recorded = Path(folder.path)
        for candidate in (recorded, path.parent / recorded):
            if candidate.is_dir():
                found.append(candidate)
                break
        else:
            raise AirshiftError(
                f"inventory {path}: DAG folder {folder.path} does not exist here (nor beside the inventory); "
                "give the DAG folders as arguments"
            )
    return found


def upgrade_source(generation: str) -> str:
    """The `fix --source` value for a generation: 1.10 and 2 name their rule sets; 3.x code is read
    per file (`auto`): the rules for 3.x targets still apply to it."""
    return generation if generation in ("1.10", "2") else "auto"


def expected_counts(inventory: Inventory) -> dict[str, int]:
    """Objects the source held when inventoried, by transfer kind: from its metadata database when one
    was read (exact), else from its REST API (when the user could count them)."""
    counts: dict[str, int] = {}
    for database in inventory.databases:
        counts = {
            "variables": database.variables,
            "connections": database.connections,
            "pools": database.pool_count,
        }
        return counts
    for api in inventory.apis:
        for kind, value in (
            ("variables", api.variables),
            ("connections", api.connections),
            ("pools", api.pool_count),
        ):
            if value is not None:
                counts[kind] = value
        return counts
    return counts


def check_source_generation(inventory: Inventory, path: Path, source: str, found: str | None) -> None:
    """Refuse a transfer source of another generation than the inventory recorded: the inventory would
    describe another estate (or one upgraded since), and its counts would check the wrong thing."""
    expected = require_generation(inventory, path)
    if found is not None and found != expected:
        raise AirshiftError(
            f"inventory {path} records Airflow {expected}, but --from {source} is Airflow {found}; run "
            "`airshift inventory` on this source again, or give the inventory of this source"
        )


def arrived_counts(plan: Plan) -> tuple[dict[str, int], dict[str, int]]:
    """(objects read from the source, objects now on the target with the source's values) per kind,
    from a transfer plan that was applied: created, updated, or already identical there."""
    read: dict[str, int] = {}
    arrived: dict[str, int] = {}
    for item in plan.items:
        read[item.kind] = read.get(item.kind, 0) + 1
        kept_other_values = item.action == "skip" and "--on-conflict skip" in item.reason
        if item.action in ("create", "update", "skip") and not kept_other_values:
            arrived[item.kind] = arrived.get(item.kind, 0) + 1
    return read, arrived


def check_arrivals(
    inventory: Inventory, path: Path, plan: Plan, kinds: tuple[str, ...]
) -> tuple[list[str], list[str]]:
    """(report lines, problems): per transferred kind the inventory counted, whether that many objects
    arrived. A source that shrank since the inventory is named as the reason."""
    expected = expected_counts(inventory)
    read, arrived = arrived_counts(plan)
    lines: list[str] = []
    problems: list[str] = []
    for kind in ("variables", "connections", "pools"):
        if kind not in expected or kind not in kinds:
            continue
        want, got, seen = expected[kind], arrived.get(kind, 0), read.get(kind, 0)
        lines.append(f"{kind}: inventory {want}, read from the source {seen}, on the target {got}")
        if got < want:
            problems.append(
                f"{kind}: inventory {path} counted {want}, but only {got} arrived on the target"
                + (f" (the source now holds {seen})" if seen < want else " (see the plan for conflicts)")
            )
    return lines, problems
