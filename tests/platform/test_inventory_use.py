"""The inventory as input to the later steps: `scan`/`fix --inventory` take the DAG folders and the source
Airflow from it, `cutover plan --inventory` proposes waves; bad inventories are one clear error naming
the file. (`transfer --inventory` runs against real Airflows in tests/integration/test_transfer_airflow3.)"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from airshift.cli import app
from airshift.cutover.plan import load_plan
from airshift.cutover.propose import classify_schedule
from airshift.errors import AirshiftError

DAG_2X = textwrap.dedent(
    """\
    from datetime import datetime, timedelta
    from airflow import DAG
    from airflow.operators.bash import BashOperator
    from airflow.operators.empty import EmptyOperator

    with DAG("nightly", start_date=datetime(2024, 1, 1), schedule_interval="0 3 * * *") as nightly:
        BashOperator(task_id="run", bash_command="echo")

    with DAG("manual", start_date=datetime(2024, 1, 1), schedule_interval=None) as manual:
        EmptyOperator(task_id="noop")

    with DAG("every_five", start_date=datetime(2024, 1, 1), schedule_interval="*/5 * * * *") as five:
        EmptyOperator(task_id="noop")

    with DAG("hourly_delta", start_date=datetime(2024, 1, 1), schedule_interval=timedelta(hours=1)) as h:
        EmptyOperator(task_id="noop")

    with DAG("defaulted", start_date=datetime(2024, 1, 1)) as defaulted:
        EmptyOperator(task_id="noop")
    """
)
DB_DAG = textwrap.dedent(
    """\
    from datetime import datetime
    from airflow import DAG
    from airflow.settings import Session

    with DAG("reads_the_db", start_date=datetime(2024, 1, 1), schedule_interval="@daily") as dag:
        pass
    """
)


def _inventory(tmp_path: Path) -> tuple[Path, Path]:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "jobs.py").write_text(DAG_2X)
    (dags / "db_user.py").write_text(DB_DAG)
    inventory = tmp_path / "inventory.json"
    made = CliRunner().invoke(app, ["inventory", str(dags), "-o", str(inventory), "--quiet"])
    assert made.exit_code == 0, made.output
    assert json.loads(inventory.read_text())["airflow_version"] == "2"
    return dags, inventory


def test_scan_takes_folders_and_source_from_the_inventory(tmp_path: Path) -> None:
    dags, inventory = _inventory(tmp_path)
    runner = CliRunner()
    scanned = runner.invoke(app, ["scan", "--inventory", str(inventory), "--format", "json", "--no-cache"])
    assert scanned.exit_code == 1, scanned.output  # 2.x imports to rewrite
    report = json.loads(scanned.stdout)
    files = {Path(entry["path"]).name for entry in report["files"]}
    assert files == {"jobs.py", "db_user.py"}
    assert {entry["source_version"] for entry in report["files"]} == {"2"}

    contradicting = runner.invoke(
        app, ["scan", "--inventory", str(inventory), "--source", "1.10", "--no-cache", str(dags)]
    )
    assert f"--source 1.10 contradicts inventory {inventory}, which records Airflow 2" in contradicting.stderr

    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    (elsewhere / "x.py").write_text("x = 1\n")
    outside = runner.invoke(app, ["scan", "--inventory", str(inventory), "--no-cache", str(elsewhere)])
    assert f"is not in a DAG folder inventory {inventory} recorded" in outside.stderr


def test_fix_takes_folders_from_the_inventory(tmp_path: Path) -> None:
    dags, inventory = _inventory(tmp_path)
    out = tmp_path / "migrated"
    fixed = CliRunner().invoke(app, ["fix", "--inventory", str(inventory), "--out", str(out), "--no-cache"])
    assert fixed.exit_code in (0, 1), fixed.output
    rewritten = (out / "jobs.py").read_text()
    assert "from airflow.operators.bash import" not in rewritten
    assert (dags / "jobs.py").read_text() == DAG_2X  # sources untouched


def test_cutover_plan_proposes_waves_and_writes_a_loadable_plan(tmp_path: Path) -> None:
    _dags, inventory = _inventory(tmp_path)
    plan = tmp_path / "cutover.toml"
    runner = CliRunner()
    proposed = runner.invoke(
        app, ["cutover", "plan", "--inventory", str(inventory), "--write-plan", str(plan), "--format", "json"]
    )
    assert proposed.exit_code == 0, proposed.output
    waves = json.loads(proposed.stdout.split("wrote")[0])["waves"]
    assert waves == [
        {"name": "unscheduled", "dag_ids": ["manual"]},
        {"name": "daily-or-rarer", "dag_ids": ["defaulted", "nightly"]},  # 2.x default: one day
        {"name": "frequent", "dag_ids": ["every_five", "hourly_delta"]},
        {"name": "needs-attention", "dag_ids": ["reads_the_db"]},
    ]
    loaded = load_plan(plan)
    assert [(w.name, w.dag_ids) for w in loaded.waves] == [(w["name"], w["dag_ids"]) for w in waves]

    again = runner.invoke(app, ["cutover", "plan", "--inventory", str(inventory), "--write-plan", str(plan)])
    assert again.exit_code != 0
    assert f"--write-plan {plan} exists" in str(again.exception)


def test_schedules_are_classified_by_the_documented_rule() -> None:
    assert classify_schedule(None, "3") == "unscheduled"
    assert classify_schedule(None, "2") == "daily-or-rarer"
    assert classify_schedule("@once", "2") == "unscheduled"
    assert classify_schedule("@weekly", "3") == "daily-or-rarer"
    assert classify_schedule("30 2 * * 1", "3") == "daily-or-rarer"
    assert classify_schedule("0 * * * *", "3") == "frequent"
    assert classify_schedule("@hourly", "3") == "frequent"
    assert classify_schedule("[Asset('s3://x')]", "3") == "frequent"


@pytest.mark.parametrize("command", [["scan"], ["fix"], ["cutover", "plan"]])
def test_bad_inventories_are_one_clear_error_naming_the_file(tmp_path: Path, command: list[str]) -> None:
    _dags, inventory = _inventory(tmp_path)
    runner = CliRunner()
    missing = tmp_path / "nope.json"
    result = runner.invoke(app, [*command, "--inventory", str(missing)])
    assert isinstance(result.exception, AirshiftError)
    assert f"inventory {missing}: no such file" in str(result.exception)

    data = json.loads(inventory.read_text())
    data["schema"] = "airshift.inventory/0"
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data))
    result = runner.invoke(app, [*command, "--inventory", str(old)])
    assert isinstance(result.exception, AirshiftError)
    assert f"inventory {old}: schema 'airshift.inventory/0' is not" in str(result.exception)

    data = json.loads(inventory.read_text())
    data["dag_folders"][0]["path"] = str(tmp_path / "moved")
    moved = tmp_path / "moved.json"
    moved.write_text(json.dumps(data))
    if command != ["cutover", "plan"]:  # proposing waves reads the recorded DAG ids, not the folders
        result = runner.invoke(app, [*command, "--inventory", str(moved)])
        assert isinstance(result.exception, AirshiftError)
        assert f"inventory {moved}: DAG folder {tmp_path / 'moved'} does not exist here" in str(
            result.exception
        )
