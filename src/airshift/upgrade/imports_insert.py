"""Adding the imports that fixes need, once per file and pass, where a reader expects them.

New top-level imports go where the first import being rewritten in this pass stood (so a replaced
`from airflow.contrib... import X` is followed by its replacement in the same place), otherwise right
after the module's leading block of imports. A name that an untouched `from M import ...` line already
imports from the same module is merged into that line.
"""

from __future__ import annotations

import ast
from collections import defaultdict

from airshift.upgrade.context import FileContext
from airshift.upgrade.model import Edit, ImportSpec


def _already_bound(ctx: FileContext, spec: ImportSpec, removed: list[Edit]) -> bool:
    binding = ctx.imports.bindings.get(spec.bound_name)
    if binding is None or binding.guarded:
        return False
    wanted = spec.module if spec.name is None else f"{spec.module}.{spec.name}"
    if spec.name is None and spec.asname is None:
        wanted = spec.module.split(".")[0]
        if binding.qualified != wanted:
            return False
        # `import a` does not make `a.b` usable unless a.b was imported somewhere too.
        return any(
            isinstance(b.statement, ast.Import) and b.alias.name == spec.module
            for b in ctx.imports.all_bindings
        ) and not _inside(ctx, binding.alias, removed)
    return binding.qualified == wanted and not _inside(ctx, binding.alias, removed)


def _inside(ctx: FileContext, node: ast.AST, edits: list[Edit]) -> bool:
    start, end = ctx.start(node), ctx.end(node)
    return any(e.start <= start and end <= e.end and e.start != e.end for e in edits)


def _leading_block_end(ctx: FileContext) -> int:
    """Offset just past the module's first contiguous run of import statements (after docstring)."""
    body = ctx.tree.body
    index = 0
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        index = 1
    last: ast.stmt | None = body[index - 1] if index else None
    seen_import = False
    for statement in body[index:]:
        is_import = isinstance(statement, (ast.Import, ast.ImportFrom)) or (
            isinstance(statement, ast.Try)
            and all(isinstance(s, (ast.Import, ast.ImportFrom)) for s in statement.body)
        )
        if is_import:
            seen_import = True
            last = statement
        elif seen_import:
            break
    if last is None:
        return 0
    return ctx.lines.line_end(last.end_lineno or last.lineno)


def _top_level_anchor(ctx: FileContext, edits: list[Edit]) -> int:
    """Where the first top-level import being rewritten stands: in its place when it is deleted, right
    after it when it keeps some names."""
    for statement, guarded, top_level in ctx.imports.statements:
        if not top_level or guarded:
            continue
        line_start = ctx.lines.line_start(statement.lineno)
        for edit in edits:
            if edit.start == line_start and edit.end > edit.start and not edit.text:
                return line_start
            if edit.start == ctx.start(statement) and edit.end == ctx.end(statement):
                return ctx.lines.line_end(statement.end_lineno or statement.lineno)
    return _leading_block_end(ctx)


def _merge_target(ctx: FileContext, module: str, edits: list[Edit]) -> ast.ImportFrom | None:
    for statement, guarded, top_level in ctx.imports.statements:
        if (
            isinstance(statement, ast.ImportFrom)
            and top_level
            and not guarded
            and statement.module == module
            and not statement.level
            and not any(a.name == "*" for a in statement.names)
            and not any(e.start < ctx.end(statement) and ctx.start(statement) < e.end for e in edits)
        ):
            return statement
    return None


def _merge_edit(ctx: FileContext, statement: ast.ImportFrom, names: list[str]) -> Edit:
    last = statement.names[-1]
    after = ctx.end(last)
    rest = ctx.text[after : ctx.end(statement)]
    if rest.lstrip().startswith(","):  # parenthesized with a trailing comma: one name per line
        comma = after + rest.index(",") + 1
        indent = ctx.line_indent(last)
        newline = ctx.lines.newline()
        return Edit(comma, comma, "".join(f"{newline}{indent}{name}," for name in names))
    return Edit(after, after, "".join(f", {name}" for name in names))


def plan_import_edits(ctx: FileContext, specs: list[ImportSpec], edits: list[Edit]) -> list[Edit]:
    """The insertion edits for the imports the chosen fixes need (none for ones already there)."""
    newline = ctx.lines.newline()
    unique: dict[tuple[str, str | None, str | None, int | None], ImportSpec] = {}
    for spec in specs:
        if not _already_bound(ctx, spec, edits):
            unique.setdefault((spec.module, spec.name, spec.asname, spec.anchor), spec)
    by_anchor: dict[int | None, list[ImportSpec]] = defaultdict(list)
    for spec in unique.values():
        by_anchor[spec.anchor].append(spec)
    result: list[Edit] = []
    for anchor, group in by_anchor.items():
        lines: list[str] = []
        from_names: dict[str, list[str]] = defaultdict(list)
        for spec in sorted(group, key=lambda s: (s.module, s.name or "", s.asname or "")):
            if spec.name is None or spec.asname:
                lines.append(spec.render())
            else:
                from_names[spec.module].append(spec.name)
        for module, names in sorted(from_names.items()):
            target = _merge_target(ctx, module, edits) if anchor is None else None
            if target is not None:
                existing = {a.name for a in target.names if a.asname is None}
                new_names = [n for n in names if n not in existing]
                if new_names:
                    result.append(_merge_edit(ctx, target, new_names))
                continue
            lines.append(f"from {module} import {', '.join(names)}")
        if not lines:
            continue
        lines.sort(key=lambda line: (not line.startswith("import "), line))
        indent = group[0].indent if anchor is not None else ""
        position = (
            ctx.lines.line_start(ctx.lines.line_of(anchor))
            if anchor is not None
            else _top_level_anchor(ctx, edits)
        )
        text = "".join(f"{indent}{line}{newline}" for line in lines)
        if position == len(ctx.text) and ctx.text and not ctx.text.endswith(("\n", "\r")):
            text = newline + text
        result.append(Edit(position, position, text))
    return result
