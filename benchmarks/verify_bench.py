"""How much does `airshift verify` cost over simply loading the DAGs?

Generates N Airflow 2 DAG files (deterministic; Bash/Python/Empty operators, templated fields, fan-out and
chains, default_args), migrates them with `airshift fix` to 3.3, then times in the already-cached runtimes:

- a bare DagBag load of the original folder in the source Airflow and of the migrated one in the target
  Airflow (airshift.verify.dagbag.load_dagbag: one process, one DagBag, nothing else), and
- `verify` itself (both snapshots side by side, every templated field rendered, then the diff).

Prints a table: per side, the snapshot (what verify runs in each runtime: load + record + render) against
the bare DagBag load; both sides one after the other (the headline ratio: verify's extra work); and end to
end, verify (both snapshots side by side, then the diff) against both DagBag loads side by side.

    python benchmarks/verify_bench.py [--files 200] [--repeat 3] [--source 2.11.2] [--target 3.3.2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from airshift.upgrade.context import Settings
from airshift.upgrade.discovery import discover
from airshift.upgrade.registry import Selection
from airshift.upgrade.runner import RunOptions, run
from airshift.upgrade.versions import parse_target
from airshift.verify.dagbag import load_dagbag
from airshift.verify.pipeline import Side, VerifyOptions, verify
from airshift.verify.runtimes import Runtime, ensure_runtime
from airshift.verify.snapshot import take_snapshot

SEED = 20261201
_HEADER = '''"""Generated benchmark DAG {index}: {entity} for the {team} team."""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.empty import EmptyOperator
from airflow.operators.python import PythonOperator


def _summarize_{index}(**context):
    return "{entity} " + context["ds"]


default_args = {{"owner": "{team}", "retries": {retries}, "retry_delay": timedelta(minutes={delay})}}

with DAG(
    dag_id="bench_{index:04d}_{entity}",
    start_date=datetime(2024, 1, {day}),
    schedule_interval="{schedule}",
    catchup=False,
    default_args=default_args,
    tags=["bench", "{team}"],
) as dag:
    start = EmptyOperator(task_id="start")
    done = EmptyOperator(task_id="done", trigger_rule="{trigger}")
'''
_BASH = (
    '    {var} = BashOperator(task_id="{var}", bash_command="run_{entity}.sh --date {{{{ ds }}}} '
    '--until {{{{ data_interval_end | ds }}}} --part {n}", pool="{pool}", priority_weight={weight})\n'
)
_PYTHON = '    {var} = PythonOperator(task_id="{var}", python_callable=_summarize_{index}, op_kwargs={{"part": {n}}})\n'
TEAMS = ("analytics", "finance", "growth", "ml", "ops", "risk")
ENTITIES = ("orders", "customers", "events", "invoices", "sessions", "payments")
SCHEDULES = ("@daily", "@hourly", "0 6 * * *", "30 2 * * 1-5", "@weekly")


def dag_source(index: int) -> str:
    rng = random.Random(SEED * 10_000 + index)
    entity, team = rng.choice(ENTITIES), rng.choice(TEAMS)
    text = _HEADER.format(
        index=index,
        entity=entity,
        team=team,
        retries=rng.randint(0, 3),
        delay=rng.choice((1, 5, 15)),
        day=rng.randint(1, 28),
        schedule=rng.choice(SCHEDULES),
        trigger=rng.choice(("all_success", "all_done", "none_failed")),
    )
    names = []
    for n in range(rng.randint(3, 14)):
        var = f"step_{n}"
        template = _BASH if rng.random() < 0.7 else _PYTHON
        text += template.format(
            var=var, entity=entity, n=n, index=index, pool="default_pool", weight=rng.randint(1, 5)
        )
        names.append(var)
    lines = []
    for position, name in enumerate(names):  # a few parallel chains between start and done
        if position < 3:
            lines.append(f"    start >> {name}")
        else:
            lines.append(f"    {names[position - 3]} >> {name}")
    lines.extend(f"    {name} >> done" for name in names[-3:])
    return text + "\n".join(lines) + "\n"


def generate(folder: Path, files: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(files):
        (folder / f"bench_dag_{index:04d}.py").write_text(dag_source(index), encoding="utf-8")


def migrate(source: Path, out: Path) -> None:
    options = RunOptions(
        settings=Settings(target=parse_target("3.3"), today=dt.date.today().isoformat()),
        selection=Selection(),
        fix=True,
        write=True,
        out_dir=out,
    )
    result = run(discover([source]), options)
    failed = [f.path for f in result.files if f.status == "failed"]
    if failed:
        raise SystemExit(f"fix failed on {failed[:3]}")


def measure(actions: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median seconds of each action. One warm-up round fills bytecode caches; then the actions run
    interleaved, round after round, so a load spike from other processes hits them all alike."""
    for action in actions.values():
        action()
    timings: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(repeat):
        for name, action in actions.items():
            started = time.perf_counter()
            action()
            timings[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in timings.items()}


def bare_both(source: Runtime, target: Runtime, original: Path, migrated: Path) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = [pool.submit(load_dagbag, source, original), pool.submit(load_dagbag, target, migrated)]
        results = [job.result() for job in jobs]
    for result in results:
        if result.import_errors:
            raise SystemExit(f"import errors in {result.folder}: {sorted(result.import_errors)[:3]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--source", default="2.11.2")
    parser.add_argument("--target", default="3.3.2")
    args = parser.parse_args(argv)
    source, target = ensure_runtime(args.source), ensure_runtime(args.target)
    with tempfile.TemporaryDirectory(prefix="airshift-verify-bench-") as tmp:
        original, migrated = Path(tmp) / "original", Path(tmp) / "migrated"
        generate(original, args.files)
        migrate(original, migrated)
        # The generated DAGs use core operators only (the standard provider ships with 3.x), so the plain
        # runtimes load them.
        options = VerifyOptions(original=Side(original, args.source), migrated=Side(migrated, args.target))
        checked = verify(options)
        tasks = sum(d.tasks_before for d in checked.dags)
        seconds = measure(
            {
                "bag_source": lambda: load_dagbag(source, original),
                "snap_source": lambda: take_snapshot(source, original),
                "bag_target": lambda: load_dagbag(target, migrated),
                "snap_target": lambda: take_snapshot(target, migrated),
                "bag_both": lambda: bare_both(source, target, original, migrated),
                "verify": lambda: verify(options),
            },
            args.repeat,
        )
        shutil.rmtree(Path(tmp), ignore_errors=True)
    rows = [
        (f"source {args.source}", seconds["bag_source"], seconds["snap_source"]),
        (f"target {args.target}", seconds["bag_target"], seconds["snap_target"]),
        (
            "both, one after the other",
            seconds["bag_source"] + seconds["bag_target"],
            seconds["snap_source"] + seconds["snap_target"],
        ),
        ("end to end, side by side (+ diff)", seconds["bag_both"], seconds["verify"]),
    ]
    summary = checked.summary()
    print(f"verify benchmark: {args.files} DAG files, {len(checked.dags)} DAGs, {tasks} tasks")
    print(
        f"verify result: {summary.matching} matching, {summary.differences} differences (expected: all match)"
    )
    print(f"median of {args.repeat} interleaved runs after a warm-up")
    print(f"{'':<36} {'DagBag s':>9} {'verify s':>9} {'ratio':>7}")
    for name, bare, full in rows:
        print(f"{name:<36} {bare:>9.2f} {full:>9.2f} {full / bare:>6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
