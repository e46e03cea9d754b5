"""Jinja templates: context variables removed in Airflow 3, in every templated argument and template file.

Only arguments the operator really renders are touched (the generated template_fields table, or the
class's own `template_fields` when it is defined in the file); a removed variable in any other string is
reported, since it may be rendered somewhere airshift cannot see. Template files (`.sql`, `.sh`, ... per
the operator's template_ext) are found next to the DAG file and in its template_searchpath and rewritten
as files of their own.
"""

from __future__ import annotations

import ast
import itertools
import os
from collections.abc import Iterator
from pathlib import Path

from airshift.upgrade.context import FileContext
from airshift.upgrade.model import Category, Edit, Finding, FixSafety, RuleMeta
from airshift.upgrade.pystrings import fstring_map, literal_pieces, quote_at, source_offset
from airshift.upgrade.rules.calls import dag_calls, keyword
from airshift.upgrade.schedule import file_schedule
from airshift.upgrade.template_fields import templated_for
from airshift.upgrade.templates import REMOVED_NAMES, Schedule, mentions_removed, rewrite_template
from airshift.upgrade.versions import at_least
from airshift.upgrade.walk import walk_instances

TEMPLATE = RuleMeta(
    code="AS601",
    name="template-context-variable",
    title="Removed context variables in Jinja templates (execution_date, next_ds, prev_ds, ...)",
    why="Airflow 2.2 deprecated execution_date and the next_*/prev_*/tomorrow_*/yesterday_* variables; Airflow "
    "3.0 removed them, so rendering fails with UndefinedError at run time.",
    category=Category.REQUIRED,
    fix=FixSafety.SAFE,
    deprecated_from="2.2",
    removed_in="3.0",
)
TEMPLATE_FILE = RuleMeta(
    code="AS602",
    name="template-file-context-variable",
    title="Removed context variables in template files (.sql, .sh, ...)",
    why="Template files are rendered like inline templates; Airflow 3.0 removed the same variables there.",
    category=Category.REQUIRED,
    fix=FixSafety.SAFE,
    deprecated_from="2.2",
    removed_in="3.0",
)
UNKNOWN_FIELD = RuleMeta(
    code="AS603",
    name="template-variable-outside-known-fields",
    title="Removed context variable in a string airshift does not know to be a template",
    why="Strings that are rendered elsewhere (custom template_fields, params fed to templates) fail the same way.",
    category=Category.BEHAVIOUR,
    fix=FixSafety.NONE,
    deprecated_from="2.2",
    removed_in="3.0",
)
_MAX_TEMPLATE_FILE = 2 * 1024 * 1024


class TemplateVariables:
    metas: tuple[RuleMeta, ...] = (TEMPLATE, TEMPLATE_FILE, UNKNOWN_FIELD)

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if not at_least(ctx.target, TEMPLATE.deprecated_from) or not mentions_removed(ctx.text):
            return
        if not ctx.imports.imports_airflow():
            return
        schedule = file_schedule(ctx)
        searchpath: list[Path] | None = None  # resolving folders costs system calls: only when needed
        seen: set[int] = set()
        for call in ctx.nodes.calls:
            if not call.keywords:
                continue  # nothing passed by keyword, so no templated argument to read
            templated = templated_for(ctx, call)
            if templated is None:
                continue
            for item in call.keywords:
                if item.arg not in templated.fields:
                    continue
                for joined in self._fstrings(item.value):
                    seen.update(id(part) for part in joined.values)
                    yield from self._inline_fstring(ctx, joined, schedule)
                for string in self._strings(ctx, item.value):
                    seen.add(id(string))
                    yield from self._inline(ctx, string, schedule)
                    if templated.extensions and str(string.value).endswith(templated.extensions):
                        if searchpath is None:
                            searchpath = self._searchpath(ctx)
                        yield from self._template_file(ctx, string, searchpath, schedule)
        yield from self._unknown(ctx, seen)

    # -- the strings of a templated argument ------------------------------------------------------
    def _strings(self, ctx: FileContext, node: ast.expr) -> Iterator[ast.Constant]:
        """String literals Airflow renders in a templated value: nested lists, tuples, dict values,
        `+` concatenations and module-level constants the argument names."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node
        elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            for element in node.elts:
                yield from self._strings(ctx, element)
        elif isinstance(node, ast.Dict):
            for value in node.values:
                yield from self._strings(ctx, value)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
            for item in node.keywords:
                yield from self._strings(ctx, item.value)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            yield from self._strings(ctx, node.left)
            yield from self._strings(ctx, node.right)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
            # "echo {{ execution_date }} %s" % x: the literal parts are rendered as a template
            yield from self._strings(ctx, node.left)
        elif isinstance(node, ast.Name):
            for statement in ctx.tree.body:
                if (
                    isinstance(statement, ast.Assign)
                    and len(statement.targets) == 1
                    and isinstance(statement.targets[0], ast.Name)
                    and statement.targets[0].id == node.id
                ):
                    yield from self._strings(ctx, statement.value)
            yield from self._loop_strings(ctx, node.id)

    def _fstrings(self, node: ast.expr) -> Iterator[ast.JoinedStr]:
        """f-strings in a templated value (directly, in containers, in `+` / `%` expressions)."""
        if isinstance(node, ast.JoinedStr):
            yield node
        elif isinstance(node, ast.List | ast.Tuple | ast.Set):
            for element in node.elts:
                yield from self._fstrings(element)
        elif isinstance(node, ast.Dict):
            for value in node.values:
                yield from self._fstrings(value)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
            yield from self._fstrings(node.left)
            yield from self._fstrings(node.right)

    def _inline_fstring(
        self, ctx: FileContext, joined: ast.JoinedStr, schedule: Schedule | None
    ) -> Iterator[Finding]:
        """f"echo {{{{ execution_date }}}} {name}": the literal parts render as Jinja; rewrite them in place
        (a new name with braces is doubled again), or report when the f-string is too involved to map."""
        source = ctx.segment(joined)
        if not mentions_removed(source):
            return
        mapped = fstring_map(source)
        category = ctx.category(TEMPLATE)
        if mapped is None:
            yield ctx.finding(
                TEMPLATE, joined, "template built with an f-string uses removed variables; its escapes or "
                "nested quotes keep airshift from editing it: rewrite by hand", category=category,
            )  # fmt: skip
            return
        value, offsets = mapped
        rewrite = rewrite_template(value, schedule, quote="'", target=ctx.target, iso_datetimes=_iso(ctx))
        for _offset, message in rewrite.problems:
            yield ctx.finding(TEMPLATE, joined, f"template: {message}", category=category)
        if not rewrite.changes:
            return
        base = ctx.start(joined)
        edits: list[Edit] = []
        for change in rewrite.changes:
            span = offsets[change.offset : change.offset + len(change.old)]
            if -1 in span or any(b - a != 1 for a, b in itertools.pairwise(span)) or not span:
                yield ctx.finding(
                    TEMPLATE, joined, f"template built with an f-string uses `{change.old}` next to a "
                    "replacement field or an escaped brace: rewrite by hand", category=category,
                )  # fmt: skip
                return
            new = change.new.replace("{", "{{").replace("}", "}}")
            edits.append(Edit(base + span[0], base + span[-1] + 1, new))
        described = ", ".join(f"`{c.old}` -> `{c.new}`" for c in rewrite.changes)
        yield ctx.finding(
            TEMPLATE, joined, f"template (f-string): {described}", edits=edits, category=category
        )

    def _loop_strings(self, ctx: FileContext, name: str) -> Iterator[ast.Constant]:
        """A loop variable over a module-level collection: `for name, sql in CHECKS.items(): Op(sql=sql)`
        renders every value of CHECKS."""
        if "for " not in ctx.text:
            return
        loops = ctx.memo("for_loops", lambda: list(walk_instances(ctx.tree, ast.For)))
        for loop in loops:
            target, iterable = loop.target, loop.iter
            method = None
            if (
                isinstance(iterable, ast.Call)
                and isinstance(iterable.func, ast.Attribute)
                and not iterable.args
            ):
                method, iterable = iterable.func.attr, iterable.func.value
            if not isinstance(iterable, ast.Name) or iterable.id == name:
                continue
            takes_values = (
                method == "items"
                and isinstance(target, ast.Tuple)
                and len(target.elts) == 2
                and isinstance(target.elts[1], ast.Name)
                and target.elts[1].id == name
            ) or (
                isinstance(target, ast.Name)
                and target.id == name
                and (method == "values" or (method is None and not _is_module_dict(ctx, iterable.id)))
            )
            if takes_values:
                yield from self._strings(ctx, ast.Name(id=iterable.id, ctx=ast.Load()))

    def _inline(self, ctx: FileContext, string: ast.Constant, schedule: Schedule | None) -> Iterator[Finding]:
        value = string.value
        assert isinstance(value, str)
        if not mentions_removed(value):
            return  # rewrite_template would find nothing: skip reading the literal's source
        pieces = literal_pieces(ctx.segment(string), ctx.start(string), value)
        quote = '"' if pieces and quote_at(pieces, 0) == "'" else "'"
        rewrite = rewrite_template(value, schedule, quote=quote, target=ctx.target, iso_datetimes=_iso(ctx))
        category = ctx.category(TEMPLATE)
        for _offset, message in rewrite.problems:
            yield ctx.finding(TEMPLATE, string, f"template: {message}", category=category)
        if not rewrite.changes:
            return
        edits: list[Edit] = []
        for change in rewrite.changes:
            start = source_offset(pieces, change.offset, len(change.old)) if pieces else None
            if start is None:
                names = ", ".join(sorted({c.old for c in rewrite.changes}))
                yield ctx.finding(
                    TEMPLATE,
                    string,
                    f"template uses {names}; the string's escapes or f-string "
                    "parts keep airshift from editing it: rewrite by hand",
                    category=category,
                )
                return
            edits.append(Edit(start, start + len(change.old), change.new))
        described = ", ".join(f"`{c.old}` -> `{c.new}`" for c in rewrite.changes)
        yield ctx.finding(TEMPLATE, string, f"template: {described}", edits=edits, category=category)

    # -- template files -----------------------------------------------------------------------------
    def _searchpath(self, ctx: FileContext) -> list[Path]:
        base = Path(ctx.path).resolve().parent if ctx.path and ctx.path != "<string>" else Path.cwd()
        folders = [base]
        for call in dag_calls(ctx):
            item = keyword(call, "template_searchpath")
            if item is None:
                continue
            values = item.value.elts if isinstance(item.value, (ast.List, ast.Tuple)) else [item.value]
            for value in values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    folders.append((base / value.value).resolve())
        return folders

    def _template_file(
        self, ctx: FileContext, string: ast.Constant, searchpath: list[Path], schedule: Schedule | None
    ) -> Iterator[Finding]:
        name = str(string.value)
        path = next((folder / name for folder in searchpath if (folder / name).is_file()), None)
        if path is None:
            return  # not found here: Airflow would not find it either, or it lives in a searchpath we cannot read
        try:
            if path.stat().st_size > _MAX_TEMPLATE_FILE:
                return
            raw = path.read_bytes()
            text = raw.decode("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            yield ctx.finding(TEMPLATE_FILE, string, f"template file {name} cannot be read: {error}")
            return
        rewrite = rewrite_template(text, schedule, target=ctx.target, iso_datetimes=_iso(ctx))
        category = ctx.category(TEMPLATE_FILE)
        display = os.path.relpath(path)
        for offset, message in rewrite.problems:
            yield _file_finding(display, text, offset, f"{message}", category, None)
        if rewrite.changes:
            described = ", ".join(f"`{c.old}` -> `{c.new}`" for c in rewrite.changes)
            first = rewrite.changes[0].offset
            yield _file_finding(str(path), text, first, f"template file: {described}", category, rewrite.text)

    # -- strings outside known templated fields --------------------------------------------------
    def _unknown(self, ctx: FileContext, seen: set[int]) -> Iterator[Finding]:
        for node in ctx.nodes.templates:
            if id(node) in seen or not mentions_removed(str(node.value)):
                continue
            rewrite = rewrite_template(str(node.value), None, target=ctx.target)
            names = sorted(
                {c.old for c in rewrite.changes} | {m.split("`")[1] for _, m in rewrite.problems if "`" in m}
            )
            names = [n for n in names if n in REMOVED_NAMES or "." in n]
            if names:
                yield ctx.finding(
                    UNKNOWN_FIELD,
                    node,
                    f"{', '.join(names)} in a string that is not a known templated argument; if Airflow renders it, "
                    "it fails on the target",
                    category=Category.BEHAVIOUR,
                )


def _is_module_dict(ctx: FileContext, name: str) -> bool:
    """Iterating a dict gives its keys, not the values a loop over a list gives."""
    return any(
        isinstance(statement, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == name for t in statement.targets)
        and isinstance(statement.value, (ast.Dict, ast.DictComp))
        for statement in ctx.tree.body
    )


def _iso(ctx: FileContext) -> bool:
    """Datetimes printed bare keep Airflow 1.10's ISO text (see templates.DATETIME_NAMES)."""
    return ctx.source_version == "1.10"


def _file_finding(
    path: str, text: str, offset: int, message: str, category: Category, new: str | None
) -> Finding:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Finding(
        code=TEMPLATE_FILE.code,
        message=message,
        line=line,
        col=column,
        category=category,
        other_file=path,
        other_text=new,
    )
