"""Load a DAG folder in a real Airflow runtime (one DagBag, one subprocess) and read the result.

Measured: a plain DagBag needs no metadata DB on 1.10.15, 2.11.2 or 3.3.2, but on 1.10 and 2.x a
SubDagOperator queries the `slot_pool` table while the DAG file is parsed ("no such table"), so on
those versions the SQLite DB is initialised once per runtime (`airflow initdb` / `airflow db migrate`)
into a template AIRFLOW_HOME inside the runtime, and each load copies that DB into a fresh temp home.
Airflow 3 does not touch the DB while parsing, so it gets an empty home.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from airshift.errors import AirshiftError
from airshift.verify.runtimes import Runtime, file_lock, publish_directory

PROBE_MARKER = "@@AIRSHIFT-DAGBAG@@"
HOME_TEMPLATE = "airshift-home-template"
_DB_FILE = "airflow.db"


@dataclass(frozen=True)
class DagInfo:
    dag_id: str
    fileloc: str
    task_ids: tuple[str, ...]


@dataclass(frozen=True)
class ImportErrorInfo:
    file: str
    message: str  # the last meaningful line of the traceback
    traceback: str


@dataclass(frozen=True)
class DagBagResult:
    airflow_version: str
    python_version: str
    folder: Path
    dags: dict[str, DagInfo]
    import_errors: dict[str, ImportErrorInfo]
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0
    raw: dict[str, object] = field(default_factory=dict, compare=False, repr=False)


def probe_script() -> Path:
    return Path(str(resources.files("airshift.verify.probe") / "dagbag_probe.py"))


def needs_metadata_db(airflow_version: str) -> bool:
    return int(airflow_version.split(".", 1)[0]) < 3


def _db_env_name(airflow_version: str) -> str:
    major, minor = (int(part) for part in airflow_version.split(".")[:2])
    # [database] sql_alchemy_conn exists from 2.3; [core] before (and it still wins there).
    return (
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"
        if (major, minor) >= (2, 3)
        else "AIRFLOW__CORE__SQL_ALCHEMY_CONN"
    )


def _init_db_command(airflow_version: str) -> list[str]:
    major, minor = (int(part) for part in airflow_version.split(".")[:2])
    if major == 1:
        return ["initdb"]
    return ["db", "migrate"] if (major, minor) >= (2, 7) else ["db", "upgrade"]


def airflow_env(runtime: Runtime, home: Path, dags_folder: Path | None = None) -> dict[str, str]:
    """Environment for running Airflow of `runtime` with AIRFLOW_HOME=`home` and a SQLite DB in it."""
    env = runtime.env()
    for name in list(env):
        if name.startswith("AIRFLOW__") or name in ("AIRFLOW_HOME", "AIRFLOW_CONFIG"):
            del env[name]  # the user's own Airflow settings must not leak into a verification run
    env["AIRFLOW_HOME"] = str(home)
    env["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    env["AIRFLOW__CORE__LOAD_DEFAULT_CONNECTIONS"] = "False"
    env["AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS"] = "False"
    env[_db_env_name(runtime.airflow_version)] = f"sqlite:///{home / _DB_FILE}"
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # let repeated loads reuse the runtime's bytecode
    if dags_folder is not None:
        env["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags_folder)
    return env


def home_template(runtime: Runtime, timeout: float = 300.0) -> Path:
    """The runtime's initialised AIRFLOW_HOME template (built once, atomically, under a lock)."""
    template = runtime.path / HOME_TEMPLATE
    ready = template / ".complete"
    if ready.exists():
        return template
    with file_lock(runtime.path / ".airshift-home.lock", timeout=timeout):
        if ready.exists():
            return template
        build = runtime.path / f".home-build@{os.getpid()}-{secrets.token_hex(4)}"
        build.mkdir()
        try:
            if needs_metadata_db(runtime.airflow_version):
                command = [str(runtime.bin_dir / "airflow"), *_init_db_command(runtime.airflow_version)]
                try:
                    completed = subprocess.run(
                        command, env=airflow_env(runtime, build), capture_output=True, text=True,
                        timeout=timeout, check=False,
                    )  # fmt: skip
                except subprocess.TimeoutExpired:
                    raise AirshiftError(
                        f"`airflow {' '.join(command[1:])}` took over {timeout:.0f}s"
                    ) from None
                if completed.returncode != 0 or not (build / _DB_FILE).exists():
                    tail = "\n".join((completed.stderr or completed.stdout).strip().splitlines()[-10:])
                    raise AirshiftError(
                        f"Airflow {runtime.airflow_version}: initialising the SQLite metadata DB failed:\n{tail}"
                    )
            # Keep only the DB: airflow.cfg and logs hold absolute paths of this directory.
            for entry in build.iterdir():
                if entry.name != _DB_FILE:
                    shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
            (build / ".complete").write_text(runtime.airflow_version + "\n", encoding="utf-8")
            publish_directory(build, template)
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise
    return template


def parse_probe_output(stdout: str) -> dict[str, object]:
    """The JSON document from the probe's last marker line."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(PROBE_MARKER):
            data = json.loads(line[len(PROBE_MARKER) :])
            if isinstance(data, dict):
                return data
    raise ValueError("no probe result in the output")


def _result_from(document: dict[str, object], folder: Path, seconds: float) -> DagBagResult:
    dags: dict[str, DagInfo] = {}
    raw_dags = document.get("dags")
    if isinstance(raw_dags, dict):
        for dag_id, info in raw_dags.items():
            if isinstance(info, dict):
                dags[str(dag_id)] = DagInfo(
                    str(dag_id), str(info.get("fileloc", "")), tuple(str(t) for t in info.get("task_ids", []))
                )
    errors: dict[str, ImportErrorInfo] = {}
    raw_errors = document.get("import_errors")
    if isinstance(raw_errors, dict):
        for path, info in raw_errors.items():
            if isinstance(info, dict):
                errors[str(path)] = ImportErrorInfo(
                    str(path), str(info.get("message", "")), str(info.get("traceback", ""))
                )
    raw_warnings = document.get("warnings")
    return DagBagResult(
        airflow_version=str(document.get("airflow_version", "")),
        python_version=str(document.get("python", "")),
        folder=folder,
        dags=dags,
        import_errors=errors,
        warnings=tuple(str(w) for w in raw_warnings) if isinstance(raw_warnings, list) else (),
        seconds=seconds,
        raw=document,
    )


def load_dagbag(runtime: Runtime, folder: Path | str, timeout: float = 300.0) -> DagBagResult:
    """Load every DAG file in `folder` with one DagBag inside `runtime`; import errors are data, not raised."""
    dag_folder = Path(folder).resolve()
    if not dag_folder.is_dir():
        raise AirshiftError(f"DAG folder {dag_folder} does not exist")
    template = home_template(runtime)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="airshift-home-") as tmp:
        home = Path(tmp)
        if (template / _DB_FILE).exists():
            shutil.copyfile(template / _DB_FILE, home / _DB_FILE)
        try:
            completed = subprocess.run(
                [str(runtime.python), str(probe_script()), str(dag_folder)],
                env=airflow_env(runtime, home, dag_folder), cwd=home, capture_output=True, text=True,
                timeout=timeout, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise AirshiftError(
                f"loading {dag_folder} in Airflow {runtime.airflow_version} took over {timeout:.0f}s"
            ) from None
    seconds = time.monotonic() - started
    try:
        document = parse_probe_output(completed.stdout)
    except ValueError:
        tail = "\n".join((completed.stderr or completed.stdout).strip().splitlines()[-10:])
        raise AirshiftError(
            f"the DagBag probe produced no result in Airflow {runtime.airflow_version} "
            f"(exit code {completed.returncode}):\n{tail}"
        ) from None
    fatal = document.get("fatal")
    if fatal:
        last = [line for line in str(fatal).strip().splitlines() if line.strip()][-1:]
        raise AirshiftError(
            f"Airflow {runtime.airflow_version} could not load DAGs from {dag_folder}: {' '.join(last)}"
        )
    return _result_from(document, dag_folder, seconds)
