"""The router benchmark: what `airshift route serve` adds over calling Airflow 3.3.2 directly.

    python benchmarks/route_bench.py [--requests 300] [--rounds 3] [--threads 8] [--markdown FILE]

One real 3.3.2 api-server (simple auth manager, PostgreSQL) and one `airshift route serve` process in
front of it, as users run them. The journal says the new side (the api-server) owns the DAG; the plan's
old side is the same api-server, so the router's check of the other side for a repeated run id costs
what it costs against a real second Airflow (one GET), without starting a second one.

Side by side in each round, interleaved so drift hits both equally:
1. trigger, sequential: `POST /api/v2/dags/etl_daily/dagRuns` (a new run id each time), one client with
   keep-alive; latency p50 / p99 and requests per second, direct and through the router;
2. trigger, concurrent: the same with `--threads` clients at once (requests per second);
3. status read: `GET /api/v2/dags/etl_daily/dagRuns/{id}`, sequential.
The floor is the direct call. Reported: median over rounds and the spread (min-max). No timing is
asserted anywhere: a benchmark reports.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402

from airshift.cutover.journal import open_journal  # noqa: E402
from tests.state.airflow3_target import airflow3_target  # noqa: E402
from tests.state.airflow_envs import free_port, stop_process_group  # noqa: E402

TOKEN = "route-benchmark-token-0123456789"
DAG = "etl_daily"


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _sequential(
    call: Callable[[httpx.Client, int], httpx.Response], client: httpx.Client, count: int
) -> dict[str, float]:
    latencies = []
    started = time.perf_counter()
    for index in range(count):
        begin = time.perf_counter()
        response = call(client, index)
        latencies.append(time.perf_counter() - begin)
        if response.status_code != 200:
            raise SystemExit(f"unexpected HTTP {response.status_code}: {response.text[:300]}")
    elapsed = time.perf_counter() - started
    return {
        "p50_ms": _percentile(latencies, 0.5) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
        "rps": count / elapsed,
    }


def _concurrent(
    call: Callable[[httpx.Client, int], httpx.Response],
    make: Callable[[], httpx.Client],
    count: int,
    threads: int,
) -> float:
    clients = [make() for _ in range(threads)]
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        statuses = list(pool.map(lambda i: call(clients[i % threads], i).status_code, range(count)))
    elapsed = time.perf_counter() - started
    for client in clients:
        client.close()
    bad = [s for s in statuses if s != 200]
    if bad:
        raise SystemExit(f"{len(bad)} concurrent calls failed (first HTTP {bad[0]})")
    return count / elapsed


def _trigger(prefix: str) -> Callable[[httpx.Client, int], httpx.Response]:
    def call(client: httpx.Client, index: int) -> httpx.Response:
        run_id = f"{prefix}-{uuid.uuid4().hex[:12]}"
        return client.post(f"/api/v2/dags/{DAG}/dagRuns", json={"dag_run_id": run_id, "logical_date": None})

    return call


def _read(run_id: str) -> Callable[[httpx.Client, int], httpx.Response]:
    return lambda client, _index: client.get(f"/api/v2/dags/{DAG}/dagRuns/{run_id}")


def _start_router(tmp: Path, base_url: str, password_file: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    (tmp / "plan.toml").write_text(
        f"""
[old]
url = "{base_url}"
api = "v2"
user = "admin"
password_file = "{password_file}"

[new]
url = "{base_url}"
api = "v2"
user = "admin"
password_file = "{password_file}"

[cutover]
journal = "journal.sqlite"

[[waves]]
name = "bench"
dag_ids = ["{DAG}"]
""",
        encoding="utf-8",
    )
    with open_journal(tmp / "journal.sqlite") as journal:
        journal.record_step(DAG, "switched", wave="bench", owner="new")
    (tmp / "tokens").write_text(f"bench {TOKEN}\n")
    log = (tmp / "router.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "airshift", "route", "serve", "--plan", str(tmp / "plan.toml"), "--port", str(port),
         "--tokens-file", str(tmp / "tokens")],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if (
                httpx.get(
                    f"{url}/api/experimental/test", headers={"Authorization": f"Bearer {TOKEN}"}
                ).status_code
                == 200
            ):
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    stop_process_group(process)
    raise SystemExit("the router did not start; see " + str(tmp / "router.log"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=300, help="calls per measurement and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="route-bench-") as scratch:
        tmp = Path(scratch)
        _log("starting Airflow 3.3.2 api-server ...")
        with airflow3_target(tmp / "airflow") as target:
            jwt = httpx.post(f"{target.base_url}/auth/token", json={"username": "admin",
                             "password": target.password_file.read_text().strip()}).json()["access_token"]  # fmt: skip
            router, router_url = _start_router(tmp, target.base_url, target.password_file)
            try:
                sides = {
                    "direct": (target.base_url, {"Authorization": f"Bearer {jwt}"}),
                    "router": (router_url, {"Authorization": f"Bearer {TOKEN}"}),
                }

                def make(side: str) -> Callable[[], httpx.Client]:
                    base, headers = sides[side]
                    return lambda: httpx.Client(base_url=base, headers=headers, timeout=120)

                results: dict[str, dict[str, list[float]]] = {s: {} for s in sides}
                for warm in sides:  # first calls pay for connections, logins and caches
                    with make(warm)() as client:
                        _sequential(_trigger("warm"), client, 10)
                for round_number in range(1, args.rounds + 1):
                    order = list(sides) if round_number % 2 else list(reversed(sides))
                    for side in order:
                        with make(side)() as client:
                            seq = _sequential(_trigger(f"{side}-seq"), client, args.requests)
                            created = client.post(f"/api/v2/dags/{DAG}/dagRuns",
                                                  json={"dag_run_id": f"{side}-read-{round_number}-{uuid.uuid4().hex[:6]}",
                                                        "logical_date": None}).json()["dag_run_id"]  # fmt: skip
                            read = _sequential(_read(created), client, args.requests)
                        rps = _concurrent(_trigger(f"{side}-par"), make(side), args.requests, args.threads)
                        for key, value in {**{f"trigger {k}": v for k, v in seq.items()},
                                           **{f"read {k}": v for k, v in read.items()},
                                           f"trigger rps x{args.threads}": rps}.items():  # fmt: skip
                            results[side].setdefault(key, []).append(value)
                        _log(f"round {round_number} {side}: trigger p50 {seq['p50_ms']:.1f} ms, "
                             f"{seq['rps']:.1f}/s; x{args.threads} {rps:.1f}/s; read p50 {read['p50_ms']:.1f} ms")  # fmt: skip
            finally:
                stop_process_group(router, grace=10)

    lines = [
        f"Router benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.machine()}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; {args.requests} calls x {args.rounds} rounds; "
        "median (min-max) over rounds",
        "",
        "| measure | direct to 3.3.2 | through airshift route | router / direct |",
        "|---|---|---|---|",
    ]
    for key in results["direct"]:
        direct, routed = results["direct"][key], results["router"][key]
        d, r = statistics.median(direct), statistics.median(routed)
        lines.append(
            f"| {key} | {d:.1f} ({min(direct):.1f}-{max(direct):.1f}) | {r:.1f} ({min(routed):.1f}-{max(routed):.1f}) "
            f"| {r / d:.2f}x |"
        )
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
