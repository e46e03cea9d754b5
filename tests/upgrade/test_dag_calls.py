"""The call-site index: every call of a file classified once (callee, compat shim, DAG, operator), giving
each rule the answer it used to work out for itself."""

from __future__ import annotations

import ast
import textwrap

from airshift.upgrade.context import FileContext, Settings
from airshift.upgrade.dag_calls import DAG_CLASSES, call_sites, dag_calls, is_dag_call, is_operator_call
from airshift.upgrade.moves import load_table
from tests.upgrade.test_fast_paths import _corpus_sources, _parseable


def _context(text: str) -> FileContext:
    text = textwrap.dedent(text)
    return FileContext(text, ast.parse(text), Settings(), load_table(), "2")


SOURCE = """\
    import datetime
    from airflow import DAG
    from airflow.operators.bash import BashOperator as Bash
    import airflow.providers.http.operators.http as http
    try:
        from airflow.sdk import task_group
    except ImportError:
        from airflow.utils.task_group import task_group

    class MyOperator(Bash):
        pass

    with DAG("d", start_date=datetime.datetime(2024, 1, 1)) as dag:
        Bash(task_id="a")
        http.HttpOperator(task_id="b")
        MyOperator(task_id="c")
        task_group("g")
        print(len("x"))
"""


def test_each_call_is_classified_once_in_source_order() -> None:
    ctx = _context(SOURCE)
    sites = call_sites(ctx)
    assert call_sites(ctx) is sites  # built once per file
    rows = [(s.written, s.qualified, s.last, s.guarded, s.dag, s.airflow) for s in sites.all]
    assert rows == [
        ("DAG", "airflow.DAG", "DAG", False, True, True),
        ("datetime", "datetime.datetime", "datetime", False, False, False),
        ("Bash", "airflow.operators.bash.BashOperator", "BashOperator", False, False, True),
        (
            "HttpOperator",
            "airflow.providers.http.operators.http.HttpOperator",
            "HttpOperator",
            False,
            False,
            True,
        ),
        ("MyOperator", None, "MyOperator", False, False, False),
        ("task_group", "airflow.sdk.task_group", "task_group", True, False, False),  # a compat shim
        ("print", None, "print", False, False, False),
        ("len", None, "len", False, False, False),
    ]
    assert [s.node for s in sites.airflow] == [sites.all[i].node for i in (0, 2, 3)]
    assert dag_calls(ctx) == [sites.all[0].node]
    local = {"MyOperator"}
    assert [s.written for s in sites.all if s.operator(local)] == ["Bash", "HttpOperator", "MyOperator"]


def test_a_dag_the_file_defines_itself_is_not_airflows() -> None:
    ctx = _context("from airflow import models\ndef DAG(x):\n    return x\nDAG('a')\nmodels.DAG('b')\n")
    assert [(s.written, s.dag) for s in call_sites(ctx).all] == [("DAG", False), ("DAG", True)]


def test_a_call_from_another_tree_is_answered_without_the_index() -> None:
    ctx = _context("from airflow import DAG\nDAG('a')\n")
    foreign = ast.parse("DAG('b')").body[0].value  # type: ignore[attr-defined]
    assert call_sites(ctx).of(foreign) is None
    assert is_dag_call(ctx, foreign)  # worked out from the file's imports, as before the index


def test_the_index_agrees_with_resolving_each_call_on_real_files() -> None:
    """What rules got by asking the import table about each call is what the index holds."""
    for text, tree in _parseable(_corpus_sources(60)):
        ctx = FileContext(text, tree, Settings(), load_table(), "2")
        own = {
            n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        }
        for site in call_sites(ctx).all:
            call = site.node
            qualified = ctx.imports.qualified(call.func)
            binding = ctx.imports.root_binding(call.func)
            written = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
            assert site.qualified == qualified and site.written == written
            assert site.guarded == (binding is not None and binding.guarded)
            mine = isinstance(call.func, ast.Name) and call.func.id in own
            assert site.dag == (not mine and (qualified in DAG_CLASSES if qualified else written == "DAG"))
            last = qualified.rpartition(".")[2] if qualified else written
            assert site.operator(set()) == last.endswith(("Operator", "Sensor"))
            assert is_operator_call(ctx, call, set()) == site.operator(set())
