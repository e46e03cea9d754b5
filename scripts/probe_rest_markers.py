"""Probe how a live Airflow 3 answers the REST calls `cutover` uses for marker runs, and how long its
dag-processor takes to take a marker into account. Prints one JSON object per observation.

    python scripts/probe_rest_markers.py --start
        starts a throwaway Airflow 3.3.2 (api-server, dag-processor, scheduler on a new PostgreSQL
        database at 127.0.0.1:5432, with the test suite's helpers; run from the repository root) with
        three paused DAGs scheduled every minute, probes it, and stops it;
    python scripts/probe_rest_markers.py --url URL --user U --password-file F
        probes a running Airflow 3 that already has the three DAGs (see DAGS below), paused.

What is probed, each DAG paused throughout:
1. `probe_catchup` (catchup=True): POST /api/v2/backfills for exactly the last past tick; the runs it
   made; PATCH the run to success; then GET /api/v2/dags/{id} every second: when last_parsed_time moves
   and when next_dagrun_logical_date moves past the marker.
2. `probe_nocatchup` (catchup=False): read next_dagrun_logical_date N, POST a manual run at exactly N,
   PATCH it to success; then the same polling, across the next tick: N only moves once a parse after the
   next tick has happened (manual runs do not count).
3. `probe_dop` (catchup=True, depends_on_past task): POST /api/v2/backfills; the status and error
   Airflow answers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import textwrap
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

UTC = dt.timezone.utc
DAGS = textwrap.dedent(
    """\
    from datetime import datetime, timedelta, timezone
    from airflow.sdk import DAG
    from airflow.providers.standard.operators.empty import EmptyOperator

    START = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=5)
    for dag_id, catchup, dop in (("probe_catchup", True, False), ("probe_nocatchup", False, False),
                                 ("probe_dop", True, True)):
        with DAG(dag_id, start_date=START, schedule="* * * * *", catchup=catchup, max_active_runs=1) as dag:
            EmptyOperator(task_id="noop", depends_on_past=dop)
        globals()[dag_id] = dag
    """
)


def emit(**fields: Any) -> None:
    print(
        json.dumps({"at": dt.datetime.now(UTC).isoformat(timespec="seconds"), **fields}, default=str),
        flush=True,
    )


class Api:
    def __init__(self, base: str, user: str, password: str) -> None:
        token = httpx.post(f"{base}/auth/token", json={"username": user, "password": password}, timeout=60)
        token.raise_for_status()
        self.client = httpx.Client(
            base_url=f"{base}/api/v2", timeout=60,
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        )  # fmt: skip

    def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        response = self.client.request(method, path, **kwargs)
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, response.text

    def dag(self, dag_id: str) -> dict[str, Any]:
        status, body = self.call("GET", f"/dags/{dag_id}")
        assert status == 200, (status, body)
        return dict(body)


def last_tick() -> dt.datetime:
    return dt.datetime.now(UTC).replace(second=0, microsecond=0) - dt.timedelta(minutes=1)


def watch(api: Api, dag_id: str, since: float, until: float, stop_after: str | None) -> None:
    """Poll a DAG every second and emit each change of last_parsed_time / next_dagrun_logical_date."""
    seen: tuple[Any, Any] = (None, None)
    while time.monotonic() < until:
        dag = api.dag(dag_id)
        now = (dag.get("last_parsed_time"), dag.get("next_dagrun_logical_date"))
        if now != seen:
            emit(dag_id=dag_id, event="dag", seconds=round(time.monotonic() - since, 1),
                 last_parsed_time=now[0], next_dagrun_logical_date=now[1])  # fmt: skip
            if stop_after is not None and seen[0] is not None and now[1] and now[1] > stop_after:
                return
            seen = now
        time.sleep(1)


def probe(api: Api, watch_seconds: float) -> None:
    for dag_id in ("probe_catchup", "probe_nocatchup", "probe_dop"):
        dag = api.dag(dag_id)
        emit(dag_id=dag_id, event="start", is_paused=dag["is_paused"],
             next_dagrun_logical_date=dag.get("next_dagrun_logical_date"), last_parsed_time=dag.get("last_parsed_time"))  # fmt: skip

    # 1. backfill marker
    tick = last_tick().isoformat()
    began = time.monotonic()
    status, body = api.call("POST", "/backfills", json={"dag_id": "probe_catchup", "from_date": tick, "to_date": tick,
                                                         "reprocess_behavior": "none", "max_active_runs": 1})  # fmt: skip
    emit(dag_id="probe_catchup", event="backfill", status=status, body=body, tick=tick)
    status, runs = api.call(
        "GET", "/dags/probe_catchup/dagRuns", params={"logical_date_gte": tick, "logical_date_lte": tick}
    )
    emit(dag_id="probe_catchup", event="runs", runs=[(r["dag_run_id"], r["run_type"], r["state"], r["start_date"])
                                                     for r in runs.get("dag_runs", [])])  # fmt: skip
    time.sleep(15)  # does a queued backfill run of a paused DAG stay queued?
    status, runs = api.call(
        "GET", "/dags/probe_catchup/dagRuns", params={"logical_date_gte": tick, "logical_date_lte": tick}
    )
    emit(dag_id="probe_catchup", event="runs after 15 s",
         runs=[(r["dag_run_id"], r["run_type"], r["state"], r["start_date"]) for r in runs.get("dag_runs", [])])  # fmt: skip
    for run in runs.get("dag_runs", []):
        status, patched = api.call(
            "PATCH", f"/dags/probe_catchup/dagRuns/{run['dag_run_id']}", json={"state": "success"}
        )
        emit(dag_id="probe_catchup", event="patched", status=status, state=patched.get("state"),
             start_date=patched.get("start_date"))  # fmt: skip
    watch(api, "probe_catchup", began, time.monotonic() + watch_seconds, stop_after=tick)

    # 2. manual marker at the next logical date
    dag = api.dag("probe_nocatchup")
    next_date = dag["next_dagrun_logical_date"]
    began = time.monotonic()
    status, run = api.call("POST", "/dags/probe_nocatchup/dagRuns",
                           json={"dag_run_id": f"probe_marker__{next_date}", "logical_date": next_date, "conf": {}})  # fmt: skip
    emit(dag_id="probe_nocatchup", event="manual", status=status, logical_date=next_date,
         run=(run.get("dag_run_id"), run.get("run_type"), run.get("state")) if isinstance(run, dict) else run)  # fmt: skip
    if status == 200:
        status, patched = api.call(
            "PATCH", f"/dags/probe_nocatchup/dagRuns/{run['dag_run_id']}", json={"state": "success"}
        )
        emit(dag_id="probe_nocatchup", event="patched", status=status, state=patched.get("state"))
    watch(api, "probe_nocatchup", began, time.monotonic() + watch_seconds + 60, stop_after=next_date)

    # 3. depends_on_past
    tick = last_tick().isoformat()
    status, body = api.call("POST", "/backfills", json={"dag_id": "probe_dop", "from_date": tick, "to_date": tick,
                                                         "reprocess_behavior": "none", "max_active_runs": 1})  # fmt: skip
    emit(dag_id="probe_dop", event="backfill", status=status, body=body)


def start_and_probe(watch_seconds: float) -> None:
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.integration.test_cutover import _env_for_scheduling, background
    from tests.state.airflow3_target import airflow3_target

    with tempfile.TemporaryDirectory(prefix="probe-markers-") as home, ExitStack() as stack:
        target = stack.enter_context(airflow3_target(Path(home), dags=DAGS))
        _env_for_scheduling(target.env, 3)
        stack.enter_context(background(target.env, "dag-processor"))
        stack.enter_context(background(target.env, "scheduler"))
        emit(event="airflow", version="3.3.2", settings={k: v for k, v in target.env.extra_env.items()
                                                          if "INTERVAL" in k or "HEARTBEAT" in k})  # fmt: skip
        time.sleep(10)  # the dag-processor's first parse with the running scheduler
        probe(Api(target.base_url, "admin", target.password_file.read_text().strip()), watch_seconds)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--start", action="store_true", help="start a throwaway Airflow 3.3.2 and probe it")
    parser.add_argument("--url")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password-file", type=Path)
    parser.add_argument("--watch", type=float, default=90, help="seconds to watch each DAG after its marker")
    args = parser.parse_args()
    if args.start:
        start_and_probe(args.watch)
    elif args.url and args.password_file:
        probe(Api(args.url.rstrip("/"), args.user, args.password_file.read_text().strip()), args.watch)
    else:
        parser.error("give --start, or --url and --password-file")


if __name__ == "__main__":
    main()
