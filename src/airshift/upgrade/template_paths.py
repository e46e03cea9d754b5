"""Where Airflow looks for a DAG's template files, read from the DAG file without running it.

Airflow's Jinja loader searches the DAG file's own folder first, then each `template_searchpath` entry;
a template file may `include`/`import`/`extends` further templates, found on the same search path.
Entries are often computed (`os.path.dirname(os.path.abspath(__file__))`, `Path(__file__).parent / "sql"`)
or name the folder the DAGs are deployed to (`/usr/local/airflow/dags/sql`), which is not on the machine
running airshift: `--path-map /usr/local/airflow/dags=.` says where that folder is here. An entry that
can be neither computed nor mapped is reported, so a template file airshift cannot see is never silent.
"""

from __future__ import annotations

import ast
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from airshift.upgrade.context import FileContext

if TYPE_CHECKING:
    import jinja2

_PATH_FUNCTIONS: dict[str, Callable[[str], str]] = {
    "os.path.dirname": os.path.dirname,
    "os.path.abspath": os.path.abspath,
    "os.path.realpath": os.path.abspath,  # links are resolved when the folder is read
    "os.path.normpath": os.path.normpath,
    "os.path.expanduser": lambda p: p,  # a deploy home folder is not this machine's
}
_PATH_CLASSES = {"pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "pathlib.PurePosixPath"}
_MAX_DEPTH = 12


@dataclass
class Entry:
    """One `template_searchpath` entry as written in the DAG file."""

    node: ast.expr
    text: str | None  # the path it evaluates to (None: not computable without running the file)
    folder: Path | None  # where it is on this machine (None: unknown or not here)
    problem: str | None = None  # why its templates cannot be read


@dataclass
class SearchPath:
    folders: list[Path] = field(default_factory=list)  # in Airflow's order: the DAG folder first
    entries: list[Entry] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return all(entry.folder is not None for entry in self.entries)

    def find(self, name: str) -> Path | None:
        """The file Jinja's FileSystemLoader would load for `name` (first folder that has it)."""
        if os.path.isabs(name):
            return None  # Jinja loaders never take absolute names
        for folder in self.folders:
            candidate = folder / name
            if candidate.is_file():
                return candidate
        return None


def map_path(text: str, path_map: tuple[tuple[str, str], ...]) -> str | None:
    """`text` under the longest mapped prefix, moved to its local folder; None when no prefix matches."""
    best: tuple[str, str] | None = None
    normal = os.path.normpath(text)
    for prefix, local in path_map:
        prefix = os.path.normpath(prefix)
        if (normal == prefix or normal.startswith(prefix.rstrip("/") + "/")) and (
            best is None or len(prefix) > len(best[0])
        ):
            best = (prefix, local)
    if best is None:
        return None
    rest = os.path.relpath(normal, best[0])
    return os.path.normpath(os.path.join(best[1], rest)) if rest != "." else best[1]


def dag_folder(ctx: FileContext) -> Path:
    return Path(ctx.path).resolve().parent if ctx.path and ctx.path != "<string>" else Path.cwd()


def searchpath(ctx: FileContext, dag_calls: list[ast.Call]) -> SearchPath:
    """The folders Airflow's template loader searches for the DAGs `dag_calls` build."""
    base = dag_folder(ctx)
    result = SearchPath(folders=[base])
    for call in dag_calls:
        item = next((k for k in call.keywords if k.arg == "template_searchpath"), None)
        if item is None:
            continue
        value = _module_value(ctx, item.value) if isinstance(item.value, ast.Name) else item.value
        nodes = value.elts if isinstance(value, (ast.List, ast.Tuple)) else [item.value]
        for node in nodes:
            entry = _entry(ctx, node, base)
            result.entries.append(entry)
            if entry.folder is not None and entry.folder not in result.folders:
                result.folders.append(entry.folder)
    return result


def _entry(ctx: FileContext, node: ast.expr, base: Path) -> Entry:
    text = evaluate(ctx, node)
    if text is None:
        return Entry(node, None, None, "is computed in a way airshift cannot follow without running the file")
    if not os.path.isabs(text):
        # Jinja joins a relative entry to the working folder of the process; DAG repositories are run
        # from their DAG folder, and that is where such folders are found in practice.
        return Entry(node, text, (base / text).resolve())
    mapped = map_path(text, ctx.settings.path_map)
    if mapped is not None:
        return Entry(node, text, Path(mapped).resolve())
    if Path(text).is_dir():
        return Entry(node, text, Path(text).resolve())
    return Entry(
        node,
        text,
        None,
        f"{text} is not on this machine (a deploy path?): its template files are not checked; "
        f"say where it is with --path-map {_suggested_prefix(text)}=LOCAL_FOLDER",
    )


def _suggested_prefix(text: str) -> str:
    parts = Path(text).parts
    if "dags" in parts:
        return str(Path(*parts[: parts.index("dags") + 1]))
    return text


def _module_value(ctx: FileContext, name: ast.Name) -> ast.expr:
    """The value of a module-level `NAME = ...` (the last one), or the name itself."""
    found: ast.expr = name
    for statement in ctx.tree.body:
        if isinstance(statement, ast.Assign):
            targets, value = statement.targets, statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            targets, value = [statement.target], statement.value
        else:
            continue
        if len(targets) == 1 and isinstance(targets[0], ast.Name) and targets[0].id == name.id:
            found = value
    return found


def evaluate(ctx: FileContext, node: ast.expr, depth: int = 0) -> str | None:
    """The path text an expression builds from literals, `__file__`, os.path and pathlib; None otherwise."""
    if depth > _MAX_DEPTH:
        return None
    again = depth + 1
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        if node.id == "__file__":
            return str(Path(ctx.path).resolve()) if ctx.path and ctx.path != "<string>" else None
        value = _module_value(ctx, node)
        return None if value is node else evaluate(ctx, value, again)
    if isinstance(node, ast.JoinedStr):
        parts = [
            evaluate(ctx, v.value if isinstance(v, ast.FormattedValue) else v, again) for v in node.values
        ]
        return None if any(p is None for p in parts) else "".join(p for p in parts if p is not None)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Div)):
        left, right = evaluate(ctx, node.left, again), evaluate(ctx, node.right, again)
        if left is None or right is None:
            return None
        return left + right if isinstance(node.op, ast.Add) else os.path.join(left, right)
    if isinstance(node, ast.Attribute) and node.attr == "parent":
        inner = evaluate(ctx, node.value, again)
        return os.path.dirname(inner) if inner is not None else None
    if isinstance(node, ast.Call):
        return _call(ctx, node, again)
    return None


def _call(ctx: FileContext, call: ast.Call, depth: int) -> str | None:
    if call.keywords:
        return None
    args = [evaluate(ctx, arg, depth) for arg in call.args]
    if any(a is None for a in args):
        return None
    values = [a for a in args if a is not None]
    func = call.func
    qualified = ctx.imports.qualified(func)
    if qualified in _PATH_FUNCTIONS and len(values) == 1:
        return _PATH_FUNCTIONS[qualified](values[0])
    if qualified == "os.path.join" and values:
        return os.path.join(*values)
    if (qualified in _PATH_CLASSES or qualified in ("os.fspath",) or _is_str(ctx, func)) and values:
        return os.path.join(*values)
    if isinstance(func, ast.Attribute):
        owner = evaluate(ctx, func.value, depth)
        if owner is None:
            return None
        if func.attr in ("resolve", "absolute") and not values:
            return os.path.abspath(owner)
        if func.attr == "joinpath" and values:
            return os.path.join(owner, *values)
        if func.attr == "as_posix" and not values:
            return owner
    return None


def _is_str(ctx: FileContext, func: ast.expr) -> bool:
    return isinstance(func, ast.Name) and func.id == "str" and "str" not in ctx.nodes.assigned


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment()


def referenced_templates(text: str) -> list[str]:
    """Names of the templates a template includes, imports or extends (literal names only)."""
    if "{%" not in text or not any(word in text for word in ("include", "import", "extends")):
        return []
    import jinja2  # only for templates that name others: a plain scan never pays for Jinja
    from jinja2 import meta

    try:
        parsed = _environment().parse(text)
    except jinja2.TemplateSyntaxError:
        return []
    names: list[str] = []
    for name in meta.find_referenced_templates(parsed):
        if isinstance(name, str) and name not in names:
            names.append(name)
    return names


def relocated(text: str, relocate: tuple[tuple[str, str], ...]) -> str | None:
    """With --out: the path in the output folder that an absolute path into a source folder becomes."""
    if not os.path.isabs(text):
        return None
    normal = os.path.normpath(text)
    for source, out in relocate:
        if normal == source or normal.startswith(source.rstrip("/") + "/"):
            rest = os.path.relpath(normal, source)
            return out if rest == "." else os.path.join(out, rest)
    return None
