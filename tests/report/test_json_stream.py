"""Streamed JSON reports are byte for byte what json.dumps(document, indent=2) gives."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airshift.report import json_stream, sarif, upgrade_json
from airshift.upgrade.registry import all_metas
from airshift.upgrade.runner import FileReport, Problem, RunResult


@pytest.mark.parametrize(
    "items",
    [[], [1], [{"a": [1, 2], "b": "line\nbreak"}, {"c": {}}, [], "s\x00"]],
)
@pytest.mark.parametrize("where", ["top", "nested"])
def test_chunks_equal_json_dumps(items: list[object], where: str) -> None:
    if where == "top":
        document: dict[str, object] = {"head": 1, "list": json_stream.PLACEHOLDER, "tail": [1]}
        expected = {**document, "list": items}
    else:
        document = {"runs": [{"tool": "x", "results": json_stream.PLACEHOLDER, "after": {"k": True}}]}
        expected = {"runs": [{"tool": "x", "results": items, "after": {"k": True}}]}
    assert "".join(json_stream.chunks(document, iter(items))) == json.dumps(expected, indent=2)


def run_result() -> RunResult:
    problem = Problem("AS101", 'moved "x"', 1, 2, "required", True, False, end_line=1, requirements=["p>=1"])
    fixed = Problem("AS306", "provide_context", 4, 5, "required", True, True)
    return RunResult(
        [
            FileReport("a.py", "changed", [problem, fixed], source_version="1.10", diff="--- a\n+++ b\n"),
            FileReport("b.py", "failed", error="bad"),
            FileReport("c.py", "unchanged"),
        ],
        1.25,
    )


def test_upgrade_json_document() -> None:
    text = upgrade_json.render(run_result(), "scan", "3.3")
    document = json.loads(text)
    assert [f["path"] for f in document["files"]] == ["a.py", "b.py", "c.py"]
    assert text == json.dumps(document, indent=2)
    assert document["summary"]["findings"] == 2


def test_sarif_document() -> None:
    text = sarif.render(run_result(), all_metas())
    document = json.loads(text)
    assert text == json.dumps(document, indent=2)
    results = document["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["AS101"]  # fixed findings are not reported
    assert document["runs"][0]["invocations"][0]["executionSuccessful"] is False


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_JSON_VALUES)
def test_the_fast_indenting_encoder_gives_json_dumps_bytes(value: object) -> None:
    assert json_stream.indented(value) == json.dumps(value, indent=2)
    assert json_stream.indented(value, "\n    ") == json.dumps(value, indent=2).replace("\n", "\n    ")


def test_values_the_reports_do_not_hold_go_to_json_dumps() -> None:
    for value in [{1: "a", None: 2}, {"k": (1, 2)}, float("inf"), [float("nan")], {"a": {"b": {}}}]:
        assert json_stream.indented(value) == json.dumps(value, indent=2)
