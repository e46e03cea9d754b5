"""`airshift cutover` between two live Airflows: old = 2.11.2 (webserver with /api/v1, scheduler, on
PostgreSQL), new = 3.3.2 (api-server, scheduler, dag-processor, on PostgreSQL). Every scheduler runs for
the whole test, so the switch happens while both are scheduling every minute.

One wave of nine DAGs: cron every minute with and without catchup, cron every two minutes, a timedelta
schedule, `@once`, manual only, one paused, one whose run is in flight when the switch starts (its task
sleeps), plus one DAG outside the wave. The cutover process is SIGKILLed once it has journalled its first
copy and started again: it resumes from the journal. After the new side has scheduled for a while the
wave is rolled back, and the old side schedules again.

What must hold, for every DAG, over the runs of BOTH metadata databases together (copies counted once:
a copied run keeps its start date): no interval ran twice, and every interval from the first to the
latest due one ran. Without catchup two things are Airflow's own and allowed: the intervals that fell
due while neither side could schedule the DAG (from the journal's pause step to its confirm step)
collapse into their latest; and an interval the owning scheduler did not reach in time is skipped,
which is only accepted when that scheduler's never-switched control DAG (`outside_wave` on the old
side, `new_only` on the new) skipped it too, or the DAG's previous run was still running then.
`@once` ran once, the paused and manual DAGs got no scheduled run, and each side ends paused or active
as the owner's original state says. No password planted in the plan's files shows up in the journal,
the command output or the status page.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx
import pytest
from sqlalchemy import create_engine, text

from airshift.cutover.journal import Step, open_journal
from tests.state.airflow2_webserver import Webserver, airflow2_webserver
from tests.state.airflow3_target import Target
from tests.state.airflow_envs import AirflowEnv, airflow_process

pytestmark = pytest.mark.integration

MINUTE = dt.timedelta(minutes=1)
UTC = dt.timezone.utc
DB_SECRET = "planted-db-secret-8c1f"


@dataclass(frozen=True)
class Spec:
    dag_id: str
    schedule: str  # python expression for both sides
    catchup: bool
    period: dt.timedelta | None  # None: not a repeating schedule
    sleep: int = 0
    paused: bool = False
    in_wave: bool = True
    control: str | None = None  # "old"/"new": never switched, scheduled by that side all along


SPECS = [
    Spec("cron_catchup", '"* * * * *"', True, MINUTE),
    Spec("cron_nocatchup", '"* * * * *"', False, MINUTE),
    Spec("cron2_catchup", '"*/2 * * * *"', True, 2 * MINUTE),
    Spec("delta_catchup", "timedelta(minutes=1)", True, MINUTE),
    Spec("once", '"@once"', True, None),
    Spec("manual_only", "None", False, None),
    Spec("paused_cron", '"* * * * *"', True, MINUTE, paused=True),
    Spec("inflight", '"* * * * *"', False, MINUTE, sleep=12),
    Spec("extra_cron", '"* * * * *"', False, MINUTE),
    # Its own wave, switched with the hand-over policy while its run is in flight: on the old side its task
    # sleeps far longer than the test, on the new side (which reruns the interval) one second. Unpaused
    # only just before its switch, so its sleeping task does not hold an executor slot the whole test.
    Spec("handover", '"* * * * *"', True, MINUTE, sleep=900, in_wave=False),
    Spec("outside_wave", '"* * * * *"', False, MINUTE, in_wave=False, control="old"),
    Spec("new_only", '"* * * * *"', False, MINUTE, in_wave=False, control="new"),
]
CONTROLS = {s.control: s.dag_id for s in SPECS if s.control}
WAVE = [s.dag_id for s in SPECS if s.in_wave]


def dag_file(version: int, start: dt.datetime, specs: list[Spec] | None = None) -> str:
    if version == 2:
        header = """\
            from airflow import DAG
            from airflow.operators.bash import BashOperator
            from airflow.operators.empty import EmptyOperator"""
    else:
        header = """\
            from airflow.sdk import DAG
            from airflow.providers.standard.operators.bash import BashOperator
            from airflow.providers.standard.operators.empty import EmptyOperator"""
    body = "\n".join(f"make({s.dag_id!r}, {s.schedule}, {s.catchup}, {s.sleep})" for s in specs or SPECS)
    return (
        textwrap.dedent(header)
        + textwrap.dedent(
            f"""
        from datetime import datetime, timedelta, timezone

        START = datetime({start.year}, {start.month}, {start.day}, {start.hour}, {start.minute}, tzinfo=timezone.utc)


        def make(dag_id, schedule, catchup, sleep):
            with DAG(dag_id, start_date=START, schedule=schedule, catchup=catchup, max_active_runs=1,
                     tags=["cutover-test"]) as dag:
                if sleep:
                    BashOperator(task_id="work", bash_command=f"sleep {{sleep}}")
                else:
                    EmptyOperator(task_id="noop")
            globals()[dag_id] = dag


        """
        )
        + body
        + "\n"
    )


def background(env: AirflowEnv, *command: str) -> AbstractContextManager[subprocess.Popen[bytes]]:
    return airflow_process(env, list(command))


@dataclass
class Estate:
    old: Webserver
    new: Target
    plan: Path
    journal: Path
    start: dt.datetime
    secrets: list[str]

    def airshift(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "airshift", *args, "--plan", str(self.plan)],
            capture_output=True, text=True, timeout=timeout, check=False,
            env={**os.environ, "COLUMNS": "200", "AIRSHIFT_DEBUG": ""},
        )  # fmt: skip

    def old_api(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        return httpx.request(
            method, f"{self.old.base_url}/api/v1{path}", auth=self.old.auth, timeout=60, **kwargs
        )  # type: ignore[arg-type]


def _env_for_scheduling(env: AirflowEnv, version: int) -> None:
    common = {"AIRFLOW__CORE__EXECUTOR": "LocalExecutor", "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1"}
    if version == 2:
        env.extra_env.update(
            {**common, "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
             "AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL": "10", "AIRFLOW__CORE__PARALLELISM": "4"}
        )  # fmt: skip
    else:
        env.extra_env.update(
            {**common, "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
             "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10"}
        )  # fmt: skip


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory, cutover_new_side: Target) -> Iterator[Estate]:
    root = tmp_path_factory.mktemp("cutover")
    now = dt.datetime.now(UTC).replace(second=0, microsecond=0)
    start = now - 3 * MINUTE
    new = cutover_new_side  # shared with the other cutover tests (their DAG ids differ)
    with ExitStack() as stack:
        old = stack.enter_context(airflow2_webserver(root / "old", dags=dag_file(2, start)))
        new_specs = [dataclasses.replace(s, sleep=1) if s.dag_id == "handover" else s for s in SPECS]
        new.add_dag_file("cutover_211", dag_file(3, start, new_specs), [s.dag_id for s in SPECS])
        _env_for_scheduling(old.env, 2)
        stack.enter_context(background(old.env, "scheduler"))
        secrets_dir = root / "secrets"
        secrets_dir.mkdir()
        (secrets_dir / "old-db.url").write_text(old.db_url)
        (secrets_dir / "new-db.url").write_text(new.db_url)
        (secrets_dir / "db.password").write_text(DB_SECRET)
        plan = root / "cutover.toml"
        plan.write_text(
            textwrap.dedent(
                f"""\
                [old]
                name = "af211"
                url = "{old.base_url}"
                user = "{old.user}"
                password_file = "{old.password_file}"
                db_url_file = "secrets/old-db.url"
                db_password_file = "secrets/db.password"

                [new]
                name = "af33"
                url = "{new.base_url}"
                user = "admin"
                password_file = "{new.password_file}"
                db_url_file = "secrets/new-db.url"
                db_password_file = "secrets/db.password"

                [cutover]
                journal = "journal.sqlite"
                drain_timeout = 240
                confirm_timeout = 240
                parallelism = 4

                [[waves]]
                name = "minutely"
                dag_ids = ["cron_catchup", "once", "manual_only"]
                tags = []
                globs = ["cron*", "delta*", "paused*", "inflight", "extra_*"]

                [[waves]]
                name = "handover"
                dag_ids = ["handover"]
                """
            )
        )
        yield Estate(
            old, new, plan, root / "journal.sqlite", start,
            [old.auth[1], new.password_file.read_text().strip(), DB_SECRET],
        )  # fmt: skip


# -- reading both databases -------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    side: str
    dag_id: str
    run_id: str
    run_type: str
    state: str
    due: dt.datetime | None
    start_date: dt.datetime | None
    end_date: dt.datetime | None


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def read_runs(estate: Estate) -> list[Run]:
    runs = []
    queries = {
        "old": (
            estate.old.db_url,
            "SELECT dag_id, run_id, run_type, state, data_interval_end, start_date, end_date FROM dag_run",
        ),
        "new": (
            estate.new.db_url,
            "SELECT dag_id, run_id, run_type, state, run_after, start_date, end_date FROM dag_run",
        ),
    }
    for side, (url, query) in queries.items():
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as connection:
            for dag_id, run_id, run_type, state, due, start, end in connection.execute(text(query)):
                runs.append(Run(side, dag_id, run_id, run_type, state, _utc(due), _utc(start), _utc(end)))
        engine.dispose()
    return runs


def paused_flags(estate: Estate) -> dict[str, dict[str, bool]]:
    flags: dict[str, dict[str, bool]] = {}
    for side, url in (("old", estate.old.db_url), ("new", estate.new.db_url)):
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        with engine.connect() as connection:
            flags[side] = {
                d: bool(p) for d, p in connection.execute(text("SELECT dag_id, is_paused FROM dag"))
            }
        engine.dispose()
    return flags


def distinct_automated(runs: list[Run], dag_id: str) -> list[Run]:
    """Runs of a DAG made by a scheduler, each counted once: a copy keeps the start date of the run
    it copies, two real runs never share one."""
    seen: dict[tuple[dt.datetime | None, dt.datetime | None], Run] = {}
    for run in runs:
        if run.dag_id == dag_id and run.run_type in ("scheduled", "backfill"):
            seen.setdefault((run.due, run.start_date), run)
    return sorted(seen.values(), key=lambda r: r.due or dt.datetime.min.replace(tzinfo=UTC))


def paused_windows(journal_path: Path, dag_id: str) -> list[tuple[dt.datetime, dt.datetime]]:
    """When neither side could schedule the DAG: from a switch's pause on one side until the other side
    had recomputed its next run after the copy (journal step times)."""
    with open_journal(journal_path) as journal:
        steps = journal.steps(dag_id)
    windows, opened = [], None
    for step in steps:
        if step.step == "paused_from" and step.status == "ok":
            opened = step.at
        # Until the joining side has recomputed the next run (confirmed), neither side can schedule it.
        if step.step in ("confirmed", "returned") and opened is not None:
            windows.append((opened, step.at))
            opened = None
    return windows


def owner_at(journal_path: Path, dag_id: str, moment: dt.datetime) -> str:
    """Which side scheduled the DAG at `moment`: the side of the newest confirmed switch before it."""
    with open_journal(journal_path) as journal:
        steps = journal.steps(dag_id)
    side = "old"
    for step in steps:
        if step.step == "confirmed" and step.at <= moment:
            side = "new" if step.action == "cutover" else "old"
    return side


def lag_excuses(
    spec: Spec,
    runs: list[Run],
    journal_path: Path,
    tick: dt.datetime,
    controls: dict[str | None, str] = CONTROLS,
) -> bool:
    """Whether Airflow itself skipped `tick` of a catchup=False DAG: its scheduler created no run for it
    before the next tick, and then scheduled the latest interval (what catchup=False means). Either the
    DAG's previous run was still running at that tick (max_active_runs=1 held the next one back), or
    the never-switched control DAG of the side that owned the DAG then missed the same tick (that
    scheduler was behind: a loaded machine)."""
    mine = distinct_automated(runs, spec.dag_id)
    before = [r for r in mine if r.due is not None and r.due < tick]
    if before and (before[-1].end_date is None or before[-1].end_date > tick):
        return True
    control = controls[owner_at(journal_path, spec.dag_id, tick)]
    return tick not in {r.due for r in distinct_automated(runs, control)}


def expected_problems(
    spec: Spec,
    runs: list[Run],
    journal_path: Path,
    until: dt.datetime,
    controls: dict[str | None, str] = CONTROLS,
) -> list[str]:
    """What is wrong with the runs of one repeating DAG, across both sides."""
    mine = distinct_automated(runs, spec.dag_id)
    dues = [r.due for r in mine if r.due is not None]
    problems = []
    doubled = sorted({d for d in dues if dues.count(d) > 1})
    if doubled:
        problems.append(f"{spec.dag_id}: intervals run twice: {[d.isoformat() for d in doubled]}")
    assert spec.period is not None
    if not dues:
        return [f"{spec.dag_id}: no scheduled run at all"]
    wanted, tick = [], min(dues)
    windows = paused_windows(journal_path, spec.dag_id)
    while tick <= until:
        wanted.append(tick)
        tick += spec.period
    if not spec.catchup:
        # catchup=False: of the ticks that fell due while paused on both sides, only the latest runs
        for opened, closed in windows:
            inside = [t for t in wanted if opened < t <= closed]
            for skipped in inside[:-1]:
                wanted.remove(skipped)
    # The newest tick may still be being created when we read: tolerate it missing only at the end.
    got = sorted(set(dues))
    missing = [t for t in wanted if t not in got and t < until - spec.period]
    if not spec.catchup:
        missing = [t for t in missing if not lag_excuses(spec, runs, journal_path, t, controls)]
    extra = [t for t in got if t not in wanted]
    if missing:
        problems.append(f"{spec.dag_id}: missed intervals {[t.isoformat() for t in missing]}")
    if extra:
        problems.append(f"{spec.dag_id}: unexpected intervals {[t.isoformat() for t in extra]}")
    return problems


def check_all(estate: Estate, until: dt.datetime) -> list[str]:
    runs = read_runs(estate)
    problems = []
    for spec in SPECS:
        if spec.period is not None and not spec.paused and spec.control is None and spec.in_wave:
            problems += expected_problems(spec, runs, estate.journal, until)
    once = distinct_automated(runs, "once")
    if len(once) != 1:
        problems.append(f"once: {len(once)} scheduled runs, want exactly 1")
    for dag_id in ("manual_only", "paused_cron"):
        if distinct_automated(runs, dag_id):
            problems.append(
                f"{dag_id}: scheduled runs {[r.run_id for r in distinct_automated(runs, dag_id)]}"
            )
    return problems


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(2)
    raise AssertionError(f"timed out waiting for {what}")


def sleep_until_ticks(count: int) -> dt.datetime:
    """Let the schedulers run across `count` more minute ticks; returns the last tick passed."""
    now = dt.datetime.now(UTC)
    target = now.replace(second=0, microsecond=0) + count * MINUTE
    time.sleep(max(0.0, (target - now).total_seconds() + 25))  # 25 s: let the run for the tick finish
    return target


class CutoverEstate(Protocol):
    """What the switch helpers need of an estate (2.11 or 1.10 old side)."""

    plan: Path
    journal: Path

    def airshift(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]: ...


def switch_killed_after_first_copy(estate: CutoverEstate, wave: list[str], inflight: str) -> tuple[str, Step]:
    """Runs `cutover run` on wave 1, SIGKILLs it once it has journalled its first copy, and runs it again:
    the second process must resume from the journal and switch the whole wave, having waited for the run
    of `inflight` that was in flight. Returns both processes' output and `inflight`'s drain step."""
    command = [sys.executable, "-m", "airshift", "cutover", "run", "--wave", "minutely", "--plan",
               str(estate.plan), "--allow-unverified"]  # fmt: skip
    log = estate.plan.parent / "cutover-run-1.log"
    with log.open("w") as sink:
        first = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, env={**os.environ, "COLUMNS": "200"}
        )

    def copied_once() -> bool:
        if not estate.journal.exists():
            return False
        with open_journal(estate.journal) as journal:
            return any(s.step == "copied" for s in journal.steps())

    wait_for(copied_once, 400, "the first copy")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    with open_journal(estate.journal) as journal:
        unfinished = [d for d in wave if journal.open_attempt(d, "cutover")]
    assert unfinished, "the SIGKILL should leave attempts open"

    resumed = estate.airshift("cutover", "run", "--wave", "1", "--allow-unverified", timeout=1200)
    output = log.read_text() + resumed.stdout + resumed.stderr
    assert resumed.returncode == 0, output
    assert "resuming" in resumed.stdout
    with open_journal(estate.journal) as journal:
        owners = {d: o.side for d, o in journal.ownership().items()}
        inflight_drain = journal.last_step(inflight, "paused_from")
    assert owners == dict.fromkeys(wave, "new")
    assert inflight_drain is not None and inflight_drain.detail.get("waited_s", 0) > 0
    return output, inflight_drain


def assert_paused_as_owned(flags: dict[str, dict[str, bool]], specs: list[Spec], owner: str) -> None:
    """Each DAG of the wave is paused on the side that does not own it, and on its owner as it was."""
    other = "old" if owner == "new" else "new"
    for spec in specs:
        if spec.in_wave:
            assert flags[other][spec.dag_id] is True, (other, spec.dag_id)
            assert flags[owner][spec.dag_id] is spec.paused, (owner, spec.dag_id)


def hand_over(estate: CutoverEstate, dag_id: str) -> str:
    """Switches the wave `handover` (the one DAG `dag_id`, a run of it in flight) with the hand-over
    policy after a 5 s drain; checks the journal says the run was handed over and marked failed on the old
    side, and returns its run id."""
    handover = estate.airshift("cutover", "run", "--wave", "handover", "--allow-unverified",
                               "--drain-timeout", "5", "--on-drain-timeout", "hand-over", timeout=600)  # fmt: skip
    assert handover.returncode == 0, handover.stdout + handover.stderr
    with open_journal(estate.journal) as journal:
        handed = journal.last_step(dag_id, "paused_from")
        failed_step = journal.last_step(dag_id, "handed_over")
    assert handed is not None and len(handed.detail["handed_over"]) == 1, handed
    handed_run = str(handed.detail["handed_over"][0])
    assert failed_step is not None and failed_step.status == "ok" and handed_run in failed_step.message
    return handed_run


def assert_interval_rerun_by_new_side(runs: list[Run], dag_id: str, handed_run: str) -> None:
    """The handed-over run ended failed on the old side, and the new side ran its interval itself (its
    next run follows the newest finished run copied): a run of its own, not a copy of the unfinished one
    (a copy keeps the run's start date)."""
    old_handed = [r for r in runs if r.side == "old" and r.run_id == handed_run and r.dag_id == dag_id]
    assert len(old_handed) == 1 and old_handed[0].state == "failed", old_handed
    new_runs = [r for r in runs if r.side == "new" and r.dag_id == dag_id and r.run_type == "scheduled"]
    assert old_handed[0].due in {r.due for r in new_runs}, (old_handed, new_runs)
    assert (old_handed[0].due, old_handed[0].start_date) not in {(r.due, r.start_date) for r in new_runs}


# -- the test ---------------------------------------------------------------------------------------


def test_cutover_and_rollback_neither_miss_nor_double_a_run(estate: Estate) -> None:
    # The old side schedules: every DAG active except the paused one; one manual run for manual_only.
    for spec in SPECS:
        if not spec.paused and spec.control != "new" and spec.dag_id != "handover":
            assert estate.old_api("PATCH", f"/dags/{spec.dag_id}", params={"update_mask": "is_paused"},
                                  json={"is_paused": False}).status_code == 200  # fmt: skip
    assert estate.old_api("POST", "/dags/manual_only/dagRuns", json={"conf": {}}).status_code == 200
    token = httpx.post(
        f"{estate.new.base_url}/auth/token",
        json={"username": "admin", "password": estate.new.password_file.read_text().strip()},
    ).json()
    assert httpx.patch(f"{estate.new.base_url}/api/v2/dags/new_only", json={"is_paused": False}, timeout=60,
                       headers={"Authorization": f"Bearer {token['access_token']}"}).status_code == 200  # fmt: skip
    wait_for(
        lambda: len(distinct_automated(read_runs(estate), "cron_catchup")) >= 4, 300, "old side backfill"
    )
    sleep_until_ticks(1)

    plan = estate.airshift("cutover", "plan", "--wave", "1", "--allow-unverified", "--format", "json")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert '"dag_id": "outside_wave"' not in plan.stdout and '"dag_id": "inflight"' in plan.stdout
    refused = estate.airshift("cutover", "plan", "--wave", "1", "--format", "json")
    assert refused.returncode == 1 and "not verified" in refused.stdout

    # Start the cutover while inflight's run is running; SIGKILL it after its first copy, then resume.
    def inflight_running() -> bool:
        data = estate.old_api("GET", "/dags/inflight/dagRuns", params={"state": "running"}).json()
        return bool(data["dag_runs"])

    wait_for(inflight_running, 180, "a run of inflight in flight")
    output, _ = switch_killed_after_first_copy(estate, WAVE, "inflight")
    again = estate.airshift("cutover", "run", "--wave", "1", "--allow-unverified")
    assert again.returncode == 0 and f"0 switched, {len(WAVE)} already done, 0 failed" in again.stdout

    flags = paused_flags(estate)
    assert_paused_as_owned(flags, SPECS, owner="new")
    assert flags["old"]["outside_wave"] is False and flags["new"]["outside_wave"] is True
    assert flags["old"]["new_only"] is True and flags["new"]["new_only"] is False

    # hand-over: after --drain-timeout the run in flight is failed on 2.11 through its REST API (which
    # fails its running task instance) and the new side runs that interval itself.
    assert estate.old_api("PATCH", "/dags/handover", params={"update_mask": "is_paused"},
                          json={"is_paused": False}).status_code == 200  # fmt: skip

    def handover_task_running() -> bool:
        data = estate.old_api("GET", "/dags/handover/dagRuns", params={"state": "running"}).json()
        if not data["dag_runs"]:
            return False
        run_id = data["dag_runs"][0]["dag_run_id"]
        tis = estate.old_api("GET", f"/dags/handover/dagRuns/{run_id}/taskInstances").json()["task_instances"]
        return [ti["state"] for ti in tis] == ["running"]

    wait_for(handover_task_running, 240, "the task of a handover run running")
    handed_run = hand_over(estate, "handover")
    tis = estate.old_api("GET", f"/dags/handover/dagRuns/{handed_run}/taskInstances").json()["task_instances"]
    assert [ti["state"] for ti in tis] == ["failed"], tis  # the sleeping task was stopped, not left to finish
    assert paused_flags(estate)["old"]["handover"] is True

    # The new side schedules across a few ticks.
    sleep_until_ticks(2)
    runs = read_runs(estate)
    assert_interval_rerun_by_new_side(runs, "handover", handed_run)
    new_runs = [r for r in runs if r.side == "new" and r.dag_id == "cron_nocatchup" and r.run_type == "scheduled"
                and not any(o.side == "old" and (o.dag_id, o.run_id) == (r.dag_id, r.run_id) for o in runs)]  # fmt: skip
    assert len(new_runs) >= 2, "the new side's scheduler did not take over"
    until = dt.datetime.now(UTC)
    problems = check_all(estate, until)
    assert not problems, "\n".join(problems)

    status_html = estate.airshift("cutover", "status", "--format", "html")
    assert (
        status_html.returncode == 0 and 'id="dag-cron_catchup" class="dag-row owner-new' in status_html.stdout
    )

    # Roll the wave back; the old side schedules again from where the new one stopped.
    rolled = estate.airshift("cutover", "rollback", "--wave", "1", timeout=1200)
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    with open_journal(estate.journal) as journal:
        assert {d: o.side for d, o in journal.ownership().items()} == {
            **dict.fromkeys(WAVE, "old"),
            "handover": "new",
        }
    assert_paused_as_owned(paused_flags(estate), SPECS, owner="old")
    sleep_until_ticks(2)
    problems = check_all(estate, dt.datetime.now(UTC))
    assert not problems, "\n".join(problems)
    back = [r for r in read_runs(estate) if r.side == "old" and r.dag_id == "cron_nocatchup"
            and r.start_date is not None and r.start_date > until]  # fmt: skip
    assert back, "the old side's scheduler did not take the DAG back"

    # No planted or real credential anywhere we wrote or printed.
    status_json = estate.airshift("cutover", "status", "--format", "json")
    journal_bytes = b"".join(p.read_bytes() for p in estate.plan.parent.glob("journal.sqlite*"))
    for secret in estate.secrets:
        for where, content in (("run output", output), ("rollback output", rolled.stdout + rolled.stderr),
                               ("status", status_html.stdout + status_json.stdout)):  # fmt: skip
            assert secret not in content, f"a secret leaked into the {where}"
        assert secret.encode() not in journal_bytes, "a secret leaked into the journal"
