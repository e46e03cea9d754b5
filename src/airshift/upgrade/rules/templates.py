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
import re
from collections.abc import Iterator
from pathlib import Path

from airshift.upgrade.context import FileContext
from airshift.upgrade.dag_calls import dag_calls
from airshift.upgrade.model import Category, Edit, Finding, FixSafety, RuleMeta
from airshift.upgrade.other_files import TEMPLATE_FILES_READ
from airshift.upgrade.pystrings import fstring_map, literal_pieces, quote_at, source_offset
from airshift.upgrade.schedule import file_schedule
from airshift.upgrade.template_fields import all_extensions, templated_for
from airshift.upgrade.template_paths import SearchPath, referenced_templates, relocated, searchpath
from airshift.upgrade.templates import REMOVED_NAMES, Schedule, mentions_removed, rewrite_template
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
_MAX_INCLUDE_DEPTH = 16
_INCLUDES = re.compile(r"{%-?\s*(include|import|extends|from)\b")


SEARCHPATH = RuleMeta(
    code="AS604",
    name="template-searchpath",
    title="template_searchpath entries airshift cannot read; absolute paths into the sources under --out",
    why="Template files in a folder airshift cannot see are neither checked nor rewritten (map deploy paths with "
    "--path-map); with --out an absolute path into the sources would make the migrated DAG read the originals.",
    category=Category.BEHAVIOUR,
    fix=FixSafety.SAFE,
)


class TemplateVariables:
    metas: tuple[RuleMeta, ...] = (TEMPLATE, TEMPLATE_FILE, UNKNOWN_FIELD, SEARCHPATH)

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        inline = mentions_removed(ctx.text)
        relocating = bool(ctx.settings.relocate) and "template_searchpath" in ctx.text
        if not (inline or relocating or _may_name_template_files(ctx)):
            return  # no removed variable, no template file, no include, no path to move: nothing to do
        if not ctx.imports.imports_airflow():
            return
        schedule = file_schedule(ctx)
        files = _TemplateFiles(ctx, schedule)
        if relocating:
            yield from files.relocations()
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
                    value = str(string.value)
                    if inline:
                        yield from self._inline(ctx, string, schedule)
                    if templated.extensions and value.endswith(templated.extensions):
                        yield from files.load(string, value)
                    elif "{%" in value:
                        for name in referenced_templates(value):  # {% include 'sql/common.sql' %}
                            yield from files.load(string, name)
        if inline:
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
        if mapped is None:
            yield ctx.finding(
                TEMPLATE, joined, "template built with an f-string uses removed variables; its escapes or "
                "nested quotes keep airshift from editing it: rewrite by hand"
            )  # fmt: skip
            return
        value, offsets = mapped
        rewrite = rewrite_template(value, schedule, quote="'", target=ctx.target, iso_datetimes=_iso(ctx))
        for _offset, message in rewrite.problems:
            yield ctx.finding(TEMPLATE, joined, f"template: {message}")
        if not rewrite.changes:
            return
        base = ctx.start(joined)
        edits: list[Edit] = []
        for change in rewrite.changes:
            span = offsets[change.offset : change.offset + len(change.old)]
            if -1 in span or any(b - a != 1 for a, b in itertools.pairwise(span)) or not span:
                yield ctx.finding(
                    TEMPLATE, joined, f"template built with an f-string uses `{change.old}` next to a "
                    "replacement field or an escaped brace: rewrite by hand"
                )  # fmt: skip
                return
            new = change.new.replace("{", "{{").replace("}", "}}")
            edits.append(Edit(base + span[0], base + span[-1] + 1, new))
        described = ", ".join(f"`{c.old}` -> `{c.new}`" for c in rewrite.changes)
        yield ctx.finding(TEMPLATE, joined, f"template (f-string): {described}", edits=edits)

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
        for _offset, message in rewrite.problems:
            yield ctx.finding(TEMPLATE, string, f"template: {message}")
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
                )
                return
            edits.append(Edit(start, start + len(change.old), change.new))
        described = ", ".join(f"`{c.old}` -> `{c.new}`" for c in rewrite.changes)
        yield ctx.finding(TEMPLATE, string, f"template: {described}", edits=edits)

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


class _TemplateFiles:
    """The template files of one DAG file: found on its search path (computed once, when first needed),
    read once each, followed through include/import/extends."""

    def __init__(self, ctx: FileContext, schedule: Schedule | None) -> None:
        self.ctx, self.schedule = ctx, schedule
        self._search: SearchPath | None = None
        self.visited: set[Path] = set()
        self.missing: set[str] = set()

    def _searchpath(self) -> tuple[SearchPath, list[Finding]]:
        if self._search is not None:
            return self._search, []
        self._search = searchpath(self.ctx, dag_calls(self.ctx))
        problems = [
            self.ctx.finding(SEARCHPATH, entry.node, f"template_searchpath entry {entry.problem}")
            for entry in self._search.entries
            if entry.problem is not None
        ]
        return self._search, problems

    def relocations(self) -> Iterator[Finding]:
        """With --out: absolute literal paths into the sources point into the output instead."""
        search, problems = self._searchpath()
        yield from problems
        for entry in search.entries:
            node = entry.node
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str) and entry.text):
                continue
            new = relocated(entry.text, self.ctx.settings.relocate)
            if new is None or new == node.value:
                continue
            segment = self.ctx.segment(node)
            quote = '"' if segment.startswith('"') else "'"
            if quote in new or "\\" in new:
                continue
            start = self.ctx.start(node)
            yield self.ctx.finding(
                SEARCHPATH,
                node,
                f"template_searchpath {node.value} is in the sources: the migrated DAG reads the migrated "
                f"templates in {new}",
                edits=[Edit(start, start + len(segment), f"{quote}{new}{quote}")],
            )

    def load(self, node: ast.Constant, name: str) -> Iterator[Finding]:
        search, problems = self._searchpath()
        yield from problems
        yield from self._file(node, name, search, depth=0)

    def _file(self, node: ast.Constant, name: str, search: SearchPath, depth: int) -> Iterator[Finding]:
        ctx = self.ctx
        path = search.find(name)
        if path is None:
            if not search.complete and name not in self.missing:
                self.missing.add(name)
                yield ctx.finding(
                    SEARCHPATH,
                    node,
                    f"template file {name} is not in the folders airshift can see; it may be under a "
                    "template_searchpath entry reported here: not checked",
                )
            return  # else in no folder Airflow searches either: it fails there too (TemplateNotFound)
        resolved = path.resolve()
        if resolved in self.visited or depth > _MAX_INCLUDE_DEPTH:
            return
        self.visited.add(resolved)
        read: set[str] = ctx.memo(TEMPLATE_FILES_READ, set)
        read.add(str(resolved))  # the result cache checks every template file read for changes
        try:
            if path.stat().st_size > _MAX_TEMPLATE_FILE:
                return
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            yield ctx.finding(TEMPLATE_FILE, node, f"template file {name} cannot be read: {error}")
            return
        if mentions_removed(text):
            rewrite = rewrite_template(text, self.schedule, target=ctx.target, iso_datetimes=_iso(ctx))
            category = ctx.category(TEMPLATE_FILE)
            display = os.path.relpath(resolved)
            for offset, message in rewrite.problems:
                yield _file_finding(display, text, offset, f"{message}", category, None)
            if rewrite.changes:
                described = ", ".join(f"`{c.old}` -> `{c.new}`" for c in rewrite.changes)
                first = rewrite.changes[0].offset
                yield _file_finding(
                    str(resolved), text, first, f"template file: {described}", category, rewrite.text
                )
        for child in referenced_templates(text):
            yield from self._file(node, child, search, depth + 1)


def _may_name_template_files(ctx: FileContext) -> bool:
    """Could a string of this file name a template file or include one? (a cheap gate before any work)"""
    extensions = all_extensions()
    if "template_ext" in ctx.text:
        return True
    for value in ctx.nodes.strings:
        if value.endswith(extensions) or ("{%" in value and _INCLUDES.search(value)):
            return True
    return False


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
