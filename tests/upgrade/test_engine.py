"""The engine's guarantees: bytes kept where nothing changes, encodings, edits that would break parsing,
positions mapped back to the original, a fixed point."""

from __future__ import annotations

import pytest

from airshift.upgrade.engine import SyntaxProblem, apply_edits, parse
from airshift.upgrade.model import Edit
from airshift.upgrade.source import LineIndex, UnreadableSource, decode_source
from tests.upgrade.conftest import run


def test_apply_edits_reverse_pass_with_insertion_at_a_deleted_span() -> None:
    text = "abcdef"
    assert apply_edits(text, [Edit(1, 3, ""), Edit(1, 1, "XY"), Edit(5, 6, "Z")]) == "aXYdeZ"


def test_line_index_handles_multibyte_columns() -> None:
    text = "x = 'é'; y = 1\n"
    index = LineIndex(text)
    # ast columns are UTF-8 byte offsets: `y` is at byte 10, character 9.
    assert index.offset(1, 10) == 9
    assert text[index.offset(1, 10)] == "y"


def test_python2_file_is_a_clear_syntax_problem() -> None:
    with pytest.raises(SyntaxProblem, match="Python 2"):
        parse('print "hello"\n')


def test_non_utf8_without_cookie_is_unreadable() -> None:
    with pytest.raises(UnreadableSource, match="not valid UTF-8"):
        decode_source(__import__("pathlib").Path("x.py"), b"x = '\xff'\n")


def test_latin1_cookie_and_bom_are_honoured() -> None:
    latin = decode_source(__import__("pathlib").Path("x.py"), b"# -*- coding: latin-1 -*-\nx = '\xe9'\n")
    assert latin.text.endswith("x = '\u00e9'\n")
    assert latin.encode(latin.text) == b"# -*- coding: latin-1 -*-\nx = '\xe9'\n"
    bom = decode_source(__import__("pathlib").Path("x.py"), b"\xef\xbb\xbfx = 1\n")
    assert bom.encode(bom.text).startswith(b"\xef\xbb\xbf")


def test_positions_of_later_pass_findings_map_to_the_original() -> None:
    # Pass 1 rewrites the import (longer line); the days_ago finding of the same pass keeps its line.
    source = (
        "from airflow.operators.bash_operator import BashOperator\n"
        "from airflow.utils.dates import days_ago\n"
        "\n"
        "t = BashOperator(task_id='t', bash_command='x', start_date=days_ago(1))\n"
    )
    result = run(source)
    by_code = {f.code: f for f in result.findings}
    assert by_code["AS401"].line == 4
    assert by_code["AS101"].line == 1


def test_file_without_airflow_is_untouched_and_not_analysed() -> None:
    source = "def schedule_interval():\n    return 1\n"
    result = run(source)
    assert result.text == source and result.findings == []


def test_fixed_point_reaches_idempotence_in_one_run() -> None:
    source = "from airflow.models import Variable\nx = Variable.get('k', default_var=1)\n"
    once = run(source)
    twice = run(once.text)
    assert twice.text == once.text
    assert "default=1" in once.text and "airflow.sdk" in once.text


def test_fixes_that_together_repeat_a_keyword_are_not_applied_together() -> None:
    # Found by tests/upgrade/test_properties.py: schedule_interval= and timetable= both become schedule=;
    # the result parses but does not compile. The engine keeps the first fix and reports the other.
    source = "from airflow import DAG\ndag = DAG('etl', schedule_interval='@daily', timetable=None)\n"
    result = run(source, target="2.11")
    compile(result.text, "<fixed>", "exec")
    assert result.text.count("schedule=") <= 1
    assert any("dropped" in note for note in result.dropped)
    assert run(result.text, target="2.11").text == result.text
