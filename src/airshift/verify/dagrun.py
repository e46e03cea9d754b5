"""`verify --run`: execute migrated DAGs with `airflow dags test` in the target runtime.

Each DAG runs in its own throwaway AIRFLOW_HOME with a copy of an initialised SQLite metadata DB, so runs
never see each other or the user's Airflow. Task outcomes are read back from that DB's task_instance
table after the command ends (its console output differs between releases)."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from airshift.errors import AirshiftError
from airshift.verify.dagbag import airflow_env, home_template, needs_metadata_db
from airshift.verify.redact import redact_text
from airshift.verify.result import RunOutcome, TaskOutcome
from airshift.verify.runtimes import Runtime, file_lock, publish_directory
from airshift.verify.snapshot_model import Snapshot

RUN_HOME_TEMPLATE = "airshift-run-home-template"
_DB_FILE = "airflow.db"
_LOG_TAIL_LINES = 15

Log = Callable[[str], None]


def _no_log(_message: str) -> None:
    return None


def run_home_template(runtime: Runtime, timeout: float = 600.0) -> Path:
    """An AIRFLOW_HOME holding a migrated SQLite DB for running DAGs (built once per runtime).

    Before 3.0 the parse template already has one; Airflow 3 parses without a DB, so running needs its own."""
    if needs_metadata_db(runtime.airflow_version):
        return home_template(runtime)
    template = runtime.path / RUN_HOME_TEMPLATE
    if (template / ".complete").exists():
        return template
    with file_lock(runtime.path / ".airshift-run-home.lock", timeout=timeout):
        if (template / ".complete").exists():
            return template
        build = runtime.path / f".run-home-build@{os.getpid()}-{secrets.token_hex(4)}"
        build.mkdir()
        try:
            command = [str(runtime.bin_dir / "airflow"), "db", "migrate"]
            try:
                completed = subprocess.run(
                    command, env=airflow_env(runtime, build), capture_output=True, text=True,
                    timeout=timeout, check=False,
                )  # fmt: skip
            except subprocess.TimeoutExpired:
                raise AirshiftError(f"`airflow db migrate` took over {timeout:.0f}s") from None
            if completed.returncode != 0 or not (build / _DB_FILE).exists():
                tail = "\n".join((completed.stderr or completed.stdout).strip().splitlines()[-10:])
                raise AirshiftError(
                    f"Airflow {runtime.airflow_version}: `airflow db migrate` failed:\n{tail}"
                )
            for entry in build.iterdir():  # keep only the DB: the rest holds this directory's paths
                if entry.name != _DB_FILE:
                    shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
            (build / ".complete").write_text(runtime.airflow_version + "\n", encoding="utf-8")
            publish_directory(build, template)
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise
    return template


def _task_outcomes(db: Path, dag_id: str) -> list[TaskOutcome]:
    if not db.exists():
        return []
    with contextlib.closing(sqlite3.connect(db)) as connection:
        try:
            rows = connection.execute(
                "SELECT task_id, state, try_number FROM task_instance WHERE dag_id = ? ORDER BY task_id",
                (dag_id,),
            ).fetchall()
        except sqlite3.Error:
            return []
    return [TaskOutcome(task_id=str(r[0]), state=r[1], try_number=r[2]) for r in rows]


def _tail(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return redact_text("\n".join(lines[-_LOG_TAIL_LINES:]))


def run_dag(runtime: Runtime, folder: Path, dag_id: str, logical_date: str, timeout: float) -> RunOutcome:
    """`airflow dags test DAG_ID DATE` in a fresh home; a hung run is killed with its process group."""
    template = run_home_template(runtime)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="airshift-run-") as tmp:
        home = Path(tmp)
        shutil.copyfile(template / _DB_FILE, home / _DB_FILE)
        env = airflow_env(runtime, home, folder.resolve())
        env["PYTHONPYCACHEPREFIX"] = str(runtime.path / "airshift-pycache")
        command = [str(runtime.bin_dir / "airflow"), "dags", "test", dag_id, logical_date]
        process = subprocess.Popen(
            command, env=env, cwd=home, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, text=True, start_new_session=True,
        )  # fmt: skip
        error = None
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            error = f"did not finish within {timeout:.0f}s; stopped"
        except BaseException:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
        tasks = _task_outcomes(home / _DB_FILE, dag_id)
    return RunOutcome(
        dag_id=dag_id,
        logical_date=logical_date,
        exit_code=process.returncode if error is None else None,
        seconds=round(time.monotonic() - started, 3),
        tasks=tasks,
        error=error,
        log_tail=_tail(output or ""),
    )


def run_dags(
    runtime: Runtime,
    folder: Path,
    dag_ids: Sequence[str],
    snapshot: Snapshot,
    timeout: float,
    log: Log = _no_log,
) -> list[RunOutcome]:
    """Run each DAG for the logical date its templates were rendered for, one after the other."""
    outcomes = []
    for dag_id in dag_ids:
        dag = snapshot.dags[dag_id]
        date = (dag.render_run or {}).get("logical_date") or snapshot.logical_date
        log(f"airflow dags test {dag_id} {date}")
        outcome = run_dag(runtime, folder, dag_id, str(date).replace("Z", "+00:00"), timeout)
        if outcome.error is None and dag.tasks and not outcome.tasks:
            # `dags test` exits 0 without running anything when no task is due on that date: a run that
            # proved nothing must not read as a success.
            outcome = outcome.model_copy(
                update={
                    "error": f"no task ran for logical date {outcome.logical_date} (is it before the DAG's "
                    "start_date, or outside its schedule?)"
                }
            )
        outcomes.append(outcome)
    return outcomes
