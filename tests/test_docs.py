"""Docs generated from code stay equal to the code."""

from __future__ import annotations

import re
from pathlib import Path

from airshift.report.rules_doc import rules_markdown
from airshift.upgrade.registry import all_metas

ROOT = Path(__file__).resolve().parent.parent


def test_rules_doc_is_generated_from_the_registry() -> None:
    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == rules_markdown(all_metas()), "run: python scripts/generate_rules_doc.py"


def test_rule_codes_are_unique_and_well_formed() -> None:
    codes = [meta.code for meta in all_metas()]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"AS\d{3}", code) for code in codes)


def test_readme_quick_start_has_exactly_two_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = section.split("```", 2)[1]
    commands = [line for line in block.splitlines()[1:] if line.strip() and not line.startswith("#")]
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci
