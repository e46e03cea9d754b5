"""The cutover plan file: what it accepts, and errors that name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from airshift.cutover.plan import load_plan
from airshift.errors import AirshiftError

GOOD = """
[old]
name = "af2"
url = "http://127.0.0.1:8080/"
user = "admin"
password_file = "old.password"
db_url_env = "OLD_DB_URL"

[new]
url = "https://new.example.com"
token_env = "NEW_TOKEN"
ca_file = "ca.pem"

[cutover]
drain_timeout = 30
on_drain_timeout = "hand-over"
parallelism = 8

[[waves]]
name = "first"
dag_ids = ["a"]
globs = ["reports_*"]

[[waves]]
name = "second"
tags = ["tier3"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cutover.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_plan_loads(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, GOOD))
    assert plan.old.url == "http://127.0.0.1:8080" and plan.old.api == "auto" and plan.old.has_db
    assert plan.new.token_env == "NEW_TOKEN" and not plan.new.has_db
    assert plan.drain_timeout == 30 and plan.on_drain_timeout == "hand-over" and plan.parallelism == 8
    assert plan.journal == str(tmp_path / "cutover.journal.sqlite")
    assert plan.wave(1).name == "first" and plan.wave("second").name == "second"
    assert plan.wave(1).resolve({"a": [], "reports_x": [], "other": ["tier3"]}) == ["a", "reports_x"]
    assert plan.wave(2).resolve({"other": ["tier3"], "b": []}) == ["other"]
    # listed ids the server does not have stay in the wave, so the plan reports them
    assert plan.wave(1).resolve({}) == ["a"]
    assert plan.wave_of("other", ["tier3"]) is not None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("drain_timeout = 30", "drain_timeout = -1"),
            "cutover.drain_timeout: Input should be greater than or equal to 0",
        ),
        (('on_drain_timeout = "hand-over"', 'on_drain_timeout = "wait"'), "cutover.on_drain_timeout"),
        (('url = "https://new.example.com"', 'url = "ftp://x"'), "new.url: must be an http(s) URL"),
        (
            ('url = "https://new.example.com"', 'url = "https://u:p@x"'),
            "new.url: must not contain credentials",
        ),
        (('password_file = "old.password"', 'password = "hunter2"'), "old.password: unknown key"),
        (('password_file = "old.password"', ""), "old: user 'admin' needs password_file or password_env"),
        (
            ('token_env = "NEW_TOKEN"', 'token_env = "NEW TOKEN"'),
            "new.token_env: 'NEW TOKEN' is not an environment",
        ),
        (('tags = ["tier3"]', ""), "waves.1: wave 'second' selects no DAG"),
        (('name = "second"', 'name = "first"'), "waves: wave names must be unique: first"),
        (("parallelism = 8", "parallelism = 0"), "cutover.parallelism"),
        (("[old]", "[olde]"), "old: required key is missing; olde: unknown key"),
    ],
)
def test_bad_plans_name_the_file_and_the_key(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(AirshiftError) as caught:
        load_plan(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_not_toml_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(AirshiftError, match="is not valid TOML"):
        load_plan(write(tmp_path, "[old\n"))
    with pytest.raises(AirshiftError, match="cannot read plan file"):
        load_plan(tmp_path / "nope.toml")


def test_journal_urls_with_a_password_are_refused_and_env_urls_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, GOOD.replace("[cutover]", '[cutover]\njournal = "postgresql://u:secret@db/j"'))
    with pytest.raises(AirshiftError) as caught:
        load_plan(path)
    assert "journal_url_file" in str(caught.value) and "secret" not in str(caught.value)
    plan = load_plan(write(tmp_path, GOOD.replace("[cutover]", '[cutover]\njournal_url_env = "J_URL"')))
    with pytest.raises(AirshiftError, match=r"journal_url_env: \$J_URL is not set"):
        _ = plan.journal
    monkeypatch.setenv("J_URL", "postgresql://u:pw@127.0.0.1/j")
    assert plan.journal == "postgresql://u:pw@127.0.0.1/j"


def test_unknown_wave(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, GOOD))
    with pytest.raises(AirshiftError, match=r"no wave '3'; the plan has 1 \(first\), 2 \(second\)"):
        plan.wave(3)
