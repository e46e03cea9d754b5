"""The rule seam: adding a rule is one module in upgrade/rules/ and one test file
tests/upgrade/rules/test_<module>.py, nothing else. These checks keep it so."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from collections import Counter
from pathlib import Path

import pytest

import airshift.upgrade.rules as rules_package
from airshift.upgrade.model import FixSafety, RuleMeta
from airshift.upgrade.registry import Rule, all_rules
from airshift.upgrade.rule_gates import acts_on
from airshift.versions import SOURCES, TARGETS, parse_target

TESTS = Path(__file__).parent / "rules"
MODULES = sorted(info.name for info in pkgutil.iter_modules(rules_package.__path__))


def _rules_of(module: str) -> list[Rule]:
    return [rule for rule in all_rules() if type(rule).__module__ == f"{rules_package.__name__}.{module}"]


def _metas_of(module: str) -> list[RuleMeta]:
    return [meta for rule in _rules_of(module) for meta in rule.metas]


def _gated(meta: RuleMeta) -> bool:
    """Whether some supported target or source generation leaves this code off."""
    sources = [s for s in SOURCES if s != "auto"]
    return not all(acts_on(meta, parse_target(t), s) for t in TARGETS for s in sources)


def _tests(module: str) -> tuple[set[str], str]:
    """The test functions of a rule's test file and its text."""
    text = (TESTS / f"test_{module}.py").read_text(encoding="utf-8")
    names = {node.name for node in ast.parse(text).body if isinstance(node, ast.FunctionDef)}
    return {name for name in names if name.startswith("test_")}, text


def test_every_rule_module_has_its_test_file_and_every_test_file_its_module() -> None:
    tested = sorted(p.stem.removeprefix("test_") for p in TESTS.glob("test_*.py"))
    assert [m for m in MODULES if m not in tested] == [], (
        "rule modules without tests/upgrade/rules/test_<module>.py"
    )
    assert [t for t in tested if t not in MODULES] == [], "rule test files without a rule module"


def test_every_rule_module_holds_a_registered_rule_and_nothing_else_lives_in_rules() -> None:
    # A module of shared helpers belongs beside the engine (upgrade/), not in rules/.
    assert [m for m in MODULES if not _rules_of(m)] == []
    for module in MODULES:
        importlib.import_module(f"{rules_package.__name__}.{module}")


def test_every_code_is_declared_by_exactly_one_rule() -> None:
    counts = Counter(meta.code for rule in all_rules() for meta in rule.metas)
    assert [code for code, n in counts.items() if n > 1] == []


@pytest.mark.parametrize("module", MODULES)
def test_every_rule_test_file_has_its_fix_no_op_and_version_gate_cases(module: str) -> None:
    names, text = _tests(module)
    metas = _metas_of(module)
    if any(meta.fix is not FixSafety.NONE for meta in metas):
        # assert_fix also runs the output again and asserts that nothing more changes
        assert "assert_fix(" in text or any(n.startswith("test_fix") for n in names), f"{module}: no fix case"
    else:
        assert "codes(" in text or any(n.startswith("test_report") for n in names), (
            f"{module}: no report case"
        )
    assert any(n.startswith("test_no_op") for n in names), f"{module}: no test_no_op* case"
    if any(_gated(meta) for meta in metas):
        assert any(n.startswith("test_version_gate") for n in names), f"{module}: no test_version_gate* case"
