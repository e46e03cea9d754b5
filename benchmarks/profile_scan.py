"""Where `airshift scan` spends its time: cProfile of one in-process scan of the benchmark corpus.

    python benchmarks/profile_scan.py [--files 1000] [--top 25] [--keep DIR]

Prints the functions with the most own time (share of the profiled scan) and the same time summed per
airshift module, next to the time `ast.parse` alone takes on the same files. cProfile slows Python code
more than C code (the parser), so shares of Python functions read high; the unprofiled timings printed
first are the honest ones.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import pstats
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from corpus import DEFAULT_SEED, generate
from run import floor_serial

from airshift.upgrade.context import Settings
from airshift.upgrade.discovery import discover
from airshift.upgrade.registry import Selection
from airshift.upgrade.runner import RunOptions, run


def _where(filename: str) -> str:
    marker = "/airshift/"
    if marker in filename:
        return "airshift/" + filename.split(marker, 1)[1]
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins"
    return "stdlib/" + Path(filename).name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="cProfile of airshift scan on the benchmark corpus")
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--keep", type=Path, help="generate the corpus into DIR and keep it")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    folder = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="airshift-profile-"))
    try:
        generate(folder, args.files, args.seed)
        options = RunOptions(
            settings=Settings(today=dt.date.today().isoformat()),
            selection=Selection(),
            fix=False,
            write=False,
            jobs=1,
        )
        run(discover([folder]), options)  # imports, tables and rule set loaded before timing
        t0 = time.perf_counter()
        floor_serial(folder)
        floor = time.perf_counter() - t0
        t0 = time.perf_counter()
        run(discover([folder]), options)
        scan = time.perf_counter() - t0
        print(f"{args.files} files, one process, no profiler: read + ast.parse {floor:.2f} s, ", end="")
        print(f"airshift scan {scan:.2f} s ({scan / floor:.2f}x the floor)\n")

        profile = cProfile.Profile()
        profile.enable()
        run(discover([folder]), options)
        profile.disable()
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)

    stats = pstats.Stats(profile)
    entries = stats.stats  # type: ignore[attr-defined]
    total = sum(own for (_, _, own, _, _) in entries.values())
    rows = sorted(
        ((own, cumulative, calls, key) for key, (_, calls, own, cumulative, _) in entries.items()),
        reverse=True,
    )
    print(f"profiled scan: {total:.2f} s of own time\n")
    print(f"{'own %':>6} {'own s':>7} {'cum s':>7} {'calls':>9}  function")
    for own, cumulative, calls, (filename, line, name) in rows[: args.top]:
        print(f"{own / total:6.1%} {own:7.2f} {cumulative:7.2f} {calls:9d}  {_where(filename)}:{line} {name}")
    per_module: dict[str, float] = defaultdict(float)
    for own, _, _, (filename, _, name) in rows:
        per_module[name if filename == "~" else _where(filename)] += own
    print(f"\n{'own %':>6} {'own s':>7}  module (own time summed)")
    for where, own in sorted(per_module.items(), key=lambda item: -item[1])[: args.top]:
        print(f"{own / total:6.1%} {own:7.2f}  {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
