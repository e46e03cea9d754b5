"""Run one DAG end to end through a live Airflow 3 api-server (the /api/v2 calls every deploy test makes)."""

from __future__ import annotations

import time

import httpx


def run_dag_to_the_end(api: str, dag_id: str, timeout: float = 600) -> str:
    """Wait until the DAG processor registered `dag_id`, unpause it, trigger a run and wait for it to finish;
    returns the run id. Fails the test if the run does not succeed within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while httpx.get(f"{api}/dags/{dag_id}", timeout=30).status_code != 200:
        assert time.monotonic() < deadline, "the DAG processor never registered the DAG"
        time.sleep(3)
    unpaused = httpx.patch(f"{api}/dags/{dag_id}", json={"is_paused": False}, timeout=30)
    assert unpaused.status_code == 200, unpaused.text
    created = httpx.post(f"{api}/dags/{dag_id}/dagRuns", json={"logical_date": None}, timeout=30)
    assert created.status_code == 200, created.text
    run_id: str = created.json()["dag_run_id"]
    state = "queued"
    while state not in ("success", "failed"):
        assert time.monotonic() < deadline, f"the run stayed {state}"
        time.sleep(3)
        try:
            state = httpx.get(f"{api}/dags/{dag_id}/dagRuns/{run_id}", timeout=30).json()["state"]
        except httpx.TimeoutException:
            continue  # a loaded machine: an api-server busy with the run answers late; ask again
    assert state == "success"
    return run_id
