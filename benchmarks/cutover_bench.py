"""Cutover benchmark: a wave of N DAGs (default 200) switched from a real Airflow 2.11.2 webserver to a
real Airflow 3.3.2 api-server (with its dag-processor), both on PostgreSQL, then rolled back and
switched again.

Times the whole `airshift cutover run` / `rollback` processes as users run them, and prints DAGs per
minute and where the time goes (median seconds per step, from the journal). The floor is the least
REST work a switch needs, as one process: per DAG, pause on the old side and unpause on the new one
(no drain, no history, no confirm). There is no peer: Starship's cutover tool is unmerged and
same-version only.

    python benchmarks/cutover_bench.py                 # 200 DAGs, parallelism 8
    python benchmarks/cutover_bench.py --dags 50 --parallelism 4

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust) and builds/uses the cached Airflow runtimes.
Each DAG has four finished daily runs on the old side (made with Airflow's own models), which the
switch copies.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from airshift.cutover.journal import open_journal  # noqa: E402
from tests.state.airflow2_webserver import airflow2_webserver  # noqa: E402
from tests.state.airflow3_target import airflow3_target  # noqa: E402
from tests.state.airflow_envs import stop_process_group  # noqa: E402

STEPS = ("checks", "paused_from", "copied", "unpaused_to", "confirmed", "done")

_FILL = """
import json, sys
from airflow.models import DagBag
from airflow.models.dagrun import DagRun
from airflow.utils import timezone
from airflow.utils.session import create_session
from airflow.utils.state import DagRunState, TaskInstanceState
from airflow.utils.types import DagRunType
dates = json.loads(sys.argv[1])
bag = DagBag(include_examples=False)
for dag_id, dag in bag.dags.items():
    for raw in dates:
        logical = timezone.parse(raw)
        run = dag.create_dagrun(
            run_id=DagRun.generate_run_id(DagRunType.SCHEDULED, logical), run_type=DagRunType.SCHEDULED,
            execution_date=logical, data_interval=dag.infer_automated_data_interval(logical),
            state=DagRunState.SUCCESS, external_trigger=False)
        with create_session() as session:
            for ti in run.get_task_instances(session=session):
                ti.set_state(TaskInstanceState.SUCCESS, session=session)
"""


def dag_file(version: int, count: int, start: dt.datetime) -> str:
    header = (
        "from airflow import DAG\nfrom airflow.operators.empty import EmptyOperator"
        if version == 2
        else "from airflow.sdk import DAG\nfrom airflow.providers.standard.operators.empty import EmptyOperator"
    )
    return header + textwrap.dedent(
        f"""
        from datetime import datetime, timezone
        START = datetime({start.year}, {start.month}, {start.day}, tzinfo=timezone.utc)
        for index in range({count}):
            with DAG(f"bench_{{index:03d}}", start_date=START, schedule="0 0 * * *", catchup=False) as dag:
                EmptyOperator(task_id="noop")
            globals()[dag.dag_id] = dag
        """
    )


def timed(
    command: list[str], env: dict[str, str] | None = None
) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    return time.perf_counter() - started, completed


def step_medians(journal_path: Path, action: str, after_id: int) -> dict[str, float]:
    """Median seconds from each step to the next one, per DAG, for one command's steps."""
    with open_journal(journal_path) as journal:
        steps = [s for s in journal.steps(after_id=after_id) if s.action == action]
    by_dag: dict[str, list] = {}
    for step in steps:
        by_dag.setdefault(step.dag_id, []).append(step)
    spans: dict[str, list[float]] = {name: [] for name in STEPS}
    for dag_steps in by_dag.values():
        for before, after in itertools.pairwise(dag_steps):
            if after.step in spans:
                spans[after.step].append((after.at - before.at).total_seconds())
    return {name: statistics.median(values) for name, values in spans.items() if values}


def first_step_at(journal_path: Path, after_id: int) -> dt.datetime:
    """When a command journalled its first step: before it, it only listed and checked DAGs."""
    with open_journal(journal_path) as journal:
        return journal.steps(after_id=after_id)[0].at


def last_id(journal_path: Path) -> int:
    if not journal_path.exists():
        return 0
    with open_journal(journal_path) as journal:
        steps = journal.steps()
    return steps[-1].id if steps else 0


FLOOR = """
import sys, httpx
old, old_user, old_pw, new, new_user, new_pw, count = sys.argv[1:]
token = httpx.post(f"{new}/auth/token", json={"username": new_user, "password": new_pw}, timeout=120).json()["access_token"]
# A generous timeout: on a loaded machine the old webserver's single worker can take seconds per call.
with httpx.Client(auth=(old_user, old_pw), timeout=120) as o, \
        httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=120) as n:
    for index in range(int(count)):
        dag = f"bench_{index:03d}"
        assert o.patch(f"{old}/api/v1/dags/{dag}", params={"update_mask": "is_paused"}, json={"is_paused": False}).status_code == 200
        assert n.patch(f"{new}/api/v2/dags/{dag}", json={"is_paused": True}).status_code == 200
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dags", type=int, default=200)
    parser.add_argument("--parallelism", type=int, default=8)
    parser.add_argument(
        "--rounds",
        type=int,
        choices=(1, 3),
        default=3,
        help="1: one cutover; 3: cutover, rollback, cutover again",
    )
    args = parser.parse_args()
    today = dt.datetime.now(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - dt.timedelta(days=4)
    with tempfile.TemporaryDirectory(prefix="airshift-cutover-bench-") as tmp, ExitStack() as stack:
        root = Path(tmp)
        print(f"setting up {args.dags} DAGs on Airflow 2.11.2 and 3.3.2 ...", flush=True)
        old = stack.enter_context(airflow2_webserver(root / "old", dags=dag_file(2, args.dags, start)))
        new = stack.enter_context(airflow3_target(root / "new", dags=dag_file(3, args.dags, start)))
        # Runs up to the interval that ended at midnight: current, so no scheduler creates one during the bench.
        dates = [(start + dt.timedelta(days=i)).isoformat() for i in range(4)]
        filled = subprocess.run([str(old.env.runtime.python), "-c", _FILL, json.dumps(dates)],
                                env=old.env.env(), cwd=old.env.home, capture_output=True, text=True, check=False)  # fmt: skip
        assert filled.returncode == 0, filled.stderr[-2000:]
        old.env.cli_batch([["dags", "unpause", f"bench_{i:03d}"] for i in range(args.dags)])
        new.env.extra_env.update({"AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
                                  "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10"})  # fmt: skip
        log = (root / "dag-processor.log").open("wb")
        processor = subprocess.Popen([str(new.env.runtime.bin_dir / "airflow"), "dag-processor"], env=new.env.env(),
                                     cwd=new.env.home, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        stack.callback(stop_process_group, processor)
        # The old side's scheduler re-parses the DAGs (its next runs are recomputed after a rollback).
        old.env.extra_env.update({"AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
                                  "AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL": "10"})  # fmt: skip
        old_log = (root / "scheduler.log").open("wb")
        scheduler = subprocess.Popen([str(old.env.runtime.bin_dir / "airflow"), "scheduler"], env=old.env.env(),
                                     cwd=old.env.home, stdout=old_log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        stack.callback(stop_process_group, scheduler)
        (root / "old-db.url").write_text(old.db_url)
        (root / "new-db.url").write_text(new.db_url)
        plan = root / "cutover.toml"
        plan.write_text(
            f'[old]\nurl = "{old.base_url}"\nuser = "{old.user}"\npassword_file = "{old.password_file}"\n'
            f'db_url_file = "old-db.url"\n[new]\nurl = "{new.base_url}"\nuser = "admin"\n'
            f'password_file = "{new.password_file}"\ndb_url_file = "new-db.url"\n'
            f"[cutover]\nparallelism = {args.parallelism}\nconfirm_timeout = 600\n"
            '[[waves]]\nname = "bench"\nglobs = ["bench_*"]\n'
        )
        journal = root / "cutover.journal.sqlite"
        airshift = [sys.executable, "-m", "airshift", "cutover"]
        results = []
        rounds = (
            ("cutover run (1st)", [*airshift, "run", "--wave", "1", "--allow-unverified"], "cutover"),
            ("cutover rollback", [*airshift, "rollback", "--wave", "1"], "rollback"),
            ("cutover run (2nd)", [*airshift, "run", "--wave", "1", "--allow-unverified"], "cutover"),
        )[: args.rounds]
        for label, command, action in rounds:
            before = last_id(journal)
            began = dt.datetime.now(dt.timezone.utc)
            seconds, completed = timed([*command, "--plan", str(plan)])
            if completed.returncode != 0:
                print(completed.stdout[-3000:], completed.stderr[-3000:])
                raise SystemExit(f"{label} failed")
            medians = step_medians(journal, action, before)
            medians["checks"] = (first_step_at(journal, before) - began).total_seconds()
            results.append((label, seconds, medians))
            # Printed at once, so a failure later (the floor, the next round) does not lose the figures.
            per_step = ", ".join(f"{name} {medians.get(name, 0):.1f}" for name in STEPS)
            print(f"{label}: {seconds:.1f} s; checks (s before the first step), then median s per DAG: {per_step}",
                  flush=True)  # fmt: skip
        floor_runs = []
        for _ in range(3):
            seconds, completed = timed([sys.executable, "-c", FLOOR, old.base_url, old.user, old.auth[1],
                                        new.base_url, "admin", new.password_file.read_text().strip(), str(args.dags)])  # fmt: skip
            assert completed.returncode == 0, completed.stderr[-2000:]
            floor_runs.append(seconds)
    print()
    print(f"{args.dags} DAGs, parallelism {args.parallelism}, load {os.getloadavg()[0]:.1f}")
    print(
        f"{'command':22} {'seconds':>8} {'DAGs/min':>9}  checks (s before the first step), then median s per DAG"
    )
    for label, seconds, medians in results:
        per_step = ", ".join(f"{name} {medians.get(name, 0):.1f}" for name in STEPS)
        print(f"{label:22} {seconds:8.1f} {args.dags / seconds * 60:9.0f}  {per_step}")
    floor = statistics.median(floor_runs)
    print(f"{'floor (pause+unpause)':22} {floor:8.1f} {args.dags / floor * 60:9.0f}  "
          f"spread {min(floor_runs):.1f}-{max(floor_runs):.1f} s over {len(floor_runs)} runs")  # fmt: skip


if __name__ == "__main__":
    main()
