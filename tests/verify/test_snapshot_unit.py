"""Unit tests of the snapshot plumbing that needs no Airflow: the document, redaction, the probe's
line protocol, and that the probe stays valid for the oldest interpreters it runs on."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from airshift.errors import AirshiftError
from airshift.verify import snapshot
from airshift.verify.redact import MASK, redact, redact_strings
from airshift.verify.snapshot_model import (
    DagSnapshot,
    FileProblem,
    Snapshot,
    TaskSnapshot,
    read_snapshot,
    write_snapshot,
)


def _snapshot() -> Snapshot:
    task = TaskSnapshot(task_id="t", operator_class="airflow.operators.bash.BashOperator", retries=2)
    dag = DagSnapshot(dag_id="d", file="d.py", tasks={"t": task})
    problem = FileProblem(file="bad.py", kind="import_error", message="boom", line=3)
    return Snapshot(
        airflow_version="3.3.2",
        python_version="3.12.1",
        folder="/dags",
        logical_date="2024-03-01T00:00:00",
        dags={"d": dag},
        problems=[problem, FileProblem(file="p.py", kind="stdout", message="printed")],
    )


def test_snapshot_round_trips_and_import_errors_skip_stdout(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "snap.json"
    write_snapshot(_snapshot(), path)
    again = read_snapshot(path)
    assert again == _snapshot()
    assert [p.file for p in again.import_errors] == ["bad.py"]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (None, "cannot read snapshot"),
        ("{not json", "is not JSON"),
        ('{"schema_version": 99}', "schema_version"),
        ('{"schema_version": 1, "airflow_version": "3"}', "snapshot .*:"),
    ],
)
def test_bad_snapshot_files_are_clear_errors(tmp_path: Path, content: str | None, fragment: str) -> None:
    path = tmp_path / "snap.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(AirshiftError, match=fragment):
        read_snapshot(path)


def test_redact_masks_secret_keys_recursively_and_keeps_the_rest() -> None:
    value = {"conn": {"password": "hunter2", "login": "bob"}, "items": [{"api_key": "k"}], "token": ""}
    assert redact(value) == {
        "conn": {"password": MASK, "login": "bob"},
        "items": [{"api_key": MASK}],
        "token": "",
    }


def test_secrets_in_free_text_are_masked() -> None:
    text = "psql postgres://bob:hunter2@db/x --password=s3cret; curl -H 'Authorization: Bearer abc.def' ok"
    masked = redact_strings({"bash_command": [text]})["bash_command"][0]
    assert "hunter2" not in masked and "s3cret" not in masked and "abc.def" not in masked
    assert masked.startswith("psql postgres://bob:***@db/x") and masked.endswith(" ok")


def test_partial_lines_wait_for_the_next_poll(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    attempt = snapshot._Attempt()
    path.write_text(json.dumps({"kind": "start"}) + "\n" + '{"kind": "fi')
    assert snapshot._read_new_lines(path, attempt) == [{"kind": "start"}]
    path.write_text(json.dumps({"kind": "start"}) + "\n" + '{"kind": "file_start", "file": "a.py"}\n')
    assert snapshot._read_new_lines(path, attempt) == [{"kind": "file_start", "file": "a.py"}]


def test_file_lines_become_dags_and_problems(tmp_path: Path) -> None:
    progress, attempt = snapshot._Progress(), snapshot._Attempt()
    folder = tmp_path.resolve()
    raw_dag = {"dag_id": "d", "file": "a.py", "default_args": {"password": "x"}, "tasks": {}}
    lines = [
        {"kind": "start", "airflow_version": "2.11.2", "python": "3.12.1", "files": [str(folder / "a.py")]},
        {"kind": "file_start", "file": str(folder / "a.py")},
        {
            "kind": "file",
            "file": str(folder / "a.py"),
            "dags": [raw_dag],
            "import_errors": [{"line": 4, "message": "ModuleNotFoundError: nope"}],
            "stdout_chars": 5,
            "stdout": "hello",
        },
    ]
    for line in lines:
        snapshot._absorb(line, progress, attempt, folder)
    assert attempt.started and attempt.current is None
    assert progress.dags["d"].default_args == {"password": MASK}
    assert [(p.file, p.kind, p.line) for p in progress.problems] == [
        ("a.py", "import_error", 4),
        ("a.py", "stdout", None),
    ]


def test_bad_logical_date_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AirshiftError, match="logical date"):
        snapshot._check_logical_date("March 1st")


@pytest.mark.parametrize("version", ["3.6.15", "3.13.0"])
def test_probe_compiles_on_the_oldest_and_newest_interpreters(version: str) -> None:
    python = Path.home() / ".pyenv" / "versions" / version / "bin" / "python"
    if not python.exists():
        python_path = shutil.which(f"python{version.rsplit('.', 1)[0]}")
        if python_path is None:
            pytest.skip(f"no Python {version} here")
        python = Path(python_path)
    source = snapshot.probe_script().read_text(encoding="utf-8")
    completed = subprocess.run(
        [str(python), "-c", "import sys; compile(sys.stdin.read(), 'snapshot_probe.py', 'exec')"],
        input=source,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr


def _probe_module() -> object:
    import importlib.util

    spec = importlib.util.spec_from_file_location("airshift_snapshot_probe", snapshot.probe_script())
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_probe_compiles_each_template_once_and_renders_it_for_any_context() -> None:
    import jinja2

    probe: Any = _probe_module()
    env = probe._compiling_once(jinja2.Environment())
    first = env.from_string("run {{ ds }}")
    assert env.from_string("run {{ ds }}") is first  # compiled once
    assert first.render(ds="2024-01-01") == "run 2024-01-01"
    assert env.from_string("run {{ ds }}").render(ds="2024-01-02") == "run 2024-01-02"
    assert env.from_string("other {{ ds }}") is not first


def test_probe_shares_environments_only_between_identically_configured_dags() -> None:
    probe: Any = _probe_module()

    class Dag:
        folder = "/dags"
        template_searchpath = None
        template_undefined = None
        render_template_as_native_obj = False
        user_defined_macros = None
        user_defined_filters = None
        jinja_environment_kwargs = None

    plain, other_folder, with_macros = Dag(), Dag(), Dag()
    other_folder.folder = "/elsewhere"
    with_macros.user_defined_macros = {"team": "x"}
    assert probe._env_settings(plain) == probe._env_settings(Dag())
    assert probe._env_settings(other_folder) != probe._env_settings(plain)
    assert probe._env_settings(with_macros) is None  # its own environment, never shared


def test_probe_folds_object_reprs_into_their_fields() -> None:
    """The probe runs inside Airflow, but the folding is plain Python: objects with a release-specific
    repr become the same picture of their fields; unknown objects become a not-comparable marker."""
    import datetime as dt

    from airshift.verify.probe import snapshot_probe as probe

    class OldRun:  # 1.10's DagRun text
        dag_id, run_id, execution_date = (
            "etl",
            "scheduled__x",
            dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc),
        )

        def __repr__(self) -> str:
            return "<DagRun etl @ 2024-03-01 00:00:00+00:00: scheduled__x, externally triggered: False>"

    class NewRun:  # 3.x's run model text
        dag_id, run_id, logical_date = "etl", "scheduled__x", dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc)

        def __repr__(self) -> str:
            return "DagRun(dag_id='etl', run_id='scheduled__x')"

    class Opaque:
        def __repr__(self) -> str:
            return "<Thing object>"

    old = probe._fold_reprs([f"run {OldRun()!r}"], {"dag_run": OldRun(), "ds": "2024-03-01"})
    new = probe._fold_reprs([f"run {NewRun()!r}"], {"dag_run": NewRun(), "ds": "2024-03-01"})
    assert old == new
    assert "dag_id=etl run_id=scheduled__x logical_date=2024-03-01T00:00:00" in old[0]
    assert probe._fold_reprs("x <Thing object>", {"thing": Opaque()}) == f"x <thing: {probe.NOT_COMPARABLE}>"
    assert probe._fold_reprs("2024-03-01", {"ds": "2024-03-01"}) == "2024-03-01"  # plain values stay

    class Task:
        task_id = "t"

        def __repr__(self) -> str:
            return "<Task(BashOperator): t>"

    class NewTaskInstance:  # 3.x: the task instance's text holds its task's text
        dag_id, task_id = "etl", "t"

        def __repr__(self) -> str:
            return "dag_id='etl' task_id='t' task=<Task(BashOperator): t> try_number=1"

    ti = NewTaskInstance()
    folded = probe._fold_reprs(f"{ti!r} {Task()!r}", {"ti": ti, "task_instance": ti, "task": Task()})
    assert folded == "<ti dag_id=etl task_id=t> <task task_id=t>"
