"""The upgrader's engine counted in CPU instructions per file: a measure a busy shared machine cannot move.

    python benchmarks/instructions_bench.py [--files 200] [--base REV] [--markdown FILE]

Wall-clock timings on a shared 2-core machine vary by a fifth from one minute to the next, which hides
the changes an engine tuning makes. valgrind's callgrind counts the instructions a process executes,
the same on every run: here each measurement is one Python process under callgrind (about 50x slower
than a plain run), once over --files generated corpus files and once over none, so start-up, imports
and tables cancel out and what is left is the work per file. Twenty files are processed first in both
runs (caches of templates and moves warm, as in an estate scan). Measured per file:

- parse: `ast.parse` (the floor's work),
- the shared facts, one at a time: the one walk that indexes nodes, the import table, line offsets, the
  whole file context (the three together) and the call sites, each shown without the parse or the
  context it needs,
- scan: `engine.analyse` with every rule (what a scan worker does per file, reading aside),
- fix: `engine.analyse(fix=True)`: passes to a fixed point, a compile, the confirming pass.

Every row is also given as a multiple of the parse. `--base REV` runs the scan and fix rows for that git
revision (or checkout folder) too, side by side. Needs valgrind (`apt-get install valgrind`).
Nothing is asserted: a benchmark reports.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from corpus import DEFAULT_SEED, generate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from compare_results import checkout  # a checkout folder or a git revision's src/

REPO = Path(__file__).resolve().parent.parent
WARM_UP = 20
_COLLECTED = re.compile(r"Collected : (\d+)")

# Runs inside valgrind: the measured work for one kind of row over the first `count` files after the
# warm-up files. Imports only what the row needs, identically for count 0 and count N.
CHILD = r"""
import ast, gc, sys
from pathlib import Path
kind, corpus, count, warm = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
texts = [p.read_text(encoding="utf-8") for p in sorted(corpus.rglob("*.py"))]
gc.set_threshold(50_000, 20, 20)  # as the runner sets it
if kind == "parse":
    work = lambda text: ast.parse(text)
else:
    from airshift.upgrade import engine
    from airshift.upgrade.context import FileContext, NodeIndex, Settings
    from airshift.upgrade.moves import load_table
    from airshift.upgrade.names import ImportTable
    from airshift.upgrade.registry import Selection, all_rules
    from airshift.upgrade.source import LineIndex
    table, settings, rules, selection = load_table(), Settings(today="2026-11-22"), all_rules(), Selection()
    if kind in ("scan", "fix"):
        fix = kind == "fix"
        work = lambda text: engine.analyse(text, rules, table, settings, selection, fix)
    elif kind == "node index":
        work = lambda text: NodeIndex.build(ast.parse(text))
    elif kind == "import table":
        work = lambda text: ImportTable(ast.parse(text))
    elif kind == "line offsets":
        work = lambda text: (ast.parse(text), LineIndex(text))
    elif kind == "call sites":
        from airshift.upgrade.dag_calls import call_sites
        work = lambda text: call_sites(FileContext(text, ast.parse(text), settings, table, "2"))
    elif kind == "context":
        work = lambda text: FileContext(text, ast.parse(text), settings, table, "2")
    else:
        raise SystemExit(f"unknown kind {kind!r}")
for text in texts[:warm]:
    work(text)
for text in texts[warm : warm + count]:
    work(text)
"""


# What each stage row's work includes beyond its own stage, taken off in the table.
INCLUDES = {
    "node index": "parse",
    "import table": "parse",
    "line offsets": "parse",
    "context": "parse",
    "call sites": "context",
}
STAGES = tuple(INCLUDES)


@dataclass
class Row:
    name: str
    per_file: float  # instructions per file


def _env(src: Path) -> dict[str, str]:
    """The child's environment: this source tree, byte code written (as an installed package has it) and a
    fixed hash seed, so two runs of the same code count the same instructions."""
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONHASHSEED": "0"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _instructions(src: Path, kind: str, corpus: Path, count: int) -> int:
    child = [sys.executable, "-c", CHILD, kind, str(corpus), str(count), str(WARM_UP)]
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *child],
        env=_env(src),
        capture_output=True,
        text=True,
        check=False,
    )
    match = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or match is None:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise SystemExit(f"instructions_bench: {kind} under valgrind failed:\n{tail}")
    return int(match.group(1))


def per_file(src: Path, kind: str, corpus: Path, files: int) -> float:
    """Instructions per file of `kind`: a run over `files` files less a run over none. One plain run first
    writes the byte code, so that neither counted run compiles a module the other does not."""
    subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(corpus), "0", "0"],
        env=_env(src),
        capture_output=True,
        check=False,
    )
    return (_instructions(src, kind, corpus, files) - _instructions(src, kind, corpus, 0)) / files


def measure(
    corpus: Path, files: int, base: Path | None = None, log: Callable[[str], None] = print
) -> dict[str, list[Row]]:
    """Rows per source tree: 'head' (this checkout), and 'base' when given."""
    head = REPO / "src"
    results: dict[str, list[Row]] = {"head": []}
    for kind in ("parse", *STAGES, "scan", "fix"):
        log(f"counting {kind} ({files} files)...")
        results["head"].append(Row(kind, per_file(head, kind, corpus, files)))
    if base is not None:
        results["base"] = []
        for kind in ("parse", "scan", "fix"):
            log(f"counting {kind} for the base ({files} files)...")
            results["base"].append(Row(kind, per_file(base, kind, corpus, files)))
    return results


def render_markdown(results: dict[str, list[Row]], files: int, base_name: str | None = None) -> str:
    head = results["head"]
    counted = {row.name: row.per_file for row in head}
    parse = counted["parse"]
    base = {row.name: row.per_file for row in results.get("base", [])}
    header = "| per file | instructions (M) | x parse |" + (f" {base_name} (M) | change |" if base else "")
    lines = [header, "| --- | ---: | ---: |" + (" ---: | ---: |" if base else "")]
    for row in head:
        included = INCLUDES.get(row.name)
        value = row.per_file - counted[included] if included in counted else row.per_file
        name = f"{row.name} (without its {included})" if included in counted else row.name
        cells = f"| {name} | {value / 1e6:.2f} | {value / parse:.2f} |"
        if base:
            old = base.get(row.name)
            cells += f" {old / 1e6:.2f} | {(value - old) / old:+.1%} |" if old else " | |"
        lines.append(cells)
    lines.append("")
    lines.append(
        f"- {files} generated corpus files after {WARM_UP} warm-up files; valgrind callgrind instruction counts, "
        f"CPython {sys.version.split()[0]}"
    )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=200, help="files measured per row [200]")
    parser.add_argument("--base", help="also count scan and fix for this git revision or checkout folder")
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args()
    if args.files < 1:
        parser.error("--files must be at least 1")
    if shutil.which("valgrind") is None:
        print("instructions_bench: valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        corpus = Path(scratch) / "corpus"
        generate(corpus, WARM_UP + args.files, args.seed)
        base = checkout(args.base, Path(scratch)) if args.base else None
        results = measure(corpus, args.files, base)
    table = render_markdown(results, args.files, args.base)
    print(table)
    if args.markdown:
        args.markdown.write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
