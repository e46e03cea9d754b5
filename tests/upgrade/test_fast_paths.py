"""The scan's fast paths give exactly what the slower code they short-cut gives.

Each fast path (a faster walk, line offsets without a regex, a literal read without the tokenizer, gates
that skip work which cannot find anything) is compared with the general code on hand-written edge cases
and on real-looking files: the golden inputs and files of the benchmark corpus.
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from airshift.upgrade import context, templates
from airshift.upgrade.context import FileContext, NodeIndex, Settings
from airshift.upgrade.engine import parse
from airshift.upgrade.moves import load_table
from airshift.upgrade.names import ImportTable
from airshift.upgrade.pystrings import _single_piece, literal_pieces
from airshift.upgrade.rules import context_access
from airshift.upgrade.rules.context_access import ContextAccess
from airshift.upgrade.source import _NEWLINE, LineIndex, decode_source
from airshift.upgrade.walk import walk

ROOT = Path(__file__).resolve().parents[2]
EDGE_CASES = [
    "",
    "x = 1",
    "x = 1\n",
    "a\r\nb\rc\n\nd",
    "s = 'héllo'\nt = f'{s!r:>{10}}' \\\n  'x'\n",
    "@deco(1)\nasync def f(a, /, b=2, *c, d: int = 3, **e) -> None:\n    async with x as y:\n        await y\n",
    "match p:\n    case [1, *rest] | {'k': _} if rest:\n        pass\n    case Point(x=0) as q:\n        pass\n",
    "try:\n    import a\nexcept* ValueError as e:\n    global g\n    nonlocal_ = lambda: (yield)\n",
    "x: list[int] = [i for i in range(3) if i async for j in k]\ndel x\n",
]


def _corpus_sources(count: int = 120) -> list[str]:
    """Golden inputs and the first `count` files of the benchmark corpus."""
    golden = sorted((ROOT / "tests/golden/inputs").rglob("*.py"))
    sources = [decode_source(path, path.read_bytes()).text for path in golden]
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        corpus = importlib.import_module("corpus")
        sources += [corpus.render_file(corpus.DEFAULT_SEED, index)[2] for index in range(count)]
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
        sys.modules.pop("corpus", None)
    return sources


@pytest.fixture(scope="module")
def sources() -> list[str]:
    return _corpus_sources()


def _parseable(texts: list[str]) -> Iterator[tuple[str, ast.Module]]:
    for text in texts:
        try:
            yield text, ast.parse(text)
        except SyntaxError:
            continue


# -- walk ---------------------------------------------------------------------------------------------


def test_walk_yields_what_ast_walk_yields_in_the_same_order(sources: list[str]) -> None:
    for _, tree in _parseable([*EDGE_CASES, *sources]):
        for root in [tree, *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.Call)))]:
            expected, got = list(ast.walk(root)), list(walk(root))
            assert len(got) == len(expected)
            assert all(a is b for a, b in zip(got, expected, strict=True))


# -- line offsets -------------------------------------------------------------------------------------


def _regex_starts(text: str) -> list[int]:
    return [0, *(match.end() for match in _NEWLINE.finditer(text))]


def _slow_offset(text: str, starts: list[int], line: int, byte_col: int) -> int:
    start = starts[line - 1]
    end = starts[line] if line < len(starts) else len(text)
    return start + len(text[start:end].encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


@pytest.mark.parametrize(
    "text", ["", "a", "\n", "a\n", "a\nb", "\n\n", "a\r\nb\n", "a\rb", "\r\n", "é\n€x\r\n", "x\x0cy\n\u2028z"]
)
def test_line_starts_match_the_regex(text: str) -> None:
    assert LineIndex(text).starts == _regex_starts(text)


def test_offsets_match_decoding_each_line(sources: list[str]) -> None:
    for text, tree in _parseable([*EDGE_CASES, *sources, "s = 'é'\nt = ('€', 'x')\n"]):
        index = LineIndex(text)
        assert index.starts == _regex_starts(text)
        for node in ast.walk(tree):
            if hasattr(node, "end_col_offset") and node.end_lineno is not None:
                for line, col in ((node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset)):
                    assert index.offset(line, col) == _slow_offset(text, index.starts, line, col)


# -- string literals ----------------------------------------------------------------------------------

LITERALS = [
    "'abc'",
    '"abc"',
    "''",
    '""',
    '""""""',
    "'''a\n'b'\n'''",
    '"""x""y"""',
    "r'a{{ b }}'",
    'R"a"',
    "u'{{ ds }}'",
    "'a' 'b'",
    "'a'\n    'b'",
    "'ab' ''",
    "'' 'ab'",
    "'a\\'b'",
    "r'a\\'b'",
    "'\\x41'",
    '"it\'s"',
    "'\"'",
    "'''a''' 'b'",
    "('x'  # comment\n 'y')",
    "'{{ execution_date }}'",
]


def _constants(texts: list[str]) -> Iterator[tuple[str, ast.Constant]]:
    for text, tree in _parseable(texts):
        lines = LineIndex(text)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                start = lines.offset(node.lineno, node.col_offset)
                end = lines.offset(node.end_lineno or node.lineno, node.end_col_offset or 0)
                yield text[start:end], node


def test_literal_pieces_without_the_tokenizer_agree_with_it(sources: list[str]) -> None:
    texts = [f"x = {literal}\n" for literal in LITERALS] + sources
    checked = 0
    for segment, node in _constants(texts):
        assert literal_pieces(segment, 100, str(node.value)) == literal_pieces(segment, 100), segment
        checked += 1
    assert checked > 1000


def test_the_single_piece_path_refuses_what_it_cannot_prove() -> None:
    assert _single_piece("'a' 'b'", 0, "ab") is None  # concatenation: the text between the quotes differs
    assert _single_piece("'a\\'b'", 0, "a'b") is None  # an escape
    assert _single_piece("b'x'", 0, "x") is None
    assert _single_piece("'x'", 0, "y") is None
    piece = _single_piece("u'''{{ ds }}'''", 10, "{{ ds }}")
    assert piece is not None and (piece.source_start, piece.length, piece.quote) == (14, 8, "'")


# -- template gates -----------------------------------------------------------------------------------


def test_mentions_removed_equals_the_regex_alone(sources: list[str]) -> None:
    samples = [
        *sources,
        "{{ conf }}",
        "{{ confx }}",
        "{ next_ds }",
        "next_ds",
        "{{ dag_run.external_trigger }}",
    ]
    for text in samples:
        assert templates.mentions_removed(text) == (
            "{" in text and templates._MENTION.search(text) is not None
        )


@pytest.mark.parametrize(
    "text",
    [
        "{# execution_date #}",
        "{ execution_date }",
        "{#",
        "{#x#} next_ds {#",
        "{ {conf} }",
        "a {execution_date} b",
    ],
)
def test_text_without_expressions_or_statements_has_no_free_names(text: str) -> None:
    # rewrite_template skips Jinja for such text: Jinja would see only data (and comments), or fail to read it.
    assert "{{" not in text and "{%" not in text
    read = templates._read(text)
    assert read is None or (not read[1] and all(kind != "name" for _, kind, _ in read[0]))
    result = templates.rewrite_template(text)
    assert (result.text, result.changes, result.problems) == (text, [], [])


# -- AS701 gates --------------------------------------------------------------------------------------

AS701_EDGES = [
    # A key written with an escape: the text gate passes on "conf"; the AST sees the real key.
    "from airflow.sdk import task\nconf = 1\n@task\ndef t(**kw):\n    return kw['execution\\x5fdate']\n",
    # A parameter named after a removed key, no string key anywhere.
    "from airflow.sdk import task\n@task\ndef t(next_ds, **kw):\n    return next_ds\n",
    # Attribute reads only.
    "from airflow.sdk import task\n@task\ndef t(dag_run=None, **kw):\n    return dag_run.external_trigger\n",
    "from airflow.sdk import task\n@task\ndef t(**kw):\n    return kw['ti'].execution_date\n",
    # Nothing to find, though the text mentions conf.
    "from airflow.sdk import task\nconfig = {}\n@task\ndef t(**kw):\n    return kw['ds']\n",
]


def _as701(text: str) -> list[tuple[int, int, str]]:
    tree = parse(text)
    ctx = FileContext(text, tree, Settings(), load_table(), "2", imports=ImportTable(tree))
    return [(f.line, f.col, f.message) for f in ContextAccess().check(ctx)]


def test_as701_gates_skip_only_files_without_findings(
    sources: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    samples = [*AS701_EDGES, *sources]
    gated = [_as701(text) for text in samples]
    monkeypatch.setattr(context_access, "_may_read", lambda ctx: True)
    monkeypatch.setattr(context_access, "_may_take", lambda ctx: True)
    assert [_as701(text) for text in samples] == gated
    assert sum(bool(found) for found in gated) >= 20  # the comparison covered files with findings
    assert gated[0] and gated[1] and gated[2] and gated[3] and not gated[4]


# -- discovery ----------------------------------------------------------------------------------------


def test_excludes_match_as_fnmatch_decides() -> None:
    import fnmatch

    from airshift.upgrade.discovery import DEFAULT_EXCLUDES, _excluded

    patterns = (*DEFAULT_EXCLUDES, "*_test.py", "*/legacy/*", "[ab]?.py", "x*y")
    paths = [
        Path(p)
        for p in (
            "dags/.git",
            "dags/venv",
            "dags/venvs",
            "dags/a/b_test.py",
            "dags/legacy/x.py",
            "legacy/x.py",
            "dags/a1.py",
            "dags/c1.py",
            "xay",
            "dags/xy/z.py",
            "dags/__pycache__",
            "dags/node_modules/x",
            "dags/ok.py",
        )
    ]
    for path in paths:
        for chosen in (patterns, (), ("*.py",), DEFAULT_EXCLUDES):
            expected = any(
                fnmatch.fnmatch(path.name, pattern) or fnmatch.fnmatch(str(path), pattern)
                for pattern in chosen
            )
            assert _excluded(path, chosen) == expected, (path, chosen)


# -- the shared walk ----------------------------------------------------------------------------------


def _index_fields(index: NodeIndex) -> dict[str, object]:
    lists = ("calls", "attributes", "functions", "classes", "assigns", "ifs", "templates")
    found: dict[str, object] = {name: [id(node) for node in getattr(index, name)] for name in lists}
    found["names"] = [(name, [id(node) for node in nodes]) for name, nodes in index.names.items()]
    found["assigned"], found["strings"] = index.assigned, index.strings
    return found


def test_skipping_value_fields_changes_nothing_the_walk_collects(
    sources: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    trees = [tree for _, tree in _parseable([*EDGE_CASES, *sources])]
    fast = [_index_fields(NodeIndex.build(tree)) for tree in trees]
    monkeypatch.setattr(context, "_VALUE_FIELDS", {})
    monkeypatch.setattr(context, "_CHILD_FIELDS", {})
    assert [_index_fields(NodeIndex.build(tree)) for tree in trees] == fast


def test_value_fields_never_hold_nodes(sources: list[str]) -> None:
    for _, tree in _parseable([*EDGE_CASES, *sources]):
        for node in ast.walk(tree):
            for name in context._VALUE_FIELDS.get(node.__class__, ()):
                value = getattr(node, name, None)
                values = value if isinstance(value, list) else [value]
                assert not any(isinstance(v, ast.AST) for v in values), (node, name)


def test_walk_instances_is_walk_filtered_by_type(sources: list[str]) -> None:
    from airshift.upgrade.walk import walk_instances

    kinds_list: list[type | tuple[type, ...]] = [ast.For, ast.Name, (ast.Subscript, ast.Call, ast.Attribute)]
    for _, tree in _parseable([*EDGE_CASES, *sources]):
        for kinds in kinds_list:
            expected = [node for node in ast.walk(tree) if isinstance(node, kinds)]
            got = list(walk_instances(tree, kinds))
            assert len(got) == len(expected) and all(a is b for a, b in zip(got, expected, strict=True))
