"""Run-history transfer benchmark: copy N task-instance rows (and their runs) from a real Airflow 2.11.2
metadata DB into a real Airflow 3.3.2 one, both on PostgreSQL, with `airshift transfer --what history`.

Prints rows/s and the copy process's peak memory, for a small and the full size side by side: a flat
peak memory across sizes is what "streamed, not loaded at once" means.

    python benchmarks/transfer_bench.py                      # 1,000,000 task instances (10 per run)
    python benchmarks/transfer_bench.py --task-instances 200000 --small 20000

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust) and builds/uses the cached Airflow runtimes.
The source history is cloned in SQL from one real `airflow dags test` run, so every column holds what
Airflow itself writes.
"""

from __future__ import annotations

import argparse
import os
import resource
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


def _admin(sql: str) -> None:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(sql))
    engine.dispose()


def _source(home: Path, task_instances: int, per_run: int) -> str:
    name = unique_name("airshift_bench_src")
    _admin(f'CREATE DATABASE "{name}"')
    env = make_env(ensure_runtime("2.11.2", extra_requirements=["psycopg2-binary"]), home,
                   f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}", [new_key()])  # fmt: skip
    (env.dags_folder / "dags.py").write_text(dag_file_211(), encoding="utf-8")
    env.cli_batch([["db", "migrate"], ["dags", "test", "etl_daily", "2024-01-01"]])
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    grow_history(url, runs=task_instances // per_run, tasks_per_run=per_run)
    return name


def _target(home: Path) -> str:
    name = unique_name("airshift_bench_tgt")
    _admin(f'CREATE DATABASE "{name}"')
    env = make_env(ensure_runtime("3.3.2", extra_requirements=["apache-airflow-providers-postgres"]), home,
                   f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}", [new_key()])  # fmt: skip
    env.cli_batch([["db", "migrate"]])
    return name


def _copy(source: str, target: str, size: int, folder: Path, batch: int) -> tuple[float, float, int]:
    """Run the CLI in a child process; returns (seconds, peak RSS MiB, task instances on the target)."""
    command = [sys.executable, "-m", "airshift", "transfer", "--what", "history", "--dags", SYNTHETIC_DAG,
               "--from", f"postgresql://postgres@127.0.0.1:5432/{source}",
               "--to-db", f"postgresql://postgres@127.0.0.1:5432/{target}",
               "--batch-size", str(batch), "--ledger", str(folder / f"ledger-{size}.sqlite")]  # fmt: skip
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(
            f"transfer failed: {process.stderr.read().decode()[-2000:] if process.stderr else ''}"
        )
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:5432/{target}")
    with engine.connect() as connection:
        copied = connection.execute(
            text("SELECT count(*) FROM task_instance WHERE dag_id = :d"), {"d": SYNTHETIC_DAG}
        ).scalar_one()
    engine.dispose()
    # ru_maxrss is KiB on Linux.
    return elapsed, usage.ru_maxrss / 1024, int(copied)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--task-instances", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000, help="size of the comparison run")
    parser.add_argument("--per-run", type=int, default=10, help="task instances per dag run")
    parser.add_argument("--batch-size", type=int, default=2000)
    options = parser.parse_args()
    rows: list[tuple[int, float, float, int, int]] = []
    drop: list[str] = []
    with tempfile.TemporaryDirectory(prefix="airshift-transfer-bench-") as tmp:
        folder = Path(tmp)
        try:
            for size in (options.small, options.task_instances):
                print(f"preparing {size:,} task instances ...", flush=True)
                source = _source(folder / f"src-{size}", size, options.per_run)
                target = _target(folder / f"tgt-{size}")
                drop += [source, target]
                seconds, peak, copied = _copy(source, target, size, folder, options.batch_size)
                rows.append((size, seconds, peak, copied, size // options.per_run))
        finally:
            for name in drop:
                _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print()
    print("| task instances | dag runs | seconds | rows/s (TI + runs) | peak RSS MiB | copied |")
    print("|---:|---:|---:|---:|---:|---:|")
    for size, seconds, peak, copied, runs in rows:
        print(
            f"| {size:,} | {runs:,} | {seconds:.1f} | {(size + runs) / seconds:,.0f} | {peak:.0f} | {copied:,} |"
        )
    if len(rows) == 2:
        print(
            f"\npeak memory ratio (large/small): {rows[1][2] / rows[0][2]:.2f} for {rows[1][0] / rows[0][0]:.0f}x rows"
        )
    print(f"machine: {os.cpu_count()} CPUs; python {sys.version.split()[0]}; "
          f"max RSS of this driver {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
