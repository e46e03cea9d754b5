"""`airshift cutover` to an Airflow 3.3.2 reached by its REST API only: the plan gives the new side no
metadata database (as on MWAA, Astronomer or Cloud Composer), so no history can be copied and
continuity comes from marker runs. Old side: a live 2.11.2 (webserver with /api/v1, scheduler, on
PostgreSQL); new side: the live 3.3.2 the cutover tests share (api-server, dag-processor, scheduler).
Both schedulers run for the whole test.

One wave, switched in one `cutover run`:
- `rest_catchup` (every minute, catchup=True): continuity `backfill-marker`;
- `rest_nocatchup` (every minute, catchup=False): continuity `manual-marker`;
- `rest_dop` (every minute, catchup=True, a task with depends_on_past): Airflow 3 refuses the backfill
  marker, so the switch fails safely: given back to the old side, which keeps scheduling it.
Plus one never-switched control DAG per side (to tell a loaded scheduler's own skipped tick from a
switch's).

What must hold (the test reads both metadata databases itself; airshift never sees the new one): the
first scheduled run on the new side is the interval right after the old side's last (catchup), or a
later one only when ticks fell due while neither side could schedule it (catchup=False: Airflow runs the
latest); over both sides no interval ran twice and none was missed (the checks of test_cutover.py, the
marker runs excluded: they mark an interval, they do not run it); the markers' task instances never
reached a worker; placing a backfill marker again reuses the first; a rollback into 2.11 (no copy
possible) is refused before anything is paused.
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from airshift.cutover.airflow_rest import connect_side
from airshift.cutover.continuity import backfill_marker
from airshift.cutover.journal import open_journal
from airshift.cutover.plan import load_plan
from tests.integration.test_cutover import (
    MINUTE,
    UTC,
    Estate,
    Run,
    Spec,
    _env_for_scheduling,
    background,
    dag_file,
    distinct_automated,
    expected_problems,
    read_runs,
    wait_for,
)
from tests.state.airflow2_webserver import airflow2_webserver
from tests.state.airflow3_target import Target

pytestmark = pytest.mark.integration

SPECS = [
    Spec("rest_catchup", '"* * * * *"', True, MINUTE),
    Spec("rest_nocatchup", '"* * * * *"', False, MINUTE),
    Spec("rest_ctl_old", '"* * * * *"', False, MINUTE, in_wave=False, control="old"),
    Spec("rest_ctl_new", '"* * * * *"', False, MINUTE, in_wave=False, control="new"),
]
CONTROLS: dict[str | None, str] = {s.control: s.dag_id for s in SPECS if s.control}
DOP = "rest_dop"
WAVE = ["rest_catchup", "rest_nocatchup", DOP]


def dags(version: int, start: dt.datetime) -> str:
    """test_cutover's DAG file for SPECS, plus a DAG whose task depends on its past."""
    operator = "airflow.operators.empty" if version == 2 else "airflow.providers.standard.operators.empty"
    return dag_file(version, start, SPECS) + textwrap.dedent(
        f"""
        from {operator} import EmptyOperator as _Empty

        with DAG({DOP!r}, start_date=START, schedule="* * * * *", catchup=True, max_active_runs=1) as _dop:
            _Empty(task_id="step", depends_on_past=True)
        """
    )


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory, cutover_new_side: Target) -> Iterator[Estate]:
    root = tmp_path_factory.mktemp("cutover-rest")
    start = dt.datetime.now(UTC).replace(second=0, microsecond=0) - 2 * MINUTE
    new = cutover_new_side
    with ExitStack() as stack:
        old = stack.enter_context(airflow2_webserver(root / "old", dags=dags(2, start)))
        new.add_dag_file("cutover_rest", dags(3, start), [*WAVE, "rest_ctl_old", "rest_ctl_new"])
        _env_for_scheduling(old.env, 2)
        stack.enter_context(background(old.env, "scheduler"))
        (root / "old-db.url").write_text(old.db_url)
        plan = root / "cutover.toml"
        plan.write_text(
            textwrap.dedent(
                f"""\
                [old]
                name = "af211"
                url = "{old.base_url}"
                user = "{old.user}"
                password_file = "{old.password_file}"
                db_url_file = "old-db.url"

                [new]                       # REST only: no db_url_file / db_url_env
                name = "af33-rest"
                url = "{new.base_url}"
                user = "admin"
                password_file = "{new.password_file}"

                [cutover]
                journal = "journal.sqlite"
                drain_timeout = 120
                confirm_timeout = 150
                parallelism = 3

                [[waves]]
                name = "rest"
                dag_ids = {json.dumps(WAVE)}
                """
            )
        )
        yield Estate(old, new, plan, root / "journal.sqlite", start,
                     [old.auth[1], new.password_file.read_text().strip()])  # fmt: skip


def new_api(estate: Estate, method: str, path: str, **kwargs: object) -> httpx.Response:
    token = httpx.post(
        f"{estate.new.base_url}/auth/token",
        json={"username": "admin", "password": estate.new.password_file.read_text().strip()},
        timeout=60,
    ).json()["access_token"]
    return httpx.request(method, f"{estate.new.base_url}/api/v2{path}", timeout=60,
                         headers={"Authorization": f"Bearer {token}"}, **kwargs)  # type: ignore[arg-type]  # fmt: skip


def markers(journal_path: Path) -> dict[str, str]:
    """DAG id -> the marker run the cutover made for it (from the journal's `marked` steps)."""
    with open_journal(journal_path) as journal:
        found = {}
        for step in journal.steps():
            if step.step == "marked" and step.status == "ok" and step.detail.get("marker_run_id"):
                found[step.dag_id] = str(step.detail["marker_run_id"])
    return found


def finished(runs: list[Run], side: str, dag_id: str, after: dt.datetime | None = None) -> list[Run]:
    return [
        r for r in runs
        if r.side == side and r.dag_id == dag_id and r.run_type == "scheduled" and r.state in ("success", "failed")
        and (after is None or (r.due is not None and r.due > after))
    ]  # fmt: skip


def test_rest_only_new_side_neither_misses_nor_doubles_a_run(estate: Estate) -> None:
    began = time.monotonic()
    for dag_id in [*WAVE, "rest_ctl_old"]:
        assert estate.old_api("PATCH", f"/dags/{dag_id}", params={"update_mask": "is_paused"},
                              json={"is_paused": False}).status_code == 200  # fmt: skip
    assert new_api(estate, "PATCH", "/dags/rest_ctl_new", json={"is_paused": False}).status_code == 200

    def old_side_ran() -> bool:
        runs = read_runs(estate)
        return len(finished(runs, "old", "rest_catchup")) >= 2 and all(
            finished(runs, "old", d) for d in ("rest_nocatchup", DOP)
        )

    wait_for(old_side_ran, 240, "the old side's first runs")

    plan = estate.airshift("cutover", "plan", "--wave", "rest", "--allow-unverified", "--format", "json")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    methods = {d["dag_id"]: d["continuity"] for d in json.loads(plan.stdout)["dags"]}
    # depends_on_past is not visible before the backfill is asked for: Airflow 3 refuses it then
    assert methods == {
        "rest_catchup": "backfill-marker",
        "rest_nocatchup": "manual-marker",
        DOP: "backfill-marker",
    }

    run = estate.airshift("cutover", "run", "--wave", "rest", "--allow-unverified", timeout=600)
    output = run.stdout + run.stderr
    assert run.returncode == 1, output  # rest_dop failed (given back); the others switched
    assert "2 switched, 0 already done, 1 failed" in run.stdout, output

    with open_journal(estate.journal) as journal:
        owners = {d: o.side for d, o in journal.ownership().items()}
        dop_failed = journal.last_step(DOP, "marked")
        dop_returned = journal.last_step(DOP, "returned")
        marked = {d: journal.last_step(d, "marked") for d in ("rest_catchup", "rest_nocatchup")}
    assert owners == {"rest_catchup": "new", "rest_nocatchup": "new", DOP: "old"}
    assert (
        dop_failed is not None and dop_failed.status == "failed" and "depends_on_past" in dop_failed.message
    )
    assert dop_returned is not None and dop_returned.status == "ok"
    assert "depends_on_past" in output
    for dag_id, method in (("rest_catchup", "backfill-marker"), ("rest_nocatchup", "manual-marker")):
        step = marked[dag_id]
        assert step is not None and step.detail["method"] == method, step

    # The marker runs: success on the new side, of the kind the method says, no task of theirs ran.
    marker_ids = markers(estate.journal)
    assert "rest_catchup" in marker_ids, marked
    expected = {"rest_catchup": "backfill", "rest_nocatchup": "manual"}
    for dag_id, run_id in marker_ids.items():  # rest_nocatchup: none when a tick fell due meanwhile
        marker = new_api(estate, "GET", f"/dags/{dag_id}/dagRuns/{run_id}").json()
        assert (marker["run_type"], marker["state"]) == (expected[dag_id], "success"), marker
        tis = new_api(estate, "GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances").json()[
            "task_instances"
        ]
        # finished from outside (3.3.2 reports an EmptyOperator's as skipped): no worker took them
        ran = [ti for ti in tis if ti["state"] not in ("success", "skipped") or ti["hostname"] or ti["pid"]
               or ti["try_number"]]  # fmt: skip
        assert tis and not ran, json.dumps(tis)

    # Placing the backfill marker again (what a cutover killed before journalling `marked` does when it
    # resumes) finds the one made and creates nothing: still one backfill, one run at that date.
    step = marked["rest_catchup"]
    assert step is not None
    at = dt.datetime.fromisoformat(step.detail["marker_logical_date"])
    with connect_side(load_plan(estate.plan), "new") as client:
        last = client.runs_at("rest_catchup", at)[0]
        again = backfill_marker(
            client, "rest_catchup", last, dt.datetime.fromisoformat(step.detail["last_due"]), "new"
        )
        assert again.run_id == marker_ids["rest_catchup"]
        assert [r.run_id for r in client.runs_at("rest_catchup", at)] == [again.run_id]
    backfills = new_api(estate, "GET", "/backfills", params={"dag_id": "rest_catchup"}).json()
    assert backfills["total_entries"] == 1, backfills

    # The new side schedules: wait for two scheduled runs of each switched DAG to finish there (the
    # second shows the schedule goes on after the tick the scheduler skipped for a manual marker).
    def new_side_ran() -> bool:
        runs = read_runs(estate)
        return all(len(finished(runs, "new", d)) >= 2 for d in ("rest_catchup", "rest_nocatchup"))

    wait_for(new_side_ran, 210, "the new side's first two scheduled runs")
    runs = [r for r in read_runs(estate) if not (r.side == "new" and r.run_id in marker_ids.values())]

    # First run on the new side = the interval right after the old side's last one (catchup).
    old_last = {
        d: max(r.due for r in finished(runs, "old", d) if r.due) for d in ("rest_catchup", "rest_nocatchup")
    }
    first_new = {
        d: min(r.due for r in finished(runs, "new", d) if r.due) for d in ("rest_catchup", "rest_nocatchup")
    }
    assert first_new["rest_catchup"] == old_last["rest_catchup"] + MINUTE, (old_last, first_new)
    assert first_new["rest_nocatchup"] > old_last["rest_nocatchup"], (old_last, first_new)

    # Over both sides: nothing twice, nothing missed (catchup=False: Airflow's own collapse allowed).
    until = dt.datetime.now(UTC)
    problems = []
    for spec in SPECS[:2]:
        problems += expected_problems(spec, runs, estate.journal, until, CONTROLS)
    assert not problems, "\n".join(problems)
    # The DAG given back never ran on schedule on the new side, and its old scheduler runs it again.
    assert not distinct_automated([r for r in runs if r.side == "new"], DOP)
    wait_for(lambda: finished(read_runs(estate), "old", DOP, after=dop_returned.at), 120,
             "the old side running the DAG given back")  # fmt: skip

    # The scheduler closed the marker's backfill (a later switch of the DAG may need a new one).
    closed = new_api(estate, "GET", "/backfills", params={"dag_id": "rest_catchup"}).json()["backfills"]
    assert [b["completed_at"] is not None for b in closed] == [True], closed

    # A rollback into the 2.11 old side cannot continue the schedule without the new side's database:
    # refused before anything is paused, and the DAG stays on the new side, active.
    rollback = estate.airshift("cutover", "rollback", "--dag", "rest_catchup", timeout=300)
    assert rollback.returncode == 1, rollback.stdout + rollback.stderr
    assert "the old side is Airflow 2 and the new side's metadata database is not in the plan" in " ".join(
        rollback.stdout.split()
    ), rollback.stdout
    with open_journal(estate.journal) as journal:
        assert journal.owner_of("rest_catchup") == "new"
        assert not [
            s for s in journal.steps("rest_catchup") if s.action == "rollback" and s.step == "paused_from"
        ]
    assert new_api(estate, "GET", "/dags/rest_catchup").json()["is_paused"] is False

    output_all = output + plan.stdout + rollback.stdout
    for secret in estate.secrets:
        assert secret not in output_all
    print(f"test_cutover_rest: {time.monotonic() - began:.0f} s after the fixtures")
