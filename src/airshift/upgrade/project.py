"""Facts that span files, gathered before files are analysed one by one.

SubDAG factories are the case that needs it: a DAG file calls `SubDagOperator(subdag=build_x(...))` while
`build_x` often lives in a helper module next to the DAGs. The pre-pass reads only files that mention
SubDAGs, finds the factories they call, and checks each factory has the standard shape (creates a DAG whose
id is '<parent>.<child>', adds tasks with dag=..., returns it). The result travels with the settings, so
each file's analysis (and its cache key) knows about the factories.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from pathlib import Path

from airshift.upgrade.discovery import Discovery, Root
from airshift.upgrade.names import ImportTable
from airshift.upgrade.source import UnreadableSource, decode_source, read_source
from airshift.upgrade.walk import walk


@dataclass(frozen=True)
class SubdagFactory:
    """A function that builds a sub-DAG in the standard way and can become a TaskGroup builder."""

    qualified: str  # module.function, as DAG files import it
    group_param: str  # the parameter that names the child (the second part of '<parent>.<child>')
    group_index: int  # its position among the positional parameters (-1: keyword-only)
    dag_variable: str  # the local name of the DAG the function builds


def module_name(root: Root, path: Path) -> str:
    """The module name Airflow gives a file: the DAG folder is on sys.path."""
    base = root.path if root.path.is_dir() else root.path.parent
    relative = path.relative_to(base).with_suffix("")
    parts = list(relative.parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def module_names(files: list[tuple[Root, Path]]) -> list[str]:
    """`module_name` of each file, asking the file system once per root rather than once per file (a warm
    scan of a large estate spent a tenth of its time on those calls)."""
    bases: dict[int, tuple[Root, str]] = {}
    names: list[str] = []
    for root, path in files:
        known = bases.get(id(root))
        if known is None or known[0] is not root:
            base = root.path if root.path.is_dir() else root.path.parent
            known = bases[id(root)] = (root, str(base).rstrip(os.sep) + os.sep)
        text = str(path)
        if not text.startswith(known[1]) or not text.endswith(".py"):
            names.append(module_name(root, path))  # not the usual shape: the general way
            continue
        parts = text[len(known[1]) : -len(".py")].split(os.sep)
        if parts and parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


def _parse(path: Path, raw: bytes | None = None) -> ast.Module | None:
    try:
        source = read_source(path) if raw is None else decode_source(path, raw)
        return ast.parse(source.text)
    except (UnreadableSource, SyntaxError, ValueError, RecursionError):
        return None


def _factory_calls(tree: ast.Module, module: str) -> set[str]:
    """Qualified names of the functions whose result is passed as `subdag=`."""
    imports = ImportTable(tree)
    names: set[str] = set()
    for node in walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg == "subdag" and isinstance(keyword.value, ast.Call):
                func = keyword.value.func
                qualified = imports.qualified(func)
                if qualified is None and isinstance(func, ast.Name):
                    qualified = f"{module}.{func.id}"
                if qualified:
                    names.add(qualified)
    return names


def find_subdag_factories(
    discovery: Discovery, modules: list[str] | None = None, contents: dict[Path, bytes] | None = None
) -> tuple[SubdagFactory, ...]:
    """`modules`: the module name of each of discovery.python, when the caller has them already;
    `contents`: the bytes of those files, when the caller has read them already (else they are read)."""
    if modules is None:
        modules = module_names(discovery.python)
    by_module: dict[str, Path] = {}
    wanted: set[str] = set()
    for (_, path), module in zip(discovery.python, modules, strict=True):
        by_module[module] = path
        try:
            raw = contents[path] if contents is not None and path in contents else path.read_bytes()
        except OSError:
            continue
        # ASCII bytes decode to themselves whatever surrounds them, so this is the same test as on the
        # decoded text, without decoding every file of the run.
        if b"subdag" not in raw:
            continue
        tree = _parse(path, raw)
        if tree is not None:
            wanted |= _factory_calls(tree, module)
    factories: list[SubdagFactory] = []
    for qualified in sorted(wanted):
        module, _, function = qualified.rpartition(".")
        factory_file = by_module.get(module)
        known = contents.get(factory_file) if contents is not None and factory_file else None
        tree = _parse(factory_file, known) if factory_file else None
        if tree is None:
            continue
        for statement in tree.body:
            if isinstance(statement, ast.FunctionDef) and statement.name == function:
                shape = factory_shape(statement)
                if shape is not None:
                    positional = [a.arg for a in [*statement.args.posonlyargs, *statement.args.args]]
                    index = positional.index(shape[0]) if shape[0] in positional else -1
                    factories.append(SubdagFactory(qualified, shape[0], index, shape[1]))
    return tuple(factories)


def factory_shape(function: ast.FunctionDef) -> tuple[str, str] | None:
    """(group parameter, DAG variable) when `function` builds and returns a sub-DAG the standard way."""
    params = {a.arg for a in [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]}
    created: tuple[str, ast.Call] | None = None
    for statement in function.body:
        if (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
            and isinstance(statement.value, ast.Call)
            and _callee_last(statement.value) == "DAG"
        ):
            created = (statement.targets[0].id, statement.value)
            break
    if created is None:
        return None
    variable, call = created
    last = function.body[-1]
    if not (isinstance(last, ast.Return) and isinstance(last.value, ast.Name) and last.value.id == variable):
        return None
    dag_id = next((k.value for k in call.keywords if k.arg == "dag_id"), call.args[0] if call.args else None)
    child = _child_param(dag_id) if dag_id is not None else None
    if child is None or child not in params:
        return None
    for node in walk(function):  # `with subdag:` blocks would need the parent DAG's context too
        if isinstance(node, ast.With) and any(
            isinstance(item.context_expr, ast.Name) and item.context_expr.id == variable
            for item in node.items
        ):
            return None
    return child, variable


def _callee_last(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _child_param(node: ast.expr) -> str | None:
    """The parameter naming the child in '<parent>.<child>' built by an f-string, .format, % or +."""
    if isinstance(node, ast.JoinedStr):
        values = node.values
        if (
            len(values) == 3
            and isinstance(values[1], ast.Constant)
            and values[1].value == "."
            and isinstance(values[2], ast.FormattedValue)
            and isinstance(values[2].value, ast.Name)
        ):
            return values[2].value.id
        return None
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Constant)
        and node.func.value.value in ("{}.{}", "{0}.{1}")
        and len(node.args) == 2
        and isinstance(node.args[1], ast.Name)
    ):
        return node.args[1].id
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        if (
            isinstance(node.left, ast.Constant)
            and node.left.value == "%s.%s"
            and isinstance(node.right, ast.Tuple)
            and len(node.right.elts) == 2
            and isinstance(node.right.elts[1], ast.Name)
        ):
            return node.right.elts[1].id
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and isinstance(node.right, ast.Name):
        left = node.left
        if (
            isinstance(left, ast.BinOp)
            and isinstance(left.op, ast.Add)
            and isinstance(left.right, ast.Constant)
            and left.right.value == "."
        ):
            return node.right.id
    return None
