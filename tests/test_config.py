"""[tool.airshift] read without pydantic: every key, dashes or underscores, and errors naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from airshift.config import UpgradeConfig, load_config
from airshift.errors import AirshiftError


def write(tmp_path: Path, body: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(body, encoding="utf-8")
    return tmp_path


def test_every_key_with_dashes_or_underscores(tmp_path: Path) -> None:
    folder = write(
        tmp_path,
        '[tool.airshift]\ntarget = "2.11"\nsource = "1.10"\nselect = ["AS1"]\nignore = ["AS402"]\n'
        'exclude = ["tests/*"]\nformat = "json"\njobs = 3\ncache-dir = ".c"\nrequirements = "r.txt"\n'
        "safe_only = true\nadopt-new-defaults = false\n",
    )
    config, path = load_config(folder)
    assert path == folder / "pyproject.toml"
    assert config == UpgradeConfig(
        target="2.11",
        source="1.10",
        select=["AS1"],
        ignore=["AS402"],
        exclude=["tests/*"],
        format="json",
        jobs=3,
        cache_dir=".c",
        requirements="r.txt",
        safe_only=True,
        adopt_new_defaults=False,
    )


def test_no_table_gives_the_defaults(tmp_path: Path) -> None:
    config, path = load_config(write(tmp_path, '[project]\nname = "x"\n'))
    assert config == UpgradeConfig() and path is None


def test_a_number_target_reads_as_the_version_it_spells(tmp_path: Path) -> None:
    config, _ = load_config(write(tmp_path, "[tool.airshift]\ntarget = 3.3\n"))
    assert config.target == "3.3"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('target = "4.0"', "target: must be one of 2.11"),
        ('source = "3"', "source: must be one of auto"),
        ('format = "xml"', "format: must be one of text"),
        ("jobs = 0", "jobs: must be 1 or more"),
        ('jobs = "2"', "jobs: must be a whole number"),
        ('select = "AS1"', "select: must be a list of strings"),
        ('safe-only = "yes"', "safe-only: must be true or false"),
        ("colour = true", "colour: not a known key"),
    ],
)
def test_bad_values_name_the_file_and_the_key(tmp_path: Path, body: str, expected: str) -> None:
    folder = write(tmp_path, f"[tool.airshift]\n{body}\n")
    with pytest.raises(AirshiftError) as error:
        load_config(folder)
    assert str(folder / "pyproject.toml") in str(error.value)
    assert f"[tool.airshift] {expected}" in str(error.value)


def test_invalid_toml_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AirshiftError, match="invalid TOML"):
        load_config(write(tmp_path, "[tool.airshift\n"))
