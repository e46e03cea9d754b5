"""One vocabulary of Airflow versions for fix and verify: every upgrade target is a release verify can
install, and `fix --verify` checks its version names before it writes anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from airshift.cli import app
from airshift.errors import AirshiftError
from airshift.verify.runtimes import resolve_airflow_version
from airshift.versions import TARGETS, parse_target, parse_version, release_for_target, resolve_release

OLD_DAG = """from airflow import DAG
from airflow.operators.bash_operator import BashOperator
from datetime import datetime

with DAG("etl", start_date=datetime(2024, 1, 1), schedule_interval="@daily") as dag:
    BashOperator(task_id="t", bash_command="echo {{ execution_date }}")
"""


@pytest.mark.parametrize("target", TARGETS)
def test_every_target_names_a_release_of_its_own_line(target: str) -> None:
    release = resolve_release(target)
    assert parse_version(release) == parse_target(target)
    assert release == release_for_target(parse_target(target)) == resolve_airflow_version(target)
    assert release.count(".") == 2


def test_full_releases_pass_through_and_nonsense_is_refused() -> None:
    assert resolve_release("apache-airflow==2.10.5") == "2.10.5"
    with pytest.raises(AirshiftError, match="not understood"):
        resolve_release("3.x")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--target", "3.1", "--target-airflow", "three"], "three"),
        (["--target", "3.1", "--source-airflow", "1.10.x"], "1.10.x"),
        (["--target", "2.9", "--source-airflow", "2.11.2"], "unsupported target"),
    ],
)
def test_fix_verify_refuses_bad_version_names_before_writing(
    tmp_path: Path, options: list[str], message: str
) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "etl.py").write_text(OLD_DAG)
    arguments = ["fix", str(dags), "--verify", "--no-cache", *options]
    if "--source-airflow" not in options:
        arguments += ["--source-airflow", "1.10"]
    result = CliRunner().invoke(app, arguments)
    if isinstance(result.exception, AirshiftError):  # the CLI prints it, exit 2
        assert message in str(result.exception)
    else:  # refused while the options were parsed (--target is checked there): a usage error, exit 2
        assert result.exit_code == 2 and message in " ".join(result.output.split()), result.output
    assert (dags / "etl.py").read_text() == OLD_DAG  # nothing written
    assert sorted(p.name for p in dags.iterdir()) == ["etl.py"]


def test_fix_target_3_1_verifies_in_the_newest_3_1_release(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The names fix takes are the names verify installs: the verification step is handed 3.1.8 (the
    real verification in that runtime is not repeated here; tests/integration/test_verify.py runs verify)."""
    import airshift.cli.verify as cli_verify

    handed: dict[str, object] = {}

    def record(original: Path, migrated: Path, source: str, target: str, **options: object) -> int:
        handed.update(source=source, target=target, auto=options.get("auto_requirements"))
        return 0

    monkeypatch.setattr(cli_verify, "run_verify", record)
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "etl.py").write_text(OLD_DAG)
    arguments = ["fix", str(dags), "--verify", "--no-cache", "--target", "3.1", "--source-airflow", "1.10"]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    assert handed == {"source": "1.10.15", "target": "3.1.8", "auto": True}
    assert "logical_date" in (dags / "etl.py").read_text()
