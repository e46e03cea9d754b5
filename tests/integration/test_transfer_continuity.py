"""Schedule continuity after `airshift transfer --what history`, with the real scheduler of the target
(Airflow 3.3.2 with its dag-processor, and Airflow 2.11.2).

Sixteen daily DAGs get finished scheduled runs on a real source (Airflow 2.11.2, and 1.10.15), made with
that Airflow's own models: cron or timedelta schedule, catchup on or off, history either up to the
latest due interval ("current") or stopping three intervals short ("behind"). On the target each DAG
is defined twice over: as `airshift fix` writes it (Cron/DeltaDataIntervalTimetable, the source's
dating) and with a trigger timetable (Cron/DeltaTriggerTimetable, what Airflow 3 makes of a plain cron
string or timedelta: a run is dated at its tick, one interval later than the same physical run on the
source). The history is copied while the DAGs are paused; then the target's scheduler runs and every
DAG is unpaused at once.

What must hold, for every DAG: no run for an interval the source already ran, and the next due interval
does run. "current" DAGs get no run now and their next run is tomorrow's; "behind" DAGs with catchup get
the three missing intervals, without catchup only the latest one (a timedelta trigger schedule is not
aligned to midnight: without catchup it runs once at the moment of unpausing). Compared by the end of
each run's data interval, the moment it became due, which is the same physical moment in both datings.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import textwrap
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from airshift.cli import app
from airshift.verify.runtimes import ensure_runtime
from tests.state.airflow_envs import (
    AirflowEnv,
    airflow_process,
    make_env,
    postgres_database,
)
from tests.state.source_fixtures import new_key

pytestmark = pytest.mark.integration

DAY = dt.timedelta(days=1)
UTC = dt.timezone.utc
KINDS = ("cron", "delta")
SEMANTICS = ("data", "trigger")
CATCHUP = (True, False)
HISTORIES = ("current", "behind")


def dag_id(kind: str, semantics: str, catchup: bool, history: str) -> str:
    return f"{kind}_{semantics}_{'catchup' if catchup else 'nocatchup'}_{history}"


ALL_DAGS = [
    (dag_id(k, s, c, h), k, s, c, h) for k in KINDS for s in SEMANTICS for c in CATCHUP for h in HISTORIES
]


def today() -> dt.datetime:
    """Midnight UTC of the current day; waits out the last minutes of a day so the test's notion of
    "the latest due interval" cannot change while it runs (at most a few minutes, rarely)."""
    now = dt.datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if midnight + DAY - now < dt.timedelta(minutes=12):
        time.sleep((midnight + DAY - now).total_seconds() + 5)
        midnight += DAY
    return midnight


def source_dag_file(version: int, start: dt.datetime) -> str:
    imports = (
        "from airflow.operators.dummy_operator import DummyOperator as EmptyOperator"
        if version == 1
        else "from airflow.operators.empty import EmptyOperator"
    )
    return textwrap.dedent(
        f"""\
        from datetime import datetime, timedelta
        from airflow import DAG
        {imports}

        START = datetime({start.year}, {start.month}, {start.day})
        for dag_id, kind, _semantics, catchup, _history in {[(d, k, s, c, h) for d, k, s, c, h in ALL_DAGS]!r}:
            schedule = "0 0 * * *" if kind == "cron" else timedelta(days=1)
            with DAG(dag_id, start_date=START, schedule_interval=schedule, catchup=catchup) as dag:
                EmptyOperator(task_id="noop")
            globals()[dag_id] = dag
        """
    )


def target_dag_file(version: int, start: dt.datetime) -> str:
    if version == 3:
        header = """\
            from airflow.sdk import DAG
            from airflow.providers.standard.operators.empty import EmptyOperator"""
        # 3.x reads a plain cron string / timedelta as a trigger timetable.
        trigger = '"0 0 * * *" if kind == "cron" else timedelta(days=1)'
    else:
        header = """\
            from airflow import DAG
            from airflow.operators.empty import EmptyOperator
            from airflow.timetables.trigger import CronTriggerTimetable, DeltaTriggerTimetable"""
        # 2.11 reads them as data-interval timetables: the trigger ones are chosen explicitly there.
        trigger = (
            'CronTriggerTimetable("0 0 * * *", timezone="UTC") if kind == "cron" '
            "else DeltaTriggerTimetable(timedelta(days=1))"
        )
    return textwrap.dedent(
        f"""\
        from datetime import datetime, timedelta, timezone
        {textwrap.dedent(header).replace(chr(10), chr(10) + "        ")}
        from airflow.timetables.interval import CronDataIntervalTimetable, DeltaDataIntervalTimetable

        START = datetime({start.year}, {start.month}, {start.day}, tzinfo=timezone.utc)
        for dag_id, kind, semantics, catchup, _history in {[(d, k, s, c, h) for d, k, s, c, h in ALL_DAGS]!r}:
            if semantics == "data":  # as `airshift fix` writes a cron / timedelta schedule
                schedule = (CronDataIntervalTimetable("0 0 * * *", timezone="UTC") if kind == "cron"
                            else DeltaDataIntervalTimetable(timedelta(days=1)))
            else:
                schedule = {trigger}
            with DAG(dag_id, start_date=START, schedule=schedule, catchup=catchup) as dag:
                EmptyOperator(task_id="noop")
            globals()[dag_id] = dag
        """
    )


# Runs as the source's scheduler would have left them: scheduled runs, finished, tasks succeeded, made
# with the source Airflow's own models (`backfill` would start a task process per task instance).
_FILL_2 = """
import json, sys
from airflow.models import DagBag
from airflow.models.dagrun import DagRun
from airflow.utils import timezone
from airflow.utils.session import create_session
from airflow.utils.state import DagRunState, TaskInstanceState
from airflow.utils.types import DagRunType
plan = json.loads(sys.argv[1])
bag = DagBag(include_examples=False)
for dag_id, dates in plan.items():
    dag = bag.get_dag(dag_id)
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
_FILL_1 = """
import json, sys
from airflow.models import DagBag
from airflow.utils import timezone
from airflow.utils.db import create_session
from airflow.utils.state import State
plan = json.loads(sys.argv[1])
bag = DagBag(include_examples=False)
for dag_id, dates in plan.items():
    dag = bag.get_dag(dag_id)
    dag.sync_to_db()  # what the 1.10 scheduler does on every parse (records schedule_interval too)
    for raw in dates:
        logical = timezone.parse(raw)
        run = dag.create_dagrun(run_id="scheduled__" + logical.isoformat(), execution_date=logical,
                                state=State.SUCCESS, external_trigger=False)
        with create_session() as session:
            for ti in run.get_task_instances(session=session):
                ti.set_state(State.SUCCESS, session=session)
"""


def fill_source(env: AirflowEnv, version: int, start: dt.datetime) -> None:
    (env.dags_folder / "dags.py").write_text(source_dag_file(version, start), encoding="utf-8")
    env.cli_batch([["initdb"]] if version == 1 else [["db", "migrate"], ["dags", "reserialize"]])
    plan = {}
    for name, _kind, _semantics, _catchup, history in ALL_DAGS:
        # "current": every interval up to the one that closed at midnight; "behind": the first two only.
        count = 5 if history == "current" else 2
        plan[name] = [(start + index * DAY).strftime("%Y-%m-%dT%H:%M:%S+00:00") for index in range(count)]
    completed = subprocess.run(
        [str(env.runtime.python), "-c", _FILL_1 if version == 1 else _FILL_2, json.dumps(plan)],
        env=env.env(), cwd=env.home, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]


@contextmanager
def source_env(version: int, start: dt.datetime) -> Iterator[AirflowEnv]:
    runtime = ensure_runtime("1.10.15" if version == 1 else "2.11.2")
    home = Path(os.environ.get("TMPDIR", "/tmp")) / f"airshift-continuity-src{version}-{os.getpid()}"
    shutil.rmtree(home, ignore_errors=True)
    env = make_env(runtime, home, f"sqlite:///{home / 'airflow.db'}", [new_key()])
    try:
        fill_source(env, version, start)
        yield env
    finally:
        shutil.rmtree(home, ignore_errors=True)


def background(env: AirflowEnv, *command: str) -> AbstractContextManager[subprocess.Popen[bytes]]:
    return airflow_process(env, list(command))


READ_TARGET = textwrap.dedent(
    """\
    import json
    from sqlalchemy import select
    from airflow.models import DagModel, DagRun
    from airflow.utils.session import create_session
    with create_session() as s:
        # The end of the data interval is when the run became due, in every timetable and release
        # (2.x has no run_after).
        runs = [[r.dag_id, r.run_type, r.logical_date.isoformat() if r.logical_date else None,
                 r.data_interval_end.isoformat()] for r in s.scalars(select(DagRun))]
        dags = {d.dag_id: [d.is_paused, d.next_dagrun_create_after.isoformat()
                           if d.next_dagrun_create_after else None] for d in s.scalars(select(DagModel))}
    print("@@" + json.dumps({"runs": runs, "dags": dags}))
    """
)


def read_target(env: AirflowEnv) -> tuple[list[list[str]], dict[str, list[object]]]:
    data = json.loads(env.python(READ_TARGET).split("@@", 1)[1])
    return data["runs"], data["dags"]


def expected_new_runs(catchup: bool, history: str, midnight: dt.datetime) -> list[dt.datetime]:
    """When the runs the target scheduler must create now became due (their data interval end)."""
    if history == "current":
        return []
    return [midnight - 2 * DAY, midnight - DAY, midnight] if catchup else [midnight]


@contextmanager
def target_env(version: int, start: dt.datetime, home: Path) -> Iterator[tuple[AirflowEnv, str]]:
    """A target Airflow on a fresh PostgreSQL database with the DAGs deployed and parsed (paused, as new
    DAGs are); yields it and the database URL for airshift."""
    if version == 3:
        runtime = ensure_runtime("3.3.2", extra_requirements=["apache-airflow-providers-postgres"])
    else:
        runtime = ensure_runtime("2.11.2", extra_requirements=["psycopg2-binary"])
    with postgres_database(f"airshift_cont{version}") as name:
        env = make_env(runtime, home, f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}", [new_key()])
        env.extra_env.update(
            {
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__API_AUTH__JWT_SECRET": new_key(),
            }
            if version == 3
            else {
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
                "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL": "5",
            }
        )
        (env.dags_folder / "dags.py").write_text(target_dag_file(version, start), encoding="utf-8")
        env.cli_batch([["db", "migrate"], ["dags", "reserialize"]])
        yield env, f"postgresql://postgres@127.0.0.1:5432/{name}"


@pytest.mark.parametrize(
    ("source_version", "target_version"),
    [(2, 3), (1, 3), (2, 2), (1, 2)],
    ids=["2.11.2-to-3.3.2", "1.10.15-to-3.3.2", "2.11.2-to-2.11.2", "1.10.15-to-2.11.2"],
)
def test_unpausing_after_history_transfer_neither_reruns_nor_skips(
    source_version: int, target_version: int, tmp_path: Path
) -> None:
    midnight = today()
    start = midnight - 5 * DAY
    with ExitStack() as stack:
        source = stack.enter_context(source_env(source_version, start))
        target, target_url = stack.enter_context(target_env(target_version, start, tmp_path / "target"))
        runs_before, dags_before = read_target(target)
        assert runs_before == [] and all(paused for paused, _next in dags_before.values())

        copied = CliRunner().invoke(
            app,
            ["transfer", "--from", source.db_url, "--to-db", target_url,
             "--what", "history", "--ledger", str(tmp_path / "ledger.sqlite")],
            env={"COLUMNS": "200"},
        )  # fmt: skip
        assert copied.exit_code == 0, copied.output
        copied_runs, _ = read_target(target)
        per_dag = {d: 0 for d, *_ in ALL_DAGS}
        for run_dag, _type, _logical, _after in copied_runs:
            per_dag[run_dag] += 1
        assert per_dag == {d: (5 if h == "current" else 2) for d, _k, _s, _c, h in ALL_DAGS}

        # Unpause everything at once, before the dag-processor has re-parsed anything.
        target.cli_batch([["dags", "unpause", d] for d, *_ in ALL_DAGS])
        if target_version == 3:  # 2.x parses DAGs inside the scheduler
            stack.enter_context(background(target, "dag-processor"))
        stack.enter_context(background(target, "scheduler"))

        def settled(dags: dict[str, list[object]], new: dict[str, list[str]]) -> bool:
            for name_, _kind, _semantics, catchup, history in ALL_DAGS:
                if len(new.get(name_, [])) < len(expected_new_runs(catchup, history, midnight)):
                    return False
                if history == "current" and dags[name_][1] != (midnight + DAY).isoformat():
                    return False
            return True

        copied_keys = {(d, logical) for d, _t, logical, _a in copied_runs}
        deadline = time.monotonic() + 300
        while True:
            runs, dags = read_target(target)
            new: dict[str, list[str]] = {}
            for run_dag, _type, logical, run_after in runs:
                if (run_dag, logical) not in copied_keys:
                    new.setdefault(run_dag, []).append(run_after)
            if settled(dags, new) or time.monotonic() > deadline:
                break
            time.sleep(3)
        time.sleep(10)  # a few more scheduler loops: anything wrongly due would be created by now
        runs, dags = read_target(target)

    problems = []
    for name_, kind, semantics, catchup, history in ALL_DAGS:
        created = sorted(
            dt.datetime.fromisoformat(after)
            for run_dag, _type, logical, after in runs
            if run_dag == name_ and (run_dag, logical) not in copied_keys
        )
        want = expected_new_runs(catchup, history, midnight)
        if (kind, semantics, catchup, history) == ("delta", "trigger", False, "behind") and len(created) == 1:
            # Airflow (2.11 and 3.x) does not align a timedelta trigger schedule to midnight: without catchup, a DAG
            # that is behind runs once at the moment it is unpaused, then every 24 h from there.
            assert midnight <= created[0] <= dt.datetime.now(UTC), name_
            want = created
        if created != want:
            problems.append(f"{name_}: created runs after {[c.isoformat() for c in created]}, want {want}")
        logicals = sorted(
            dt.datetime.fromisoformat(logical)
            for run_dag, _type, logical, _after in runs
            if run_dag == name_ and (run_dag, logical) not in copied_keys
        )
        shift = DAY if semantics == "data" else dt.timedelta(0)  # data intervals date a run at their start
        if logicals != [after - shift for after in want]:
            problems.append(f"{name_}: logical dates {logicals}")
        if history == "current" and dags[name_][1] != (midnight + DAY).isoformat():
            problems.append(f"{name_}: next run due {dags[name_][1]}, want {(midnight + DAY).isoformat()}")
    assert not problems, "\n".join(problems)
