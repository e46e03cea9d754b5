"""The engine's guarantees: bytes kept where nothing changes, encodings, edits that would break parsing,
positions mapped back to the original, a fixed point."""

from __future__ import annotations

import pytest

from airshift.upgrade.engine import SyntaxProblem, apply_edits, parse
from airshift.upgrade.model import Category, Edit, FixSafety, RuleMeta
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


class _RenameBoth:
    """A deliberately careless rule: renames two keywords to one name, which parses but does not compile."""

    # The engine keeps only findings of codes a rule declares (the central gate reads their windows).
    metas = (RuleMeta("AS999", "careless", "careless", "test", Category.REQUIRED, FixSafety.SAFE),)

    def check(self, ctx):  # type: ignore[no-untyped-def]
        import ast as _ast

        from airshift.upgrade.model import Category, Finding

        for node in _ast.walk(ctx.tree):
            if isinstance(node, _ast.keyword) and node.arg in ("first", "second"):
                yield Finding(
                    code="AS999",
                    message=f"rename {node.arg}",
                    line=node.lineno,
                    col=node.col_offset + 1,
                    category=Category.REQUIRED,
                    edits=(ctx.keyword_name_edit(node, "same"),),
                    offset=ctx.start(node),
                )


def _careless(text: str):  # type: ignore[no-untyped-def]
    from airshift.upgrade.context import Settings
    from airshift.upgrade.engine import analyse
    from airshift.upgrade.moves import load_table
    from airshift.upgrade.registry import Selection
    from airshift.upgrade.versions import parse_target

    settings = Settings(target=parse_target("3.3"), today="2026-11-22")
    return analyse(text, [_RenameBoth()], load_table(), settings, Selection(), fix=True)


def test_an_edit_that_breaks_compiling_is_dropped_and_reported() -> None:
    source = "import airflow\nf(first=1, second=2)\n"
    result = _careless(source)
    compile(result.text, "x", "exec")  # what is left compiles
    assert result.text.count("same=") == 1  # one rename applied, the one that would repeat it dropped
    assert result.not_compiling and "keyword argument repeated" in result.not_compiling[0]
    assert any("fix dropped" in note for note in result.dropped)
    assert any(f.code == "AS999" and not f.fixed for f in result.findings)  # still reported


def test_input_that_does_not_compile_is_never_fine() -> None:
    result = run("from airflow import DAG\nDAG(dag_id='a', dag_id='b')\n", fix=False)
    assert result.not_compiling == ["the file does not compile: line 2: keyword argument repeated: dag_id"]


def test_google_connection_pair_becomes_one_keyword_and_compiles() -> None:
    source = (
        "from airflow.contrib.operators.gcs_to_bq import GoogleCloudStorageToBigQueryOperator\n"
        "a = GoogleCloudStorageToBigQueryOperator(task_id='a', bucket='b', source_objects=['x'],\n"
        "    destination_project_dataset_table='p.d.t', bigquery_conn_id='bq', google_cloud_storage_conn_id='gcs')\n"
        "b = GoogleCloudStorageToBigQueryOperator(task_id='b', bucket='b', source_objects=['x'],\n"
        "    destination_project_dataset_table='p.d.t', bigquery_conn_id='g', google_cloud_storage_conn_id='g')\n"
    )
    result = run(source)
    compile(result.text, "x", "exec")
    assert not result.not_compiling
    assert "gcp_conn_id='bq')" in result.text and "gcp_conn_id='g')" in result.text
    assert "google_cloud_storage_conn_id" not in result.text and "bigquery_conn_id" not in result.text
    messages = [f.message for f in result.findings if f.code == "AS202"]
    assert sum("the values differ" in m for m in messages) == 1  # only where the two connections differ
    assert run(result.text).text == result.text


# fix compiles the input only when that tells something (an output that does not compile, an unedited
# file, a repeated name); these pin that it still reports exactly what compiling it first reported.
def test_fix_reports_an_input_that_does_not_compile_and_still_fixes_it() -> None:
    source = "from airflow.models import Variable\nx = Variable.get('k', default_var=1)\nreturn x\n"
    result = run(source)
    assert "default=1" in result.text  # the edits are not blamed for the input's own error
    assert result.not_compiling == ["the file does not compile: line 3: 'return' outside function"]


def test_fix_reports_an_unedited_input_that_does_not_compile() -> None:
    result = run("import airflow\nreturn airflow\n")
    assert result.text == "import airflow\nreturn airflow\n"
    assert result.not_compiling == ["the file does not compile: line 2: 'return' outside function"]


def test_fix_reports_a_repeated_keyword_in_the_compilers_words() -> None:
    result = run("from airflow import DAG\nDAG(dag_id='a', dag_id='b')\n")
    assert result.not_compiling == ["the file does not compile: line 2: keyword argument repeated: dag_id"]


def test_fix_of_a_file_that_compiles_reports_no_compile_problem() -> None:
    result = run("from airflow.models import Variable\nx = Variable.get('k', default_var=1)\n")
    assert result.not_compiling == [] and "default=1" in result.text
