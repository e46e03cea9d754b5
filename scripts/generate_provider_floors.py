#!/usr/bin/env python3
"""Generate src/airshift/upgrade/tables/provider_floors.json: for each Airflow target, the lowest release of
each provider distribution that Airflow itself declares compatible.

The source is the real `apache-airflow` wheel of each target release: its extras (`apache-airflow[amazon]`)
require `apache-airflow-providers-amazon>=9.0.0` on 3.x. That lower bound is the floor `fix` and `scan` raise
a provider requirement to; the move table's per-name `min_version` (the first release that has a name the
DAGs use) raises it further. Airflow 2.11's extras carry no lower bounds, so 2.11 has no floors (every
provider release that has the names is accepted there).

Run `python scripts/generate_provider_floors.py` (add `--offline` to use only the wheel cache).
"""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.version import Version

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate_tables import AIRFLOW_211, CORE_3X, Fetcher, run_generator

REPO = Path(__file__).resolve().parent.parent
OUTPUT = REPO / "src" / "airshift" / "upgrade" / "tables" / "provider_floors.json"
# The apache-airflow meta release of each target (3.x: the same number as the core release).
TARGET_RELEASES = {"2.11": AIRFLOW_211, **{target: core for target, (core, _sdk) in CORE_3X.items()}}
PROVIDER_PREFIX = "apache-airflow-providers-"


def metadata(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return archive.read(name).decode("utf-8")


def floors_from_metadata(text: str) -> dict[str, str]:
    """Provider distribution -> the highest lower bound any extra of this Airflow release requires."""
    floors: dict[str, Version] = {}
    for line in text.splitlines():
        if not line.startswith("Requires-Dist:"):
            continue
        requirement = Requirement(line.split(":", 1)[1].strip())
        if not requirement.name.startswith(PROVIDER_PREFIX):
            continue
        for spec in requirement.specifier:
            if spec.operator in (">=", "==", "~=") and "*" not in spec.version:
                version = Version(spec.version)
                if requirement.name not in floors or version > floors[requirement.name]:
                    floors[requirement.name] = version
    return {name: str(version) for name, version in sorted(floors.items())}


def build(fetcher: Fetcher) -> tuple[dict[str, Any], str]:
    targets: dict[str, dict[str, str]] = {}
    lines = []
    for target, release in TARGET_RELEASES.items():
        wheel = fetcher.wheel("apache-airflow", release)
        if wheel is None:
            raise SystemExit(f"missing wheel apache-airflow=={release} (run without --offline)")
        targets[target] = floors_from_metadata(metadata(wheel))
        lines.append(f"{target} (apache-airflow {release}): {len(targets[target])} provider floors")
    data = {
        "generated_by": "scripts/generate_provider_floors.py",
        "schema": 1,
        "sources": {"apache-airflow": TARGET_RELEASES},
        "targets": targets,
    }
    return data, "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    return run_generator(
        argv,
        __doc__,
        OUTPUT,
        build,
        lambda data: ", ".join(f"{t}: {len(f)}" for t, f in data["targets"].items()),
    )


if __name__ == "__main__":
    raise SystemExit(main())
