#!/usr/bin/env python3
"""Run every benchmark of the project, one after another, each in its own process.

    python benchmarks/all.py                 # upgrader (3 ways), verify, events, transfer, cutover, route, kafka, capture, events-load, inventory
    python benchmarks/all.py --only verify   # one of them

Each benchmark prints its own table of ratios (against the floor and the peer it is compared with);
this script only sequences them, so their numbers never share the two cores with one another.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = {
    "upgrade-cli": "cli_bench.py",  # whole airshift processes vs ruff's and the floor's
    "upgrade": "run.py",  # scan/fix in-process vs ast.parse and ruff
    "upgrade-instructions": "instructions_bench.py",  # engine work per file in instructions (valgrind)
    "verify": "verify_bench.py",  # verify vs a bare DagBag load
    "events": "events_bench.py",  # trigger overhead, relay throughput, latency
    "transfer": "transfer_bench.py",  # history rows/s and peak memory
    "cutover": "cutover_bench.py",  # DAGs per minute switched, time per step
    "route": "route_bench.py",  # router overhead over calling Airflow 3.3.2 directly
    "kafka": "kafka_bench.py",  # kafka compare records/s and peak memory vs a bare read and kcat
    "capture": "capture_bench.py",  # PostgreSQL capture modes: cost to writes, relay, latency
    "events-load": "events_load.py",  # EventStream under a real scheduler: loss, duplicates, latency
    "inventory": "inventory_bench.py",  # metadata DB inventory: time and peak memory
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--only", choices=sorted(BENCHMARKS), action="append", help="run only these")
    args = parser.parse_args(argv)
    failed = []
    for name in args.only or list(BENCHMARKS):
        script = HERE / BENCHMARKS[name]
        if not script.exists():
            print(f"== {name}: {script.name} is missing, skipped", flush=True)
            continue
        print(f"== {name}: python benchmarks/{script.name}", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(script)])
        print(f"== {name}: exit {code} after {time.perf_counter() - started:.0f} s", flush=True)
        if code != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
