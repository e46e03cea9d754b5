"""Start-up cost as facts, not timings: which libraries `airshift --help`, `--version` and a one-file scan
import, checked in a fresh process through sys.modules. Every module in src/airshift/cli/ is covered,
including ones added later, because the list comes from the package itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import airshift
from airshift import cli

# Libraries a cli module must import inside its command bodies, never at module level.
HEAVY = (
    "sqlalchemy",
    "fastapi",
    "starlette",
    "uvicorn",
    "httpx",
    "cryptography",
    "pydantic",
    "confluent_kafka",
    "ruamel",
    "jsonschema",
    "psycopg",
    "psycopg2",
    "pymysql",
)
# A pre-commit scan of a file without templates needs none of these either: no progress bar, no colour
# renderer (plain lines), no Jinja (only templated strings need it).
SCAN_ALSO_AVOIDS = ("rich", "pygments", "jinja2", "markdown_it")

# Runs the command line in-process, then writes the top-level names of every imported module.
PROBE = """
import json, sys
out, argv = sys.argv[1], sys.argv[2:]
sys.argv = ["airshift", *argv]
from airshift.cli import main
try:
    main()
except SystemExit as stop:
    code = stop.code
else:
    code = 0
with open(out, "w") as handle:
    json.dump({"code": code, "modules": sorted(sys.modules)}, handle)
"""

DAG = """\
from airflow import DAG
from airflow.operators.bash_operator import BashOperator

with DAG("etl", schedule_interval="@daily") as dag:
    BashOperator(task_id="a", bash_command="echo hi", provide_context=True)
"""


def imported_by(args: list[str], tmp_path: Path) -> tuple[int, list[str]]:
    out = tmp_path / "modules.json"
    env = {**os.environ, "AIRSHIFT_CACHE_DIR": str(tmp_path / "cache")}
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.exists(), completed.stderr
    data = json.loads(out.read_text())
    return data["code"], data["modules"]


def loaded(modules: list[str], names: tuple[str, ...]) -> list[str]:
    return sorted({m.split(".")[0] for m in modules} & set(names))


@pytest.mark.parametrize("module", cli.command_modules())
def test_every_cli_module_is_cheap_to_import(module: str, tmp_path: Path) -> None:
    code = f"import json, sys; import airshift.cli.{module} as m; print(json.dumps(sorted(sys.modules)))"
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    modules = json.loads(completed.stdout)
    assert loaded(modules, HEAVY) == [], f"airshift.cli.{module} imports these at module level"
    others = [m for m in modules if m.startswith("airshift.cli.") and m != f"airshift.cli.{module}"]
    assert others == [], "a cli module imports another one"


@pytest.mark.parametrize("module", cli.command_modules())
def test_every_cli_module_registers_its_commands(module: str) -> None:
    import importlib

    assert callable(getattr(importlib.import_module(f"airshift.cli.{module}"), "register", None))


def test_help_lists_every_group_without_heavy_imports(tmp_path: Path) -> None:
    code, modules = imported_by(["--help"], tmp_path)
    assert code == 0
    assert loaded(modules, HEAVY) == []
    assert {f"airshift.cli.{m}" for m in cli.command_modules()} <= set(modules)


def test_version_prints_the_package_version(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "airshift", "--version"], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0
    assert completed.stdout == f"airshift {airshift.__version__}\n"
    code, modules = imported_by(["--version"], tmp_path)
    assert code == 0
    assert [m for m in modules if m.startswith("airshift.cli.")] == []


def test_scan_of_one_file_imports_only_what_it_uses(tmp_path: Path) -> None:
    (tmp_path / "etl.py").write_text(DAG)
    code, modules = imported_by(["scan", "etl.py", "-o", "report.txt"], tmp_path)
    assert code == 1  # changes needed: the scan really ran
    assert "AS101" in (tmp_path / "report.txt").read_text()
    assert loaded(modules, HEAVY + SCAN_ALSO_AVOIDS) == []
    # only the module that defines `scan` was loaded, not every command group
    assert [m for m in modules if m.startswith("airshift.cli.")] == ["airshift.cli.upgrade"]


def test_fix_of_one_file_imports_no_heavy_library(tmp_path: Path) -> None:
    (tmp_path / "etl.py").write_text(DAG)
    code, modules = imported_by(["fix", "etl.py", "--out", "out"], tmp_path)
    assert code == 1
    assert "providers.standard" in (tmp_path / "out" / "etl.py").read_text()
    assert loaded(modules, HEAVY) == []


def test_commands_of_later_groups_and_unknown_commands(tmp_path: Path) -> None:
    help_of = subprocess.run(
        [sys.executable, "-m", "airshift", "runtime", "--help"], capture_output=True, text=True, timeout=60
    )
    assert help_of.returncode == 0 and "ensure" in help_of.stdout
    unknown = subprocess.run(
        [sys.executable, "-m", "airshift", "no-such-command"], capture_output=True, text=True, timeout=60
    )
    assert unknown.returncode == 2 and "no-such-command" in unknown.stderr


def test_the_complete_app_has_every_group() -> None:
    names = cli._registered_names(cli.build_app())
    assert {"scan", "fix", "verify", "transfer", "runtime", "events"} <= names


def test_events_token_variable_is_the_clients() -> None:
    from airshift.cli import events
    from airshift.events.client import TOKEN_ENV

    assert events.TOKEN_ENV == TOKEN_ENV
