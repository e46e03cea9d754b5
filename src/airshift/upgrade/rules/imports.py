"""Import moves: every class, function and module that moved between Airflow 1.10 and the target.

Data comes from the generated table (tables/moves.json). The rule rewrites `from old import X` to the
new module, renames references when the class itself was renamed (DummyOperator -> EmptyOperator),
rewrites attribute uses of module imports (`bq.BigQueryOperator(...)`), and removes old imports that are
left unused. Imports in try/except ImportError compat blocks are left alone.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator

from airshift.upgrade.context import FileContext
from airshift.upgrade.model import Category, Edit, Finding, FixSafety, ImportSpec, Requirement, RuleMeta
from airshift.upgrade.moves import Resolution
from airshift.upgrade.names import Binding
from airshift.upgrade.registry import owned_names, rewritten_uses
from airshift.upgrade.versions import render

MOVED = RuleMeta(
    code="AS101",
    name="moved-import",
    title="Import of a name that no longer exists at this path on the target",
    why="Airflow 2.0 moved airflow.contrib and the *_operator modules to providers (AIP-21); Airflow 3.0 "
    "removed those shims and moved core operators to apache-airflow-providers-standard and the authoring "
    "API to airflow.sdk.",
    category=Category.REQUIRED,
    fix=FixSafety.SAFE,
    deprecated_from="2.0",
    removed_in="3.0",
)
DEPRECATED = RuleMeta(
    code="AS102",
    name="deprecated-import",
    title="Import of a name that still works on the target but is deprecated there",
    why="Airflow 3.0 made airflow.sdk the public authoring interface (DAG, task, BaseOperator, Variable, ...); "
    "Airflow 3.1 moved more names (timezone helpers, TaskGroup, BaseHook) there.",
    category=Category.SUGGESTED,
    fix=FixSafety.SAFE,
    deprecated_from="2.0",  # the first deprecations (contrib); the moves table gives each name its own window
)
REMOVED = RuleMeta(
    code="AS103",
    name="removed-name",
    title="Use of a name removed with no direct replacement",
    why="Airflow 3.0 removed helpers such as days_ago, apply_defaults, SubDagOperator and the contrib "
    "modules that have no provider equivalent.",
    category=Category.REQUIRED,
    fix=FixSafety.NONE,
    removed_in="3.0",
)
STAR = RuleMeta(
    code="AS104",
    name="star-import-of-moved-module",
    title="`from module import *` of a module whose names moved",
    why="A star import hides which moved names the file uses; airshift cannot rewrite it.",
    category=Category.REQUIRED,
    fix=FixSafety.NONE,
)
UNUSED = RuleMeta(
    code="AS105",
    name="unused-old-import",
    title="Unused import of a moved or removed name",
    why="Old imports left behind by a migration fail on the target even when nothing uses them.",
    category=Category.REQUIRED,
    fix=FixSafety.SAFE,
)

_group_ids = itertools.count(1)


def _is_airflow(name: str | None) -> bool:
    return bool(name) and (name == "airflow" or name.startswith("airflow."))  # type: ignore[union-attr]


class ImportMoves:
    metas: tuple[RuleMeta, ...] = (MOVED, DEPRECATED, REMOVED, STAR, UNUSED)

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if not ctx.imports.imports_airflow():
            return
        exported = _dunder_all(ctx.tree)
        for statement, guarded, top_level in ctx.imports.statements:
            if guarded:
                continue
            if (
                isinstance(statement, ast.ImportFrom)
                and _is_airflow(statement.module)
                and not statement.level
            ):
                yield from self._from_import(ctx, statement, top_level, exported)
            elif isinstance(statement, ast.Import):
                yield from self._plain_import(ctx, statement, exported)
        yield from self._references(ctx)

    # -- helpers ---------------------------------------------------------------------------------
    def _resolve(self, ctx: FileContext, name: str) -> Resolution | None:
        return ctx.table.resolve(name, ctx.target, owned_names())  # a call adapter owns the hop to those

    def _is_old_module(self, ctx: FileContext, name: str) -> bool:
        move = ctx.table.modules.get(name)
        return move is not None and self._resolve(ctx, name) is not None

    def _message(self, ctx: FileContext, old: str, resolution: Resolution) -> str:
        if resolution.new is None:
            note = resolution.note or ""
            note = "" if not note or note.startswith("removed without replacement") else f": {note}"
            removed = next((h.removed_in for h in resolution.hops if h.removed_in), None)
            when = f" in Airflow {removed}" if removed else ""
            return f"`{old}` was removed{when} with no direct replacement{note}"
        if resolution.category is Category.REQUIRED:
            return f"`{old}` moved to `{resolution.new}` (target {render(ctx.target)})"
        return f"`{old}` is deprecated on Airflow {render(ctx.target)}; use `{resolution.new}`"

    def _meta_for(self, resolution: Resolution) -> RuleMeta:
        if resolution.new is None:
            return REMOVED
        return MOVED if resolution.category is Category.REQUIRED else DEPRECATED

    def _used(self, ctx: FileContext, local: str, exported: set[str]) -> bool:
        return bool(ctx.nodes.names.get(local)) or local in exported

    def _statement_edit(self, ctx: FileContext, statement: ast.stmt, keep: list[ast.alias]) -> Edit:
        """Rewrite an import statement so it keeps only `keep` (delete it when nothing is kept)."""
        start, end = ctx.start(statement), ctx.end(statement)
        if not keep:
            whole = ctx.owns_lines(start, end)
            if whole is not None:
                return Edit(whole[0], whole[1], "")
            return Edit(start, end, "pass")
        names = [a.name + (f" as {a.asname}" if a.asname else "") for a in keep]
        segment = ctx.text[start:end]
        if isinstance(statement, ast.Import):
            return Edit(start, end, "import " + ", ".join(names))
        assert isinstance(statement, ast.ImportFrom)
        head = f"from {statement.module} import "
        if "\n" in segment or "\r" in segment:
            newline = ctx.lines.newline()
            indent = ctx.line_indent(statement.names[0]) or "    "
            body = "".join(f"{newline}{indent}{n}," for n in names)
            return Edit(start, end, f"{head}({body}{newline}{ctx.line_indent(statement)})")
        return Edit(start, end, head + ", ".join(names))

    def _spec(
        self,
        ctx: FileContext,
        statement: ast.stmt,
        top_level: bool,
        module: str,
        name: str,
        asname: str | None,
    ) -> ImportSpec:
        if top_level:
            return ImportSpec(module, name, asname)
        return ImportSpec(
            module, name, asname, anchor=ctx.start(statement), indent=ctx.line_indent(statement)
        )

    # -- `from airflow.x import A, B as C` --------------------------------------------------------
    def _from_import(
        self, ctx: FileContext, statement: ast.ImportFrom, top_level: bool, exported: set[str]
    ) -> Iterator[Finding]:
        module = statement.module or ""
        if any(alias.name == "*" for alias in statement.names):
            if self._is_old_module(ctx, module) or any(
                k.startswith(module + ".") for k in _moved_in(ctx, module)
            ):
                yield ctx.finding(
                    STAR,
                    statement,
                    f"`from {module} import *`: names in this module moved on the target; import them by name",
                )
            return
        group = next(_group_ids)
        keep: list[ast.alias] = []
        findings: list[Finding] = []
        for alias in statement.names:
            qualified = f"{module}.{alias.name}"
            local = alias.asname or alias.name
            if self._is_old_module(ctx, qualified) and qualified not in ctx.table.symbols:
                # A module imported by name (`from airflow.contrib.operators import bigquery_operator`): its
                # attribute uses are rewritten by _references; the import goes once unused.
                if self._used(ctx, local, exported):
                    keep.append(alias)
                else:
                    findings.append(self._unused(ctx, alias, qualified, group))
                continue
            if ctx.table.resolve(qualified, ctx.target) is None:
                keep.append(alias)
                continue
            if not self._used(ctx, local, exported):
                findings.append(self._unused(ctx, alias, qualified, group))
                continue
            resolution = self._resolve(ctx, qualified)
            if resolution is None:  # a call adapter rule owns this name's next hop
                keep.append(alias)
                continue
            if resolution.new is None:
                keep.append(alias)
                if qualified not in rewritten_uses():  # that rule's finding says it
                    findings.append(ctx.finding(REMOVED, alias, self._message(ctx, qualified, resolution)))
                continue
            finding = self._moved_name(ctx, statement, top_level, alias, qualified, resolution, group)
            findings.append(finding)
        fixing = [f for f in findings if f.group == group]
        if fixing:
            fixing[0].edits = (self._statement_edit(ctx, statement, keep), *fixing[0].edits)
        yield from findings

    def _unused(self, ctx: FileContext, alias: ast.alias, qualified: str, group: int) -> Finding:
        finding = ctx.finding(
            UNUSED, alias, f"unused import of `{qualified}`, which does not exist on the target"
        )
        finding.group = group
        return finding

    def _moved_name(
        self,
        ctx: FileContext,
        statement: ast.ImportFrom,
        top_level: bool,
        alias: ast.alias,
        qualified: str,
        resolution: Resolution,
        group: int,
    ) -> Finding:
        assert resolution.new is not None
        new_module, _, new_name = resolution.new.rpartition(".")
        local = alias.asname or alias.name
        edits: list[Edit] = []
        if alias.asname or new_name == alias.name:
            spec = self._spec(
                ctx, statement, top_level, new_module, new_name, None if local == new_name else local
            )
        elif self._can_rename(ctx, local, new_name, resolution.new):
            spec = self._spec(ctx, statement, top_level, new_module, new_name, None)
            edits = [ctx.replace(node, new_name) for node in ctx.nodes.names.get(local, [])]
        else:
            spec = self._spec(ctx, statement, top_level, new_module, new_name, local)
        finding = ctx.finding(
            self._meta_for(resolution),
            alias,
            self._message(ctx, qualified, resolution),
            edits=edits,
            imports=[spec],
            requirements=_requirements(ctx, resolution),
            category=resolution.category,
        )
        finding.group = group
        return finding

    def _can_rename(self, ctx: FileContext, old_local: str, new_name: str, new_qualified: str) -> bool:
        if old_local in ctx.assigned:
            return False
        return self._free_for(ctx, new_name, new_qualified)

    def _free_for(self, ctx: FileContext, local: str, qualified: str) -> bool:
        """True when `local` can be bound to `qualified` here: unbound, or bound to the same thing (also
        when the existing binding is an old path that resolves to it)."""
        if local in ctx.assigned:
            return False
        bound = ctx.imports.bindings.get(local)
        if bound is None or bound.qualified == qualified:
            return True
        resolution = self._resolve(ctx, bound.qualified)
        return resolution is not None and resolution.new == qualified

    # -- `import airflow.contrib.x as m` -----------------------------------------------------------
    def _plain_import(self, ctx: FileContext, statement: ast.Import, exported: set[str]) -> Iterator[Finding]:
        group = next(_group_ids)
        keep: list[ast.alias] = []
        findings: list[Finding] = []
        for alias in statement.names:
            if not _is_airflow(alias.name) or not self._is_old_module(ctx, alias.name):
                keep.append(alias)
                continue
            if alias.asname:
                used = self._used(ctx, alias.asname, exported)
            else:
                used = any(
                    (ctx.imports.qualified(node) or "").startswith(alias.name + ".")
                    or ctx.imports.qualified(node) == alias.name
                    for node in ctx.nodes.attributes
                )
            if used:
                keep.append(alias)
            else:
                findings.append(self._unused(ctx, alias, alias.name, group))
        if findings:
            findings[0].edits = (self._statement_edit(ctx, statement, keep),)
        yield from findings

    # -- attribute uses: `bq.BigQueryOperator`, `airflow.contrib.x.Y`, `models.DAG` -------------
    def _references(self, ctx: FileContext) -> Iterator[Finding]:
        parents = {id(node.value) for node in ctx.nodes.attributes}
        for node in ctx.nodes.attributes:
            if id(node) in parents:
                continue  # only maximal chains; the moved prefix inside is found below
            binding = ctx.imports.root_binding(node)
            if binding is None or binding.guarded or not _is_airflow(binding.qualified):
                continue
            target = self._moved_prefix(ctx, node)
            if target is None:
                continue
            prefix, qualified, resolution = target
            yield self._reference_finding(ctx, prefix, qualified, resolution, binding)

    def _moved_prefix(
        self, ctx: FileContext, node: ast.Attribute
    ) -> tuple[ast.Attribute, str, Resolution] | None:
        chain: list[ast.Attribute] = []
        current: ast.expr = node
        while isinstance(current, ast.Attribute):
            chain.append(current)
            current = current.value
        for prefix in chain:  # longest first
            qualified = ctx.imports.qualified(prefix)
            if qualified is None:
                return None
            owner = ctx.imports.qualified(prefix.value) or ""
            if qualified in ctx.table.symbols or owner in ctx.table.modules:
                resolution = self._resolve(ctx, qualified)
                if resolution is not None:
                    return prefix, qualified, resolution
        return None

    def _reference_finding(
        self, ctx: FileContext, node: ast.Attribute, qualified: str, resolution: Resolution, binding: Binding
    ) -> Finding:
        meta = self._meta_for(resolution)
        message = self._message(ctx, qualified, resolution)
        if resolution.new is None:
            return ctx.finding(meta, node, message)
        new_module, _, new_name = resolution.new.rpartition(".")
        local = new_name
        if not self._free_for(ctx, new_name, resolution.new):
            local = f"{new_module.rsplit('.', 1)[-1]}_{new_name}"
        spec = ImportSpec(new_module, new_name, None if local == new_name else local)
        if not binding.top_level:
            spec = ImportSpec(
                new_module,
                new_name,
                spec.asname,
                anchor=ctx.start(binding.statement),
                indent=ctx.line_indent(binding.statement),
            )
        return ctx.finding(
            meta,
            node,
            message,
            edits=[ctx.replace(node, local)],
            imports=[spec],
            requirements=_requirements(ctx, resolution),
            category=resolution.category,
        )


def _requirements(ctx: FileContext, resolution: Resolution) -> list[Requirement]:
    """The provider of the new name, and the providers the chain passed through: PostgresOperator became
    common-sql's SQLExecuteQueryOperator, but a postgres connection still needs the postgres provider's hook."""
    found: list[Requirement] = []
    names = [resolution.old, *(hop.new for hop in resolution.hops if hop.new)]
    for name in reversed(names):
        requirement = ctx.table.requirement(name) if name.startswith("airflow.providers.") else None
        if requirement is not None and all(r.distribution != requirement.distribution for r in found):
            found.append(requirement if name == resolution.new else Requirement(requirement.distribution))
    return found


def _moved_in(ctx: FileContext, module: str) -> list[str]:
    prefix = module + "."
    return [
        name
        for name in ctx.table.symbols
        if name.startswith(prefix) and "." not in name[len(prefix) :] and ctx.table.resolve(name, ctx.target)
    ]


def _dunder_all(tree: ast.Module) -> set[str]:
    """Names listed in a literal __all__: re-exported, so used even without a reference here."""
    names: set[str] = set()
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in statement.targets
        ):
            value = statement.value
            if isinstance(value, (ast.List, ast.Tuple)):
                names.update(
                    e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
                )
    return names
