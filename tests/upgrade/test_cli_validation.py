"""Options and [tool.airshift] keys are checked when parsed: a clear error naming the option or key."""

from __future__ import annotations

from pathlib import Path

import pytest

from airshift.config import load_config
from airshift.errors import AirshiftError
from tests.upgrade.test_cli import OLD_DAG, cli


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "etl.py").write_text(OLD_DAG)
    return tmp_path


@pytest.mark.parametrize("jobs", ["0", "-3"])
def test_jobs_must_be_at_least_one(project: Path, jobs: str) -> None:
    result = cli("scan", "dags", "--jobs", jobs, cwd=project)
    assert result.returncode == 2 and "--jobs" in result.stderr, result.stderr


def test_a_target_without_its_minor_release_names_the_choices(project: Path) -> None:
    result = cli("scan", "dags", "--target", "3", cwd=project)
    message = " ".join(result.stderr.replace("│", " ").split())  # the usage box wraps long lines
    assert result.returncode == 2 and "--target" in message, result.stderr
    assert "choose one of 2.11, 3.0, 3.1, 3.2, 3.3" in message


def test_a_toml_number_target_is_read_as_the_version_it_spells(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.airshift]\ntarget = 3.3\n")
    config, _ = load_config(tmp_path)
    assert config.target == "3.3"
    (tmp_path / "pyproject.toml").write_text("[tool.airshift]\ntarget = 2.11\n")
    assert load_config(tmp_path)[0].target == "2.11"


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ('format = "xml"', "[tool.airshift] format: must be one of text, json, sarif, github"),
        ("jobs = 0", "[tool.airshift] jobs:"),
        ('target = "4.0"', "[tool.airshift] target: must be one of"),
        ('colour = "red"', "[tool.airshift] colour:"),
    ],
)
def test_config_errors_name_the_table_and_the_key(tmp_path: Path, line: str, needle: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.airshift]\n{line}\n")
    with pytest.raises(AirshiftError) as raised:
        load_config(tmp_path)
    assert needle in str(raised.value) and "pyproject.toml" in str(raised.value)


def test_config_errors_reach_the_terminal_with_the_table_name(project: Path) -> None:
    # rich would read "[tool.airshift]" as markup and print nothing in its place
    (project / "pyproject.toml").write_text('[tool.airshift]\nformat = "xml"\n')
    result = cli("scan", "dags", cwd=project)
    assert result.returncode == 2 and "[tool.airshift] format" in result.stderr, result.stderr
