"""Compare two airshift versions' results byte for byte: findings, fixes and diffs.

    python scripts/compare_results.py [--base main] [--head .] [--files 5000] [--keep DIR]

Each side is a folder holding a checkout (its `src/airshift` is run) or a git revision (exported with
`git archive` into a temporary folder). Both run as whole processes (`python -m airshift`, the same
interpreter and dependencies) over the golden inputs (tests/golden/inputs/*) for targets 3.3 and 2.11 and
over the generated benchmark corpus (benchmarks/corpus.py, --files files, target 3.3):

- `scan --format json` (every finding, its position, message, fixability, requirements),
- `fix --out DIR --diff --format json` (every fix and its diff), and every byte of the written folder,
  including airshift-requirements.txt.

The JSON reports are compared as text after dropping the one field that measures time
(`"seconds"`); the fixed folders file by file. Prints one line per comparison and exits 1 on any
difference (the first differing lines are shown), 0 when everything is identical. Speed changes must
leave this at 0.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TODAY = "2026-11-22"  # fixed, so rewrites of days_ago() do not depend on the day of the run
_SECONDS = re.compile(rb'^\s*"seconds": [0-9.eE+-]+,?\n', re.MULTILINE)


def checkout(spec: str, scratch: Path) -> Path:
    """The `src` folder to run for `spec`: a folder with src/airshift, else a git revision."""
    folder = Path(spec)
    if (folder / "src" / "airshift").is_dir():
        return (folder / "src").resolve()
    target = scratch / re.sub(r"[^A-Za-z0-9._-]", "_", spec)
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "--format=tar", spec, "src"], capture_output=True, check=False
    )
    if archive.returncode != 0:
        raise SystemExit(f"{spec}: neither a checkout folder nor a git revision: {archive.stderr.decode()}")
    tar_path = target / "src.tar"
    tar_path.write_bytes(archive.stdout)
    with tarfile.open(tar_path) as tar:
        tar.extractall(target, filter="data")
    tar_path.unlink()
    return target / "src"


def airshift(src: Path, args: list[str], cwd: Path, cache: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(src), "AIRSHIFT_CACHE_DIR": str(cache), "NO_COLOR": "1"}
    env.pop("FORCE_COLOR", None)
    return subprocess.run(
        [sys.executable, "-m", "airshift", *args], cwd=cwd, env=env, capture_output=True, check=False
    )


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def first_difference(name: str, old: bytes, new: bytes) -> str:
    lines = difflib.unified_diff(
        old.decode("utf-8", "replace").splitlines(),
        new.decode("utf-8", "replace").splitlines(),
        f"base/{name}",
        f"head/{name}",
        lineterm="",
        n=1,
    )
    return "\n".join(list(lines)[:20])


def compare_run(label: str, sources: dict[str, Path], inputs: Path, target: str, work: Path) -> list[str]:
    """Scan and fix `inputs` with both sides; the differences found (empty when identical)."""
    problems: list[str] = []
    outputs: dict[str, dict[str, bytes]] = {}
    for side, src in sources.items():
        folder = work / label / side
        folder.mkdir(parents=True)
        common = ["--target", target, "--today", TODAY, "--no-cache", "--format", "json"]
        scan = airshift(src, ["scan", str(inputs), *common], folder, folder / "cache")
        fix = airshift(
            src,
            ["fix", str(inputs), *common, "--diff", "--out", str(folder / "out")],
            folder,
            folder / "cache",
        )
        for name, completed in (("scan", scan), ("fix", fix)):
            if completed.returncode not in (0, 1, 2) or not completed.stdout.strip():
                problems.append(
                    f"{label}: {side} {name} failed ({completed.returncode}): {completed.stderr[-500:]!r}"
                )
        outputs[side] = {
            "scan.json": _SECONDS.sub(b"", scan.stdout),
            "scan.exit": str(scan.returncode).encode(),
            "fix.json": _SECONDS.sub(b"", fix.stdout),
            "fix.exit": str(fix.returncode).encode(),
            **{f"out/{k}": v for k, v in tree(folder / "out").items()},
        }
    base, head = outputs["base"], outputs["head"]
    for name in sorted(set(base) | set(head)):
        if name not in base or name not in head:
            problems.append(f"{label}: {name} only in {'base' if name in base else 'head'}")
        elif base[name] != head[name]:
            problems.append(f"{label}: {name} differs\n{first_difference(name, base[name], head[name])}")
    files = sum(1 for name in base if name.startswith("out/"))
    status = "identical" if not problems else f"{len(problems)} difference(s)"
    print(f"{label}: scan and fix reports, exit codes and {files} written files: {status}", flush=True)
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", default="main", help="checkout folder or git revision [main]")
    parser.add_argument("--head", default=str(REPO), help="checkout folder or git revision [this checkout]")
    parser.add_argument("--files", type=int, default=5000, help="generated corpus size [5000]; 0 skips it")
    parser.add_argument("--keep", type=Path, help="keep the outputs here (default: a temporary folder)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="airshift-compare-") as scratch_name:
        scratch = Path(scratch_name)
        work = args.keep.resolve() if args.keep else scratch / "work"
        work.mkdir(parents=True, exist_ok=True)
        sources = {"base": checkout(args.base, scratch), "head": checkout(args.head, scratch)}
        print(f"base: {args.base} ({sources['base']})\nhead: {args.head} ({sources['head']})", flush=True)
        problems: list[str] = []
        for inputs in sorted((REPO / "tests" / "golden" / "inputs").iterdir()):
            for target in ("3.3", "2.11"):
                problems += compare_run(f"golden-{inputs.name}-{target}", sources, inputs, target, work)
        if args.files:
            sys.path.insert(0, str(REPO / "benchmarks"))
            from corpus import generate

            corpus = scratch / "corpus"
            generate(corpus, args.files)
            problems += compare_run(f"corpus-{args.files}-3.3", sources, corpus, "3.3", work)
        for problem in problems:
            print(problem)
        print("RESULT:", "identical" if not problems else f"{len(problems)} difference(s)")
        return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
