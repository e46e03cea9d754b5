"""The generated configuration tables agree with the reference extraction in ../shared/reference/config.

The reference was read from the same releases with `ast` by someone else; ours is read by running the
releases (scripts/generate_config_tables.py). Two methods, one answer."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

REFERENCE = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / "config"
if not REFERENCE.is_dir():
    REFERENCE = Path("/work/shared/reference/config")


def _ours() -> dict:
    text = resources.files("airshift.platform.tables").joinpath("config.json").read_text(encoding="utf-8")
    return json.loads(text)["releases"]


def _reference(name: str) -> dict:
    path = REFERENCE / name
    if not path.exists():
        pytest.skip(f"reference extraction not available: {path}")
    return json.loads(path.read_text(encoding="utf-8"))


def _change_keys(changes: list[dict]) -> list[tuple]:
    return sorted(
        (
            c["section"],
            c["option"],
            (c.get("renamed_to") or {}).get("section"),
            (c.get("renamed_to") or {}).get("option"),
            bool(c.get("default_change")),
            str(c.get("remove_if_equals")),
        )
        for c in changes
    )


@pytest.mark.parametrize("version", ["2.11.2", "3.3.2"])
def test_configs_changes_match_the_reference(version: str) -> None:
    reference = _reference(f"configs_changes-{version}.json")
    ours = _ours()[version]["configs_changes"]
    assert len(ours) == reference["count"]
    assert _change_keys(ours) == _change_keys(reference["changes"])


def test_deprecated_options_match_the_reference() -> None:
    reference = _reference("deprecated_options-by-version.json")
    ours = _ours()
    old_110 = {
        (r["section"], r["old_option"], r["new_option"]) for r in reference["1.10.15"]["deprecated_options"]
    }
    assert {
        (r["old_section"], r["old_option"], r["new_option"]) for r in ours["1.10.15"]["deprecated_options"]
    } == old_110
    for version in ("2.11.2", "3.3.2"):
        assert len(ours[version]["deprecated_options"]) == len(reference[version]["deprecated_options"])
    assert [r["old_section"] for r in ours["2.11.2"]["deprecated_sections"]] == ["kubernetes"]


def test_target_knows_the_provider_sections_a_platform_uses() -> None:
    options = _ours()["3.3.2"]["provider_options"]
    for section in ("celery", "kubernetes_executor", "fab", "elasticsearch"):
        assert section in options
