"""Take a snapshot of a DAG folder in a real Airflow runtime, surviving DAG files that hang or crash.

The probe (probe/snapshot_probe.py) loads every file in one process and writes one JSON line per file to
a result file. This side watches that file: a file that runs past its timeout gets the whole probe's
process group killed; a file that kills the interpreter ends the process. Either way the file that was
started but never finished is reported, and the probe starts again with the files after it, so one bad
file costs one restart, not the run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from airshift.errors import AirshiftError
from airshift.verify.canonical import canonical_class
from airshift.verify.dagbag import airflow_env, home_template
from airshift.verify.defaults import DEFAULT_FILE_TIMEOUT, DEFAULT_LOGICAL_DATE
from airshift.verify.redact import redact, redact_strings
from airshift.verify.runtimes import Runtime
from airshift.verify.snapshot_model import DagSnapshot, FileProblem, Snapshot

# Airflow's own per-file import timeout fires first and becomes an ordinary import error; the watchdog
# only steps in when a file blocks that signal (C code, a swallowed exception) for this much longer.
_WATCHDOG_GRACE = 10.0
_POLL_SECONDS = 0.05
_DB_FILE = "airflow.db"

Log = Callable[[str], None]


def _no_log(_message: str) -> None:
    return None


def probe_script() -> Path:
    return Path(str(resources.files("airshift.verify.probe") / "snapshot_probe.py"))


@dataclass
class _Progress:
    """What the probe has reported so far across restarts."""

    airflow_version: str = ""
    python_version: str = ""
    files: list[str] = field(default_factory=list)
    finished: set[str] = field(default_factory=set)
    dags: dict[str, DagSnapshot] = field(default_factory=dict)
    problems: list[FileProblem] = field(default_factory=list)


@dataclass
class _Attempt:
    lines_read: int = 0
    current: str | None = None
    current_since: float = 0.0
    started: bool = False
    ended: bool = False
    fatal: str | None = None


def _relative(path: str, folder: Path) -> str:
    try:
        return Path(path).resolve().relative_to(folder).as_posix()
    except ValueError:
        return path


def _absorb(line: dict[str, Any], progress: _Progress, attempt: _Attempt, folder: Path) -> None:
    kind = line.get("kind")
    if kind == "start":
        attempt.started = True
        progress.airflow_version = str(line.get("airflow_version", ""))
        progress.python_version = str(line.get("python", ""))
        if not progress.files:
            progress.files = [str(f) for f in line.get("files", [])]
    elif kind == "file_start":
        attempt.current = str(line.get("file"))
        attempt.current_since = time.monotonic()
    elif kind == "file":
        path = str(line.get("file"))
        relative = _relative(path, folder)
        for raw in line.get("dags", []):
            dag = DagSnapshot.model_validate(redact(raw))
            for task in dag.tasks.values():
                task.canonical_operator = canonical_class(task.operator_class)
                # `curl -u user:pass`, `--password=...` in a rendered command: masked the same on both sides.
                task.rendered = redact_strings(task.rendered)
            progress.dags[dag.dag_id] = dag
        for error in line.get("import_errors", []):
            progress.problems.append(
                FileProblem(
                    file=relative,
                    kind="timeout" if "timeout" in str(error.get("message", "")).lower() else "import_error",
                    line=error.get("line"),
                    message=str(error.get("message", "")),
                    traceback=str(error.get("traceback", "")),
                )
            )
        if line.get("stdout_chars"):
            progress.problems.append(
                FileProblem(
                    file=relative,
                    kind="stdout",
                    message=f"printed {line['stdout_chars']} characters to stdout while loading: "
                    + str(line.get("stdout", ""))[:200].strip(),
                )
            )
        progress.finished.add(path)
        attempt.current = None
    elif kind == "end":
        attempt.ended = True
    elif kind == "fatal":
        attempt.fatal = str(line.get("traceback", ""))


def _read_new_lines(path: Path, attempt: _Attempt) -> list[dict[str, Any]]:
    """Complete JSON lines not read yet (a line still being written is left for the next poll)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    lines = text.split("\n")[:-1]  # the part after the last newline may be incomplete
    fresh = lines[attempt.lines_read :]
    attempt.lines_read = len(lines)
    parsed: list[dict[str, Any]] = []
    for raw in fresh:
        try:
            value = json.loads(raw)
        except ValueError:
            continue
        if isinstance(value, dict):
            parsed.append(value)
    return parsed


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _tail(path: Path, lines: int = 8) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def _exit_reason(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"killed by signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with code {returncode}"


def _run_attempt(
    runtime: Runtime,
    folder: Path,
    work: Path,
    home: Path,
    request: dict[str, Any],
    progress: _Progress,
    file_timeout: float,
    number: int,
) -> _Attempt:
    """Run the probe once; returns when it ends, crashes, or is killed for a hung file."""
    output = work / f"result-{number}.jsonl"
    request = {**request, "output": str(output)}
    request_file = work / f"request-{number}.json"
    request_file.write_text(json.dumps(request), encoding="utf-8")
    env = airflow_env(runtime, home, folder)
    timeout_name = "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT"
    env[timeout_name] = str(max(1, int(file_timeout)))
    env["PYTHONUNBUFFERED"] = "1"
    # The whole traceback, so an import error can name the line of the DAG file (Airflow keeps 2 frames).
    env["AIRFLOW__CORE__DAGBAG_IMPORT_ERROR_TRACEBACK_DEPTH"] = "100"
    # Bytecode goes to the runtime, not into the user's DAG folder (ignored before Python 3.8).
    env["PYTHONPYCACHEPREFIX"] = str(runtime.path / "airshift-pycache")
    stderr_path = work / f"stderr-{number}.txt"
    attempt = _Attempt()
    with open(work / f"stdout-{number}.txt", "wb") as stdout, open(stderr_path, "wb") as stderr:
        # Own process group: a hung file may have started children, and they must die with it.
        process = subprocess.Popen(
            [str(runtime.python), str(probe_script()), str(request_file)],
            env=env, cwd=home, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        hung: str | None = None
        try:
            while True:
                returncode = process.poll()
                for line in _read_new_lines(output, attempt):
                    _absorb(line, progress, attempt, folder)
                if returncode is not None:
                    break
                limit = file_timeout + _WATCHDOG_GRACE
                if attempt.current is not None and time.monotonic() - attempt.current_since > limit:
                    hung = attempt.current
                    _kill_group(process)
                    break
                time.sleep(_POLL_SECONDS)
        except BaseException:
            _kill_group(process)
            raise
    for line in _read_new_lines(output, attempt):
        _absorb(line, progress, attempt, folder)
    if attempt.fatal is not None:
        last = [item for item in attempt.fatal.strip().splitlines() if item.strip()][-1:]
        raise AirshiftError(
            f"Airflow {runtime.airflow_version} could not start loading {folder}: {' '.join(last)}"
        )
    if not attempt.started:
        raise AirshiftError(
            f"the snapshot probe did not start in Airflow {runtime.airflow_version} "
            f"({_exit_reason(process.returncode)}):\n{_tail(stderr_path)}"
        )
    if attempt.current is not None:
        relative = _relative(attempt.current, folder)
        if hung is not None:
            problem = FileProblem(
                file=relative,
                kind="timeout",
                message=f"loading did not finish within {file_timeout + _WATCHDOG_GRACE:.0f}s; stopped",
            )
        else:
            problem = FileProblem(
                file=relative,
                kind="crash",
                message=f"the Python interpreter died while loading this file ({_exit_reason(process.returncode)})",
                traceback=_tail(stderr_path, 20),
            )
        progress.problems.append(problem)
        progress.finished.add(attempt.current)
    return attempt


def take_snapshot(
    runtime: Runtime,
    folder: Path | str,
    *,
    logical_date: str = DEFAULT_LOGICAL_DATE,
    file_timeout: float = DEFAULT_FILE_TIMEOUT,
    render: bool = True,
    log: Log = _no_log,
) -> Snapshot:
    """Load every DAG file of `folder` in `runtime` and record DAGs, tasks, rendered templates, problems."""
    dag_folder = Path(folder).resolve()
    if not dag_folder.is_dir():
        raise AirshiftError(f"DAG folder {dag_folder} does not exist or is not a directory")
    _check_logical_date(logical_date)
    template = home_template(runtime)
    started = time.monotonic()
    progress = _Progress()
    request: dict[str, Any] = {
        "folder": str(dag_folder),
        "files": [],
        "logical_date": logical_date,
        "render": render,
    }
    with tempfile.TemporaryDirectory(prefix="airshift-snapshot-") as tmp:
        work = Path(tmp)
        home = work / "home"
        home.mkdir()
        if (template / _DB_FILE).exists():
            shutil.copyfile(template / _DB_FILE, home / _DB_FILE)
        number = 0
        while True:
            number += 1
            attempt = _run_attempt(runtime, dag_folder, work, home, request, progress, file_timeout, number)
            if attempt.ended:
                break
            remaining = [f for f in progress.files if f not in progress.finished]
            if not remaining:
                break
            log(f"restarting the probe for {len(remaining)} remaining files")
            request["files"] = remaining
    return Snapshot(
        airflow_version=progress.airflow_version,
        python_version=progress.python_version,
        folder=str(dag_folder),
        logical_date=logical_date,
        rendered=render,
        files=sorted(_relative(f, dag_folder) for f in progress.files),
        dags=dict(sorted(progress.dags.items())),
        problems=sorted(progress.problems, key=lambda p: (p.file, p.kind, p.line or 0)),
        seconds=round(time.monotonic() - started, 3),
    )


def _check_logical_date(value: str) -> None:
    try:
        time.strptime(value, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        raise AirshiftError(
            f"logical date {value!r} is not understood: use YYYY-MM-DDTHH:MM:SS (UTC)"
        ) from None
