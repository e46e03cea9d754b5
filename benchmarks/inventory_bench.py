"""Inventory of a large metadata DB: `airshift inventory postgresql://...` on a real Airflow 2.11.2
database grown to N task instances, timed as a whole process, with its peak memory.

    python benchmarks/inventory_bench.py                         # 1,000,000 task instances (10 per run)
    python benchmarks/inventory_bench.py --task-instances 200000 --small 20000

A small and the full size run side by side: a flat peak memory across sizes is what "streamed" means.
Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust); builds/uses the cached 2.11.2 runtime. The
history is cloned in SQL from one real `airflow dags test` run; start and end times are then spread
(run n starts at hour n, task k k minutes later, each runs 7 minutes), so per-minute grouping and the
peak-concurrency sweep see realistic data.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, text  # noqa: E402

from airshift.verify.runtimes import ensure_runtime  # noqa: E402
from tests.state.airflow_envs import PG_ADMIN_URL, make_env, unique_name  # noqa: E402
from tests.state.source_fixtures import dag_file_211, new_key  # noqa: E402
from tests.state.synthetic_history import SYNTHETIC_DAG, grow_history  # noqa: E402

SPREAD = f"""
UPDATE task_instance SET
  start_date = TIMESTAMPTZ '2000-01-01 00:00:00+00' + split_part(run_id, '__', 2)::int * INTERVAL '1 hour'
               + split_part(task_id, '_', 2)::int * INTERVAL '1 minute',
  end_date = TIMESTAMPTZ '2000-01-01 00:00:00+00' + split_part(run_id, '__', 2)::int * INTERVAL '1 hour'
             + split_part(task_id, '_', 2)::int * INTERVAL '1 minute' + INTERVAL '7 minutes'
WHERE dag_id = '{SYNTHETIC_DAG}'
"""


def _admin(sql: str) -> None:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(sql))
    engine.dispose()


def _database(home: Path, task_instances: int, per_run: int) -> str:
    name = unique_name("airshift_bench_inv")
    _admin(f'CREATE DATABASE "{name}"')
    env = make_env(ensure_runtime("2.11.2", extra_requirements=["psycopg2-binary"]), home,
                   f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}", [new_key()])  # fmt: skip
    (env.dags_folder / "dags.py").write_text(dag_file_211(), encoding="utf-8")
    env.cli_batch([["db", "migrate"], ["dags", "test", "etl_daily", "2024-01-01"]])
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    grow_history(url, runs=task_instances // per_run, tasks_per_run=per_run)
    engine = create_engine(url.replace("postgresql:", "postgresql+psycopg:"))
    with engine.begin() as connection:
        connection.execute(text(SPREAD))
        connection.execute(text("ANALYZE task_instance"))
    engine.dispose()
    return name


def _inventory(name: str, folder: Path) -> tuple[float, float, dict[str, object]]:
    output = folder / f"{name}.json"
    command = [sys.executable, "-m", "airshift", "inventory", f"postgresql://postgres@127.0.0.1:5432/{name}",
               "-o", str(output), "--quiet"]  # fmt: skip
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(
            f"inventory failed: {process.stderr.read().decode()[-2000:] if process.stderr else ''}"
        )
    database = json.loads(output.read_text())["databases"][0]
    return elapsed, usage.ru_maxrss / 1024, database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--task-instances", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000)
    parser.add_argument("--per-run", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    names = []
    try:
        with tempfile.TemporaryDirectory(prefix="airshift-inv-bench-") as temp:
            folder = Path(temp)
            rows = []
            for size in (args.small, args.task_instances):
                print(f"building a 2.11.2 database with {size:,} task instances ...", flush=True)
                name = _database(folder / f"home-{size}", size, args.per_run)
                names.append(name)
                runs = [_inventory(name, folder) for _ in range(args.repeat)]
                times = [run[0] for run in runs]
                peak = max(run[1] for run in runs)
                database = runs[-1][2]
                rows.append((size, statistics.median(times), min(times), max(times), peak, database))
            print(
                f"{'task instances':>15} {'median s':>9} {'min-max s':>12} {'peak MiB':>9} {'peak conc.':>10}"
            )
            for size, median, low, high, peak, database in rows:
                print(
                    f"{size:>15,} {median:>9.1f} {f'{low:.1f}-{high:.1f}':>12} {peak:>9.0f} "
                    f"{database['peak_concurrency']:>10}"
                )
    finally:
        for name in names:
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
