"""`airshift cutover` from a live Airflow 1.10.15 (webserver with the experimental API, scheduler with
the LocalExecutor, on PostgreSQL) to a live Airflow 3.3.2 (api-server, scheduler, dag-processor, on
PostgreSQL). Every scheduler runs for the whole test, so the switch happens while both are scheduling
every minute.

One wave of eight DAGs: cron every minute with and without catchup, cron every two minutes without
catchup, a timedelta schedule with catchup, `@once`, manual only, one paused, one whose run is in flight
when the switch starts, plus two never-switched control DAGs (one per side). 1.10's API cannot list
DAGs, so the wave lists ids (a wave with globs is refused with a reason). The cutover process is
SIGKILLed after its first copy and resumed. After the new side has scheduled for a while the wave is
rolled back: the new side's runs are carried back into 1.10's `dag_run` (runs only: the journal and
the output say that task instances are not), and 1.10's scheduler continues from them.

What must hold is what tests/integration/test_cutover.py checks for 2.11 (see there): over the runs of
both databases together no interval ran twice and none was missed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from airshift.cutover.journal import open_journal
from tests.integration.test_cutover import (
    MINUTE,
    UTC,
    Run,
    Spec,
    _utc,
    assert_interval_rerun_by_new_side,
    assert_paused_as_owned,
    background,
    dag_file,
    distinct_automated,
    expected_problems,
    hand_over,
    sleep_until_ticks,
    switch_killed_after_first_copy,
    wait_for,
)
from tests.state.airflow3_target import Target
from tests.state.airflow110_webserver import Webserver110, airflow110_webserver

pytestmark = pytest.mark.integration

SPECS = [
    Spec("a110_cron_catchup", '"* * * * *"', True, MINUTE),
    Spec("a110_cron_nocatchup", '"* * * * *"', False, MINUTE),
    Spec("a110_cron2_nocatchup", '"*/2 * * * *"', False, 2 * MINUTE),
    Spec("a110_delta_catchup", "timedelta(minutes=1)", True, MINUTE),
    Spec("a110_once", '"@once"', True, None),
    Spec("a110_manual_only", "None", False, None),
    Spec("a110_paused_cron", '"* * * * *"', True, MINUTE, paused=True),
    Spec("a110_inflight", '"* * * * *"', False, MINUTE, sleep=12),
    # Its own wave, switched with the hand-over policy while its run is in flight: on 1.10 its task sleeps
    # far longer than the test, on the new side (which reruns the interval) one second.
    Spec("a110_handover", '"* * * * *"', True, MINUTE, sleep=900, in_wave=False),
    Spec("a110_outside_wave", '"* * * * *"', False, MINUTE, in_wave=False, control="old"),
    Spec("a110_new_only", '"* * * * *"', False, MINUTE, in_wave=False, control="new"),
]
CONTROLS = {s.control: s.dag_id for s in SPECS if s.control}
WAVE = [s.dag_id for s in SPECS if s.in_wave]
BY_ID = {s.dag_id: s for s in SPECS}


def dag_file_110(start: dt.datetime) -> str:
    body = "\n".join(f"make({s.dag_id!r}, {s.schedule}, {s.catchup}, {s.sleep})" for s in SPECS)
    return (
        textwrap.dedent(
            f"""\
            from datetime import datetime, timedelta
            from airflow import DAG
            from airflow.operators.bash_operator import BashOperator
            from airflow.operators.dummy_operator import DummyOperator

            START = datetime({start.year}, {start.month}, {start.day}, {start.hour}, {start.minute})  # UTC


            def make(dag_id, schedule, catchup, sleep):
                dag = DAG(dag_id, start_date=START, schedule_interval=schedule, catchup=catchup,
                          max_active_runs=1)
                with dag:
                    if sleep:
                        BashOperator(task_id="work", bash_command="sleep {{}}".format(sleep))
                    else:
                        DummyOperator(task_id="noop")
                globals()[dag_id] = dag


            """
        )
        + body
        + "\n"
    )


@dataclass
class Estate110:
    old: Webserver110
    new: Target
    plan: Path
    journal: Path

    def airshift(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "airshift", *args, "--plan", str(self.plan)],
            capture_output=True, text=True, timeout=timeout, check=False,
            env={**os.environ, "COLUMNS": "200", "AIRSHIFT_DEBUG": ""},
        )  # fmt: skip

    def old_api(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        return httpx.request(method, f"{self.old.base_url}/api/experimental{path}", timeout=60, **kwargs)  # type: ignore[arg-type]

    def new_token(self) -> str:
        answer = httpx.post(
            f"{self.new.base_url}/auth/token",
            json={"username": "admin", "password": self.new.password_file.read_text().strip()},
        )
        return str(answer.json()["access_token"])


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory, cutover_new_side: Target) -> Iterator[Estate110]:
    root = tmp_path_factory.mktemp("cutover110")
    start = dt.datetime.now(UTC).replace(second=0, microsecond=0) - 3 * MINUTE
    new = cutover_new_side  # shared with the other cutover tests (their DAG ids differ)
    with ExitStack() as stack:
        old = stack.enter_context(airflow110_webserver(root / "old", dag_file_110(start)))
        new_specs = [dataclasses.replace(s, sleep=1) if s.dag_id == "a110_handover" else s for s in SPECS]
        new.add_dag_file("cutover_110", dag_file(3, start, new_specs), [s.dag_id for s in SPECS])
        old.env.extra_env.update(
            {"AIRFLOW__CORE__EXECUTOR": "LocalExecutor", "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
             "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5", "AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL": "10",
             "AIRFLOW__SCHEDULER__MAX_THREADS": "1", "AIRFLOW__CORE__PARALLELISM": "4"}
        )  # fmt: skip
        stack.enter_context(background(old.env, "scheduler"))
        (root / "new-db.url").write_text(new.db_url)
        (root / "old-db.url").write_text(old.db_url)
        plan = root / "cutover.toml"
        plan.write_text(
            textwrap.dedent(
                f"""\
                [old]
                name = "af110"
                url = "{old.base_url}"
                db_url_file = "old-db.url"

                [new]
                name = "af33"
                url = "{new.base_url}"
                user = "admin"
                password_file = "{new.password_file}"
                db_url_file = "new-db.url"

                [cutover]
                journal = "journal.sqlite"
                drain_timeout = 240
                confirm_timeout = 240
                parallelism = 4

                [[waves]]
                name = "minutely"
                dag_ids = {json.dumps(WAVE)}

                [[waves]]
                name = "by-glob"
                globs = ["a110_*"]

                [[waves]]
                name = "handover"
                dag_ids = ["a110_handover"]
                """
            )
        )
        yield Estate110(old, new, plan, root / "journal.sqlite")


# -- reading both databases -------------------------------------------------------------------------


def _runs_110(url: str) -> list[Run]:
    """1.10's runs: no run type (the run id's prefix says it) and no interval; a run dated D fell due
    at the end of its interval, one period later (the DAGs' schedules are all aligned to the minute)."""
    runs = []
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        query = text("SELECT dag_id, run_id, state, execution_date, start_date, end_date FROM dag_run")
        for dag_id, run_id, state, date, start, end in connection.execute(query):
            prefix = str(run_id).split("__", 1)[0]
            run_type = {"scheduled": "scheduled", "backfill_": "backfill"}.get(prefix, "manual")
            spec = BY_ID.get(dag_id)
            due = _utc(date)
            if spec is not None and spec.period is not None and due is not None:
                due += spec.period
            runs.append(Run("old", dag_id, run_id, run_type, state, due, _utc(start), _utc(end)))
    engine.dispose()
    return runs


def read_runs(estate: Estate110) -> list[Run]:
    runs = _runs_110(estate.old.db_url)
    engine = create_engine(estate.new.db_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        query = text("SELECT dag_id, run_id, run_type, state, run_after, start_date, end_date FROM dag_run")
        for dag_id, run_id, run_type, state, due, start, end in connection.execute(query):
            runs.append(Run("new", dag_id, run_id, run_type, state, _utc(due), _utc(start), _utc(end)))
    engine.dispose()
    return runs


def paused_flags(estate: Estate110) -> dict[str, dict[str, bool]]:
    flags: dict[str, dict[str, bool]] = {}
    for side, url in (("old", estate.old.db_url), ("new", estate.new.db_url)):
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as connection:
            flags[side] = {
                d: bool(p) for d, p in connection.execute(text("SELECT dag_id, is_paused FROM dag"))
            }
        engine.dispose()
    return flags


def check_all(estate: Estate110, until: dt.datetime) -> list[str]:
    runs = read_runs(estate)
    problems = []
    for spec in SPECS:
        if spec.period is not None and not spec.paused and spec.control is None and spec.in_wave:
            problems += expected_problems(spec, runs, estate.journal, until, CONTROLS)
    once = distinct_automated(runs, "a110_once")
    if len(once) != 1:
        problems.append(f"a110_once: {len(once)} scheduled runs, want exactly 1")
    for dag_id in ("a110_manual_only", "a110_paused_cron"):
        if distinct_automated(runs, dag_id):
            problems.append(
                f"{dag_id}: scheduled runs {[r.run_id for r in distinct_automated(runs, dag_id)]}"
            )
    return problems


# -- the test ---------------------------------------------------------------------------------------


def test_cutover_from_110_and_rollback_neither_miss_nor_double_a_run(estate: Estate110) -> None:
    # 1.10 registers DAGs when its scheduler first parses them (paused at creation).
    def registered() -> bool:
        return all(estate.old_api("GET", f"/dags/{s.dag_id}/paused").status_code == 200 for s in SPECS)

    wait_for(registered, 240, "the 1.10 scheduler to register the DAGs")
    for spec in SPECS:
        if not spec.paused and spec.control != "new":
            assert estate.old_api("GET", f"/dags/{spec.dag_id}/paused/false").status_code == 200
    assert estate.old_api("POST", "/dags/a110_manual_only/dag_runs", json={"conf": {}}).status_code == 200
    headers = {"Authorization": f"Bearer {estate.new_token()}"}
    assert httpx.patch(f"{estate.new.base_url}/api/v2/dags/a110_new_only", json={"is_paused": False},
                       headers=headers, timeout=60).status_code == 200  # fmt: skip
    wait_for(
        lambda: len(distinct_automated(read_runs(estate), "a110_cron_catchup")) >= 4, 300, "old side backfill"
    )
    sleep_until_ticks(1)

    plan = estate.airshift("cutover", "plan", "--wave", "1", "--allow-unverified", "--format", "json")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert '"dag_id": "a110_outside_wave"' not in plan.stdout and '"dag_id": "a110_inflight"' in plan.stdout
    by_glob = estate.airshift("cutover", "plan", "--wave", "by-glob", "--allow-unverified")
    assert by_glob.returncode == 2 and "list the DAGs in dag_ids" in by_glob.stdout + by_glob.stderr

    # Start the cutover while inflight's run is running; SIGKILL it after its first copy, then resume.
    def inflight_running() -> bool:
        return bool(estate.old_api("GET", "/dags/a110_inflight/dag_runs", params={"state": "running"}).json())

    wait_for(inflight_running, 180, "a run of a110_inflight in flight")
    _, inflight_drain = switch_killed_after_first_copy(estate, WAVE, "a110_inflight")

    flags = paused_flags(estate)
    assert_paused_as_owned(flags, SPECS, owner="new")
    assert flags["old"]["a110_outside_wave"] is False and flags["new"]["a110_outside_wave"] is True

    # hand-over: after --drain-timeout the run in flight is failed on 1.10 and the new side runs its
    # interval itself (its next run follows the newest finished run copied).
    handed_run = hand_over(estate, "a110_handover")

    sleep_until_ticks(2)
    until = dt.datetime.now(UTC)
    runs = read_runs(estate)
    assert paused_flags(estate)["old"]["a110_handover"] is True
    engine = create_engine(estate.old.db_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        ti_states = connection.execute(
            text("SELECT ti.state FROM task_instance ti JOIN dag_run r ON r.dag_id = ti.dag_id AND "
                 "r.execution_date = ti.execution_date WHERE r.dag_id = 'a110_handover' AND r.run_id = :run"),
            {"run": handed_run},
        ).scalars().all()  # fmt: skip
    engine.dispose()
    assert ti_states == ["failed"], ti_states  # the sleeping task was stopped, not left to finish
    assert_interval_rerun_by_new_side(runs, "a110_handover", handed_run)
    problems = check_all(estate, until)
    assert not problems, "\n".join(problems)
    new_runs = [r for r in read_runs(estate) if r.side == "new" and r.dag_id == "a110_cron_nocatchup"
                and r.run_type == "scheduled" and r.start_date is not None and r.start_date > inflight_drain.at]  # fmt: skip
    assert len(new_runs) >= 2, "the new side's scheduler did not take over"

    # Roll back: the new side's runs go into 1.10's dag_run; its task instances do not, and it says so.
    rolled_at = dt.datetime.now(UTC)
    rolled = estate.airshift("cutover", "rollback", "--wave", "1", timeout=1200)
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    with open_journal(estate.journal) as journal:
        owners = {d: o.side for d, o in journal.ownership().items()}
        assert {d: owners[d] for d in WAVE} == dict.fromkeys(WAVE, "old") and owners["a110_handover"] == "new"
        carried = journal.last_step("a110_cron_nocatchup", "copied", action="rollback")
    assert carried is not None and carried.status == "ok" and carried.detail["runs_written"] >= 2
    assert "task instances are not carried back from Airflow 3 into Airflow 1.10" in carried.message
    assert_paused_as_owned(paused_flags(estate), SPECS, owner="old")
    sleep_until_ticks(2)
    problems = check_all(estate, dt.datetime.now(UTC))
    assert not problems, "\n".join(problems)
    runs = read_runs(estate)
    made_new = {(r.due, r.start_date) for r in runs if r.side == "new"}
    back = [r for r in runs if r.side == "old" and r.dag_id == "a110_cron_nocatchup" and r.run_type == "scheduled"
            and r.start_date is not None and r.start_date > rolled_at and (r.due, r.start_date) not in made_new]  # fmt: skip
    assert back, "the old side's scheduler did not take the DAG back"
