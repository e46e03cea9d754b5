"""A per-file import table: which local name stands for which qualified name.

Resolves `import a.b as m` (m -> a.b), `from a.b import c as d` (d -> a.b.c), `import a.b` (a -> a, so
`a.b.X` resolves to a.b.X) and attribute chains on top of those. Imports inside a `try:` whose handlers
catch ImportError are compat shims written for several Airflow versions on purpose: they are marked
`guarded`, and rules leave them alone.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
# try/except and (Python 3.11+) try/except*; looked up once rather than by class name for every statement.
_TRY_TYPES: tuple[type[ast.stmt], ...] = tuple(
    kind for kind in (ast.Try, getattr(ast, "TryStar", None)) if isinstance(kind, type)
)


@dataclass(frozen=True)
class Binding:
    local: str
    qualified: str
    statement: ast.Import | ast.ImportFrom
    alias: ast.alias
    guarded: bool
    top_level: bool


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    for node in types:
        name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
        if name in _IMPORT_ERRORS:
            return True
    return False


def _walk_imports(
    body: list[ast.stmt], guarded: bool, top_level: bool
) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool, bool]]:
    for statement in body:
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            yield statement, guarded, top_level
        elif isinstance(statement, _TRY_TYPES):
            try_node: ast.Try = statement  # type: ignore[assignment]
            shim = any(_catches_import_error(h) for h in try_node.handlers)
            for part in (try_node.body, try_node.orelse, try_node.finalbody):
                yield from _walk_imports(part, guarded or shim, top_level)
            for handler in try_node.handlers:
                yield from _walk_imports(handler.body, guarded or shim, top_level)
        elif isinstance(statement, (ast.If, ast.For, ast.While, ast.With, ast.AsyncFor, ast.AsyncWith)):
            # `if TYPE_CHECKING:` and version checks are deliberate too.
            conditional = guarded or isinstance(statement, ast.If)
            for part in (statement.body, getattr(statement, "orelse", [])):
                yield from _walk_imports(part, conditional, top_level)
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield from _walk_imports(statement.body, guarded, False)


class ImportTable:
    """Bindings made by import statements anywhere in a module, plus the names the module binds itself."""

    def __init__(self, tree: ast.Module) -> None:
        self.bindings: dict[str, Binding] = {}
        self.all_bindings: list[Binding] = []
        # Rules ask about the same nodes again and again; trees live as long as this table.
        self._qualified: dict[int, tuple[ast.expr, str | None]] = {}
        self.statements: list[tuple[ast.Import | ast.ImportFrom, bool, bool]] = list(
            _walk_imports(tree.body, guarded=False, top_level=True)
        )
        for statement, guarded, top_level in self.statements:
            for binding in _bindings_of(statement, guarded, top_level):
                self.all_bindings.append(binding)
                # A guarded binding never hides an unguarded one: the unguarded one is what we rewrite.
                if binding.local not in self.bindings or not binding.guarded:
                    self.bindings[binding.local] = binding

    def qualified(self, node: ast.expr) -> str | None:
        """The qualified name an expression refers to through imports, e.g. `bq.BigQueryOperator`."""
        cached = self._qualified.get(id(node))
        if cached is not None and cached[0] is node:
            return cached[1]
        result = self._qualify(node)
        # The entry holds the node itself: a node parsed outside the file's tree and freed could otherwise
        # hand its id, and so its answer, to a later node.
        self._qualified[id(node)] = (node, result)
        return result

    def _qualify(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Name):
            binding = self.bindings.get(node.id)
            return binding.qualified if binding else None
        if isinstance(node, ast.Attribute):
            base = self.qualified(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    def root_binding(self, node: ast.expr) -> Binding | None:
        while isinstance(node, ast.Attribute):
            node = node.value
        if isinstance(node, ast.Name):
            return self.bindings.get(node.id)
        return None

    def guarded(self, node: ast.expr) -> bool:
        """True when `node` names something bound by a compat shim (an import inside `try/except
        ImportError` or under an `if`): rules leave such calls as their author wrote them."""
        binding = self.root_binding(node)
        return binding is not None and binding.guarded

    def imports_airflow(self) -> bool:
        if any(b.qualified == "airflow" or b.qualified.startswith("airflow.") for b in self.all_bindings):
            return True
        return any(  # `from airflow.x import *` binds nothing we can see, but counts
            isinstance(s, ast.ImportFrom) and (s.module or "").startswith("airflow")
            for s, _, _ in self.statements
        )


def _bindings_of(statement: ast.Import | ast.ImportFrom, guarded: bool, top_level: bool) -> Iterator[Binding]:
    if isinstance(statement, ast.Import):
        for alias in statement.names:
            if alias.asname:
                yield Binding(alias.asname, alias.name, statement, alias, guarded, top_level)
            else:
                root = alias.name.split(".")[0]
                yield Binding(root, root, statement, alias, guarded, top_level)
        return
    if statement.level or not statement.module:
        return  # relative imports name the user's own modules
    for alias in statement.names:
        if alias.name == "*":
            continue
        yield Binding(
            alias.asname or alias.name,
            f"{statement.module}.{alias.name}",
            statement,
            alias,
            guarded,
            top_level,
        )


def assigned_names(tree: ast.Module) -> set[str]:
    """Every name the module binds other than by import: assignments, defs, parameters, loop targets."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names
