"""The airshift benchmark: one command, every ratio measured side by side in the same run.

    python benchmarks/run.py [--files 5000] [--jobs N] [--keep DIR] [--markdown FILE]

Generates a seeded corpus of DAG files (benchmarks/corpus.py), then measures, in interleaved rounds:
the floor (read + `ast.parse` of every file, in one process and with airshift's worker count),
`airshift scan` without a cache, `airshift fix --out` without a cache, `airshift scan` with a warm
cache, and `ruff check --select AIR` when ruff is on PATH. airshift is driven through its library API
(discover + run), exactly as the CLI does, without the CLI's start-up and report rendering.
Each measurement is the best of its runs. Nothing here asserts a timing: a benchmark reports.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from corpus import DEFAULT_SEED, CorpusStats, generate

from airshift import __version__ as airshift_version
from airshift.upgrade import runner
from airshift.upgrade.context import Settings
from airshift.upgrade.discovery import discover
from airshift.upgrade.moves import load_table
from airshift.upgrade.registry import Selection
from airshift.upgrade.runner import RunOptions, run

MARK_BEGIN = "<!-- airshift-benchmark:begin -->"
MARK_END = "<!-- airshift-benchmark:end -->"
RUFF_ARGS = (
    "check",
    "--select",
    "AIR",
    "--preview",
    "--no-cache",
    "--isolated",  # the corpus may sit under a folder with its own ruff config; ignore it
    "--output-format",
    "concise",
    "--exit-zero",
)
_RUFF_DIAGNOSTIC = re.compile(r".+:\d+:\d+: ")  # path:line:col: (the code or the rule name follows)
DEFAULT_BUDGET = 150.0  # seconds of measuring after the first round; keeps 5,000 files under ~3 minutes

Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------
# The floor: what reading and parsing every file costs, with nothing else.


def python_files(folder: Path) -> list[str]:
    paths = [
        os.path.join(root, name)
        for root, _, names in os.walk(folder)
        for name in names
        if name.endswith(".py")
    ]
    return sorted(paths)


def _parse_one(path: str) -> int:
    with open(path, "rb") as handle:
        raw = handle.read()
    try:
        ast.parse(raw, filename=path)
    except (SyntaxError, ValueError):
        return 0
    return 1


def floor_serial(folder: Path) -> int:
    return sum(_parse_one(path) for path in python_files(folder))


def floor_parallel(folder: Path, workers: int) -> int:
    """The same work spread the way airshift's runner spreads it: a fresh pool, one task per file,
    the same chunk size."""
    paths = python_files(folder)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(_parse_one, paths, chunksize=max(1, len(paths) // (workers * 8))))


# --------------------------------------------------------------------------------------------------
# airshift through its library API


def _airshift_options(
    jobs: int, fix: bool, out_dir: Path | None = None, cache_dir: Path | None = None
) -> RunOptions:
    return RunOptions(
        settings=Settings(today=dt.date.today().isoformat()),
        selection=Selection(),
        fix=fix,
        write=fix,
        out_dir=out_dir,
        cache_dir=cache_dir,
        jobs=jobs,
    )


def airshift_run(folder: Path, options: RunOptions) -> str:
    """Discover and process `folder` as `airshift scan/fix` does; a one-line summary of the result."""
    result = run(discover([folder]), options)
    findings = sum(len(report.problems) for report in result.files)
    changed = sum(report.status == "changed" for report in result.files)
    failed = sum(report.status == "failed" for report in result.files)
    cached = sum(report.cached for report in result.files)
    parts = [f"{findings} findings", f"{changed} files {'changed' if options.write else 'to change'}"]
    if cached:
        parts.append(f"{cached} from cache")
    if failed:
        parts.append(f"{failed} FAILED")
    return ", ".join(parts)


def airshift_processes(jobs: int, files: int) -> int:
    """How many processes airshift's runner really uses for this many files."""
    threshold: int = getattr(runner, "PARALLEL_FROM", 0)
    return jobs if jobs > 1 and files >= threshold else 1


def moves_table_description() -> str:
    """Which moves table is in use; raises FileNotFoundError when there is none yet."""
    table = load_table()
    source = os.environ.get("AIRSHIFT_MOVES_TABLE") or "packaged tables/moves.json"
    return f"{source} ({len(table.symbols)} symbol moves, {len(table.modules)} module moves)"


# --------------------------------------------------------------------------------------------------
# ruff


def ruff_command() -> list[str] | None:
    ruff = shutil.which("ruff")
    return [ruff, *RUFF_ARGS] if ruff else None


def ruff_version(command: list[str]) -> str:
    done = subprocess.run([command[0], "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "ruff (unknown version)"


def ruff_run(command: list[str], folder: Path) -> str:
    done = subprocess.run([*command, str(folder)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ruff failed ({done.returncode}): {done.stderr.strip()[:500]}")
    findings = sum(1 for line in done.stdout.splitlines() if _RUFF_DIAGNOSTIC.match(line))
    return f"{findings} findings"


# --------------------------------------------------------------------------------------------------
# Measuring


@dataclass
class Measurement:
    key: str
    label: str
    processes: int
    action: Callable[[], str | int]  # one run; returns a summary (or a file count for the floor)
    floor: str | None = None  # key of the floor measured with the same process count
    prepare: Callable[[], None] | None = None  # untimed, before every run
    after: Callable[[], None] | None = None  # untimed, after every run
    runs: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def seconds(self) -> float:
        return min(self.runs)


@dataclass
class Results:
    files: int
    jobs: int
    rows: list[Measurement]
    rounds: int
    ruff: str | None  # ruff version, when it was measured
    moves_table: str

    def row(self, key: str) -> Measurement | None:
        return next((m for m in self.rows if m.key == key), None)


def _sync() -> None:
    if hasattr(os, "sync"):
        os.sync()


def _fitting(rows: list[Measurement], budget: float | None, spent: float) -> list[Measurement]:
    """The measurements to run again: all without a budget; else the cheapest first while they fit."""
    if budget is None:
        return rows
    left = budget - spent
    chosen: list[Measurement] = []
    for measurement in sorted(rows, key=lambda m: max(m.runs)):
        if max(measurement.runs) <= left:
            chosen.append(measurement)
            left -= max(measurement.runs)
    return chosen


def measure(
    folder: Path,
    jobs: int,
    repeat: int = 3,
    budget: float | None = DEFAULT_BUDGET,
    use_ruff: bool = True,
    single: bool = False,
    work: Path | None = None,
    log: Log = _stderr,
) -> Results:
    """Run every measurement on the corpus in `folder`, in rounds (each round runs each measurement once,
    so a slower or busier moment of the machine affects all of them alike). After the first round, a
    round runs again, cheapest first, only the measurements whose slowest run still fits in what is left
    of `budget` seconds of measuring; the `runs` column shows how many runs each best time is taken from."""
    files = len(python_files(folder))
    table = moves_table_description()
    processes = airshift_processes(jobs, files)
    own_work = work is None
    work = Path(tempfile.mkdtemp(prefix="airshift-bench-work-")) if work is None else work
    out_dir, cache_dir = work / "out", work / "cache"

    def clear_out() -> None:
        shutil.rmtree(out_dir, ignore_errors=True)

    rows = [Measurement("floor-1", "floor: read + ast.parse", 1, lambda: floor_serial(folder), "floor-1")]
    if processes > 1:
        rows.append(
            Measurement(
                f"floor-{processes}",
                "floor: read + ast.parse",
                processes,
                lambda: floor_parallel(folder, processes),
                f"floor-{processes}",
            )
        )
    floor_key = f"floor-{processes}"
    if single and processes > 1:
        rows.append(
            Measurement(
                "scan-1",
                "airshift scan (no cache)",
                1,
                lambda: airshift_run(folder, _airshift_options(1, fix=False)),
                "floor-1",
            )
        )
    rows += [
        Measurement(
            "scan",
            "airshift scan (no cache)",
            processes,
            lambda: airshift_run(folder, _airshift_options(jobs, fix=False)),
            floor_key,
        ),
        Measurement(
            "scan-warm",
            "airshift scan (warm cache)",
            processes,
            lambda: airshift_run(folder, _airshift_options(jobs, fix=False, cache_dir=cache_dir)),
            floor_key,
        ),
    ]
    command = ruff_command() if use_ruff else None
    version = ruff_version(command) if command else None
    if command is not None:
        ruff_cmd = command
        ruff_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        rows.append(
            Measurement(
                "ruff", "ruff check --select AIR", ruff_cores or 1, lambda: ruff_run(ruff_cmd, folder)
            )
        )
    # Last in a round, and followed by an untimed sync: its thousands of writes would otherwise be
    # flushed to disk while the next measurement runs.
    rows.append(
        Measurement(
            "fix",
            "airshift fix --out (no cache)",
            processes,
            lambda: airshift_run(folder, _airshift_options(jobs, fix=True, out_dir=out_dir)),
            floor_key,
            prepare=clear_out,
            after=_sync,
        )
    )
    started = time.perf_counter()
    try:
        log("priming the cache for the warm-cache scan (untimed)")
        airshift_run(folder, _airshift_options(jobs, fix=False, cache_dir=cache_dir))
        rounds = 0
        for number in range(1, repeat + 1):
            chosen = rows if number == 1 else _fitting(rows, budget, time.perf_counter() - started)
            ran = False
            for measurement in rows:
                if measurement not in chosen:
                    log(f"round {number}: {measurement.label} [{measurement.processes}p] skipped (--budget)")
                    continue
                if measurement.prepare:
                    measurement.prepare()
                t0 = time.perf_counter()
                outcome = measurement.action()
                elapsed = time.perf_counter() - t0
                measurement.runs.append(elapsed)
                if measurement.after:
                    measurement.after()
                if isinstance(outcome, int):
                    outcome = "" if outcome == files else f"only {outcome} of {files} files parsed"
                measurement.note = outcome
                log(f"round {number}: {measurement.label} [{measurement.processes}p] {elapsed:.2f} s")
                ran = True
            if not ran:
                break
            rounds = number
    finally:
        if own_work:
            shutil.rmtree(work, ignore_errors=True)
    return Results(files, jobs, rows, rounds, version, table)


# --------------------------------------------------------------------------------------------------
# Reporting


HEADERS = ("measurement", "procs", "files", "runs", "seconds", "files/s", "x floor", "x ruff", "result")


def _ratio(value: float, base: Measurement | None) -> str:
    if base is None or not base.runs or base.seconds <= 0:
        return "-"
    return f"{value / base.seconds:.2f}"


def table_rows(results: Results) -> list[tuple[str, ...]]:
    ruff = results.row("ruff")
    rows: list[tuple[str, ...]] = []
    for m in results.rows:
        if not m.runs:
            continue
        seconds = m.seconds
        rows.append(
            (
                m.label,
                str(m.processes),
                f"{results.files:,}",
                str(len(m.runs)),
                f"{seconds:.2f}",
                f"{results.files / seconds:,.0f}" if seconds > 0 else "-",
                _ratio(seconds, results.row(m.floor)) if m.floor else "-",
                _ratio(seconds, ruff),
                m.note,
            )
        )
    return rows


def machine_lines(results: Results, corpus: CorpusStats | None) -> list[str]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    lines = [
        f"date: {dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"machine: {cpu}; {os.cpu_count()} cores ({usable} usable); {platform.system()} {platform.release()}",
        f"python: {platform.python_implementation()} {platform.python_version()}; airshift {airshift_version}"
        + (f"; {results.ruff}" if results.ruff else "; ruff not on PATH (not measured)"),
        f"load average (1, 5, 15 min) at the end: {load}",
        f"airshift workers: --jobs {results.jobs}; moves table: {results.moves_table}",
        f"seconds: best of up to {results.rounds} interleaved round(s) (runs column); --budget skips slow reruns",
    ]
    if corpus is not None:
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(corpus.kinds.items()))
        lines.append(
            f"corpus: {corpus.files:,} files, {corpus.lines:,} lines, {corpus.bytes / 1e6:.1f} MB ({kinds})"
        )
    return lines


def render_text(results: Results, corpus: CorpusStats | None) -> str:
    rows = [HEADERS, *table_rows(results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    numeric = {1, 2, 3, 4, 5, 6, 7}

    def line(row: tuple[str, ...]) -> str:
        cells = [
            cell.rjust(w) if i in numeric else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    out = [line(rows[0]), "  ".join("-" * w for w in widths), *(line(r) for r in rows[1:])]
    return "\n".join([*machine_lines(results, corpus), "", *out])


def render_markdown(results: Results, corpus: CorpusStats | None) -> str:
    rows = table_rows(results)
    align = ["---" if i in (0, 8) else "---:" for i in range(len(HEADERS))]
    out = [f"| {' | '.join(HEADERS)} |", f"| {' | '.join(align)} |"]
    out += [f"| {' | '.join(cell.replace('|', '/') for cell in row)} |" for row in rows]
    facts = [f"- {line}" for line in machine_lines(results, corpus)]
    return "\n".join([*out, "", *facts])


# --------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--files", type=int, default=5000, help="corpus size (default: 5000)")
    parser.add_argument(
        "--jobs", type=int, default=0, help="airshift worker processes (default: one per core, as airshift)"
    )
    parser.add_argument("--keep", type=Path, help="generate the corpus into DIR and keep it")
    parser.add_argument("--markdown", type=Path, help="also write the Markdown table to FILE")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of measurements (default: 3)")
    parser.add_argument(
        "--budget",
        type=float,
        default=DEFAULT_BUDGET,
        help=f"skip further rounds once measuring would pass this many seconds (default: {DEFAULT_BUDGET:.0f}; 0: no limit)",
    )
    parser.add_argument("--single", action="store_true", help="also time airshift scan in one process")
    parser.add_argument("--no-ruff", action="store_true", help="do not run ruff even when it is on PATH")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="corpus seed")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    jobs = args.jobs or os.cpu_count() or 1
    try:
        moves_table_description()
    except FileNotFoundError:
        _stderr(
            "airshift's moves table (src/airshift/upgrade/tables/moves.json) does not exist yet: generate "
            "it with scripts/generate_tables.py or point AIRSHIFT_MOVES_TABLE at a table file"
        )
        return 2
    temporary = args.keep is None
    folder = Path(tempfile.mkdtemp(prefix="airshift-bench-corpus-")) if temporary else args.keep.resolve()
    try:
        _stderr(f"generating {args.files:,} files (seed {args.seed}) in {folder}")
        started = time.perf_counter()
        try:
            corpus = generate(folder, args.files, args.seed)
        except ValueError as error:
            _stderr(str(error))
            return 2
        _stderr(f"generated in {time.perf_counter() - started:.1f} s")
        results = measure(
            folder,
            jobs,
            repeat=max(1, args.repeat),
            budget=args.budget or None,
            use_ruff=not args.no_ruff,
            single=args.single,
        )
    finally:
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)
    markdown = render_markdown(results, corpus)
    print(render_text(results, corpus))
    print()
    print(MARK_BEGIN)
    print(markdown)
    print(MARK_END)
    if args.markdown:
        args.markdown.write_text(markdown + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
