"""The upgrader as users meet it: whole `airshift` processes, side by side with ruff and the floor.

    python benchmarks/cli_bench.py [--files 5000] [--rounds 3] [--small-rounds 15] [--markdown FILE]

Every row is a complete process started the way a user starts it (`airshift scan ...` with its default
text report written to a file, or `--format json`), timed from start to exit. Each scenario has three
rows measured in the same interleaved rounds, so a busy moment on a shared machine slows all of them:

- airshift: `airshift scan PATHS` / `scan --format json` / `fix --out DIR` with their defaults (the cache
  on) and an empty cache (cold, as on a first run), unless the row says warm;
- ruff: `ruff check --select AIR` on the same paths (`--fix` on a fresh copy for fix), ruff's own
  default output, into a file;
- floor: one `python -c` that reads and `ast.parse`s the same files with the same number of processes
  airshift uses (one below its parallel threshold, else one per --jobs): the least any process built
  on Python's parser can do.

Scenarios: pre-commit (1 file, 10 files), an estate of --files generated files (text and JSON reports,
warm cache) and `fix --out`. The table gives the median of each row's runs, the spread (min-max) and the
ratios of the medians against ruff and the floor. Nothing is asserted: a benchmark reports.

airshift's modules are byte-compiled first (as `pip install` does) and the processes run without
PYTHONDONTWRITEBYTECODE, because a user's installed airshift has its .pyc files.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from corpus import DEFAULT_SEED, CorpusStats, generate

import airshift

PARALLEL_FROM = 64  # airshift's runner: below this many files it uses one process
FLOOR = r"""
import ast, os, sys
from concurrent.futures import ProcessPoolExecutor

def parse(path):
    with open(path, "rb") as handle:
        raw = handle.read()
    try:
        ast.parse(raw, filename=path)
    except (SyntaxError, ValueError):
        return 0
    return 1

def files(paths):
    for path in paths:
        if os.path.isdir(path):
            for root, _, names in os.walk(path):
                yield from (os.path.join(root, n) for n in names if n.endswith(".py"))
        else:
            yield path

if __name__ == "__main__":
    workers, paths = int(sys.argv[1]), sorted(files(sys.argv[2:]))
    if workers > 1 and len(paths) >= PARALLEL_FROM:
        with ProcessPoolExecutor(workers) as pool:
            print(sum(pool.map(parse, paths, chunksize=max(1, len(paths) // (workers * 8)))))
    else:
        print(sum(map(parse, paths)))
""".replace("PARALLEL_FROM", str(PARALLEL_FROM))


@dataclass
class Row:
    scenario: str
    tool: str  # airshift, ruff, floor
    command: list[str]
    prepare: Callable[[], None] | None = None  # untimed, before every run
    cache: Path | None = None  # airshift's cache folder for this row (AIRSHIFT_CACHE_DIR)
    runs: list[float] = field(default_factory=list)
    exit_codes: set[int] = field(default_factory=set)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)


@dataclass
class Results:
    rows: list[Row]
    rounds: dict[str, int]
    jobs: int
    files: int
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    ruff: str | None
    started: dt.datetime


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "FORCE_COLOR")}
    env["NO_COLOR"] = "1"
    return env


def _timed(command: list[str], cwd: Path, output: Path, cache: Path | None = None) -> tuple[float, int]:
    env = _env()
    if cache is not None:
        env["AIRSHIFT_CACHE_DIR"] = str(cache)
    with output.open("wb") as handle:
        started = time.perf_counter()
        code = subprocess.call(command, cwd=cwd, stdout=handle, stderr=subprocess.DEVNULL, env=env)
        return time.perf_counter() - started, code


def _fresh(folder: Path) -> Callable[[], None]:
    def clear() -> None:
        shutil.rmtree(folder, ignore_errors=True)

    return clear


def _copy_of(source: Path, folder: Path) -> Callable[[], None]:
    def copy() -> None:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(source, folder)

    return copy


def plan(corpus: Path, work: Path, jobs: int, ruff: str | None) -> list[Row]:
    """The rows to measure, grouped by scenario."""
    python_files = sorted(str(p) for p in corpus.rglob("*.py"))
    airflow_files = [p for p in python_files if f"{os.sep}common{os.sep}" not in p]  # not the helper modules
    one, ten = airflow_files[:1], airflow_files[:10]
    total = len(python_files)
    airshift_cmd = [sys.executable, "-m", "airshift"]
    jobs_args = ["--jobs", str(jobs)]
    ruff_base = [ruff, "check", "--select", "AIR", "--preview", "--isolated", "--exit-zero"] if ruff else None
    cache = work / "cache"
    rows: list[Row] = []

    def scenario(name: str, paths: list[str], airshift_args: list[str], processes: int) -> None:
        # cold: airshift's default run (cache on) with an empty cache, as on a first run
        cold = cache / "cold"
        rows.append(Row(name, "airshift", [*airshift_cmd, *airshift_args], prepare=_fresh(cold), cache=cold))
        if ruff_base:
            rows.append(Row(name, "ruff", [*ruff_base, "--no-cache", *paths]))
        rows.append(Row(name, "floor", [sys.executable, "-c", FLOOR, str(processes), *paths]))

    processes = jobs if total >= PARALLEL_FROM else 1
    scenario("pre-commit, 1 file", one, ["scan", *one], 1)
    scenario("pre-commit, 10 files", ten, ["scan", *ten], 1)
    scenario(f"estate, {total:,} files, text", [str(corpus)], ["scan", *jobs_args, str(corpus)], processes)
    scenario(
        f"estate, {total:,} files, JSON",
        [str(corpus)],
        ["scan", "--format", "json", *jobs_args, str(corpus)],
        processes,
    )
    # warm: the cache was filled by an untimed run before the first round; ruff uses its own cache
    warm = cache / "warm"
    rows.append(
        Row("estate, warm cache", "airshift", [*airshift_cmd, "scan", *jobs_args, str(corpus)], cache=warm)
    )
    if ruff_base:
        rows.append(
            Row("estate, warm cache", "ruff", [*ruff_base, "--cache-dir", str(cache / "ruff"), str(corpus)])
        )
    rows.append(
        Row("estate, warm cache", "floor", [sys.executable, "-c", FLOOR, str(processes), str(corpus)])
    )
    out, cold = work / "fixed", cache / "cold"

    def fresh_out_and_cache() -> None:
        _fresh(out)()
        _fresh(cold)()

    rows.append(
        Row(
            "fix --out",
            "airshift",
            [*airshift_cmd, "fix", *jobs_args, "--out", str(out), str(corpus)],
            prepare=fresh_out_and_cache,
            cache=cold,
        )
    )
    if ruff_base:
        copy = work / "ruff-fix"
        rows.append(
            Row(
                "fix --out",
                "ruff",
                [*ruff_base, "--no-cache", "--fix", str(copy)],
                prepare=_copy_of(corpus, copy),
            )
        )
    rows.append(Row("fix --out", "floor", [sys.executable, "-c", FLOOR, str(processes), str(corpus)]))
    return rows


def measure(
    corpus: Path,
    work: Path,
    jobs: int,
    rounds: int,
    small_rounds: int,
    use_ruff: bool = True,
    log: Callable[[str], None] = print,
) -> Results:
    compileall.compile_dir(Path(airshift.__file__).parent, quiet=1)  # as an installed package has
    ruff = shutil.which("ruff") if use_ruff else None
    ruff = str(Path(ruff).resolve()) if ruff else None  # the rows run in another folder: PATH may be relative
    ruff_version = (
        subprocess.run([ruff, "--version"], capture_output=True, text=True).stdout.strip() if ruff else None
    )
    rows = plan(corpus, work, jobs, ruff)
    warm = [r for r in rows if r.scenario == "estate, warm cache" and r.tool != "floor"]
    for row in warm:  # fill the caches, untimed
        _timed(row.command, work, work / "report.out", row.cache)
    load_before = os.getloadavg()
    started = dt.datetime.now(dt.timezone.utc)
    big = [r for r in rows if not r.scenario.startswith("pre-commit")]
    small = [r for r in rows if r.scenario.startswith("pre-commit")]
    for number in range(max(rounds, small_rounds)):
        for row in (small if number < small_rounds else []) + (big if number < rounds else []):
            if row.prepare:
                row.prepare()
            seconds, code = _timed(row.command, work, work / "report.out", row.cache)
            row.runs.append(seconds)
            row.exit_codes.add(code)
        log(f"round {number + 1}: load {os.getloadavg()[0]:.1f}")
    load_after = os.getloadavg()
    return Results(
        rows,
        {"pre-commit": small_rounds, "estate": rounds},
        jobs,
        sum(1 for _ in corpus.rglob("*.py")),
        load_before,
        load_after,
        ruff_version,
        started,
    )


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}; {os.cpu_count()} cores; {platform.system()} {platform.release()}"


def render_markdown(results: Results, stats: CorpusStats | None = None) -> str:
    lines = [
        "| scenario | tool | median s | spread (min-max) | runs | x ruff | x floor |",
        "| --- | --- | ---: | --- | ---: | ---: | ---: |",
    ]
    by_scenario: dict[str, dict[str, Row]] = {}
    for row in results.rows:
        by_scenario.setdefault(row.scenario, {})[row.tool] = row
    for scenario, tools in by_scenario.items():
        ruff, floor = tools.get("ruff"), tools.get("floor")
        for tool, row in tools.items():
            x_ruff = f"{row.median / ruff.median:.2f}" if ruff else "-"
            x_floor = f"{row.median / floor.median:.2f}" if floor else "-"
            spread = f"{min(row.runs):.2f}-{max(row.runs):.2f}"
            name = f"**{tool}**" if tool == "airshift" else tool
            lines.append(
                f"| {scenario} | {name} | {row.median:.2f} | {spread} | {len(row.runs)} | {x_ruff} | {x_floor} |"
            )
    load = ", ".join(f"{x:.1f}" for x in results.load_before)
    load_end = ", ".join(f"{x:.1f}" for x in results.load_after)
    lines += [
        "",
        f"- date: {results.started:%Y-%m-%d %H:%M} UTC; load average (1, 5, 15 min) {load} at the start, "
        f"{load_end} at the end",
        f"- machine: {_machine()}",
        f"- python: {platform.python_implementation()} {platform.python_version()}; airshift "
        f"{airshift.__version__}; {results.ruff or 'ruff not measured'}; airshift --jobs {results.jobs}",
        f"- rounds: {results.rounds['pre-commit']} (pre-commit), {results.rounds['estate']} (estate, fix), "
        "interleaved; every row is a whole process with its report written to a file",
    ]
    if stats is not None:
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(stats.kinds.items()))
        lines.append(
            f"- corpus: {stats.files:,} generated files, {stats.lines:,} lines, {stats.bytes / 1e6:.1f} MB ({kinds})"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--files", type=int, default=5000, help="estate size [5000]")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the estate rows [3]")
    parser.add_argument("--small-rounds", type=int, default=15, help="rounds of the pre-commit rows [15]")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="airshift --jobs [cores]")
    parser.add_argument("--keep", type=Path, help="generate the corpus here and keep it")
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    parser.add_argument("--no-ruff", action="store_true")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="airshift-cli-bench-") as scratch:
        work = Path(scratch)
        corpus = args.keep or work / "corpus"
        stats = generate(corpus, args.files, seed=args.seed)
        results = measure(
            corpus.resolve(), work, args.jobs, args.rounds, args.small_rounds, use_ruff=not args.no_ruff
        )
        table = render_markdown(results, stats)
    print(table)
    if args.markdown:
        args.markdown.write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
