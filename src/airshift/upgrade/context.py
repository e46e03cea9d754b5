"""What a rule sees of one file, and helpers for making precise edits to it."""

from __future__ import annotations

import ast
import operator
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from airshift.upgrade.kubernetes import KubernetesConversion
from airshift.upgrade.model import Category, Edit, Finding, FixSafety, ImportSpec, Requirement, RuleMeta
from airshift.upgrade.moves import MoveTable
from airshift.upgrade.names import ImportTable
from airshift.upgrade.project import SubdagFactory
from airshift.upgrade.rule_gates import category_on
from airshift.upgrade.source import LineIndex
from airshift.upgrade.versions import Version

T = TypeVar("T")
_TRAILING = re.compile(r"[ \t]*,?[ \t]*(#[^\r\n]*)?(\r\n|\r|\n|$)")


@dataclass
class Settings:
    """Options that change what rules do. Part of the cache key."""

    target: Version = (3, 3)
    source: str = "auto"  # "auto", "1.10" or "2"
    allow_unsafe: bool = True
    today: str | None = None  # ISO date used where a rewrite needs "now" (days_ago); None: the real today
    subdag_factories: tuple[SubdagFactory, ...] = ()  # found by the project pre-pass
    adopt_new_defaults: bool = False  # do not write the source version's defaults into DAGs
    # --path-map: (deploy folder, absolute local folder) pairs for absolute template_searchpath entries
    path_map: tuple[tuple[str, str], ...] = ()
    # --out: (absolute source folder, absolute output folder): absolute paths into the sources move along
    relocate: tuple[tuple[str, str], ...] = ()
    kubernetes: KubernetesConversion | None = None  # --convert python-to-kubernetes (opt-in)

    def key(self) -> str:
        return (
            f"{self.target}|{self.source}|{self.allow_unsafe}|{self.today}|{self.subdag_factories}|"
            f"{self.adopt_new_defaults}|{self.path_map}|{self.relocate}|{self.kubernetes}"
        )


_SKIP_FIELDS = {"ctx", "type_ignores", "type_comment"}
# Fields that hold a name, a number or a list of names, never a node (the same in every Python version
# airshift runs on). The walk skips them: pushing and popping them did nothing but cost time.
_VALUE_FIELDS: dict[type, frozenset[str]] = {
    ast.Attribute: frozenset({"attr"}),
    ast.arg: frozenset({"arg"}),
    ast.keyword: frozenset({"arg"}),
    ast.alias: frozenset({"name", "asname"}),
    ast.ImportFrom: frozenset({"module", "level"}),
    ast.FunctionDef: frozenset({"name"}),
    ast.AsyncFunctionDef: frozenset({"name"}),
    ast.ClassDef: frozenset({"name"}),
    ast.ExceptHandler: frozenset({"name"}),
    ast.Global: frozenset({"names"}),
    ast.Nonlocal: frozenset({"names"}),
    ast.comprehension: frozenset({"is_async"}),
    ast.FormattedValue: frozenset({"conversion"}),
    ast.AnnAssign: frozenset({"simple"}),
}
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(cls: type) -> tuple[str, ...]:
    fields = _CHILD_FIELDS.get(cls)
    if fields is None:
        skip = _SKIP_FIELDS | _VALUE_FIELDS.get(cls, frozenset())
        fields = _CHILD_FIELDS[cls] = tuple(f for f in getattr(cls, "_fields", ()) if f not in skip)
    return fields


@dataclass
class NodeIndex:
    """Nodes of interest, collected in one walk so rules do not walk the tree again and again.

    The walk is hand-rolled (a stack and a per-class field list) because it runs once per file on every
    scan and `ast.walk` costs several times more than parsing."""

    calls: list[ast.Call] = field(default_factory=list)
    names: dict[str, list[ast.Name]] = field(default_factory=lambda: defaultdict(list))
    attributes: list[ast.Attribute] = field(default_factory=list)
    functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=list)
    classes: list[ast.ClassDef] = field(default_factory=list)
    assigns: list[ast.Assign] = field(default_factory=list)
    ifs: list[ast.If] = field(default_factory=list)
    templates: list[ast.Constant] = field(default_factory=list)  # string constants that look like Jinja
    strings: set[str] = field(default_factory=set)  # the value of every string constant
    assigned: set[str] = field(default_factory=set)  # names bound other than by import

    @classmethod
    def build(cls, tree: ast.Module) -> NodeIndex:
        index = cls()
        calls, attributes, functions, classes = index.calls, index.attributes, index.functions, index.classes
        assigns, ifs, names, assigned = index.assigns, index.ifs, index.names, index.assigned
        strings = index.strings
        name_type, constant_type, call_type, attribute_type = ast.Name, ast.Constant, ast.Call, ast.Attribute
        store_types = (ast.Store, ast.Del)
        child_fields = _CHILD_FIELDS
        stack: list[Any] = [tree]
        pop, push, extend = stack.pop, stack.append, stack.extend
        while stack:
            node: Any = pop()
            kind = node.__class__
            if kind is name_type:
                names[node.id].append(node)
                if isinstance(node.ctx, store_types):
                    assigned.add(node.id)
                continue
            if kind is constant_type:
                value = node.value
                if value.__class__ is str:
                    strings.add(value)
                    if "{" in value and ("{{" in value or "{%" in value):
                        index.templates.append(node)
                continue
            if node is None or kind is str:
                continue
            if kind is call_type:
                calls.append(node)
            elif kind is attribute_type:
                attributes.append(node)
            elif kind is ast.Assign:
                assigns.append(node)
            elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
                functions.append(node)
                assigned.add(node.name)
            elif kind is ast.ClassDef:
                classes.append(node)
                assigned.add(node.name)
            elif kind is ast.If:
                ifs.append(node)
            elif kind is ast.arg:
                assigned.add(node.arg)
            elif kind is ast.ExceptHandler and node.name:
                assigned.add(node.name)
            fields = child_fields.get(kind)
            if fields is None:
                fields = _child_fields(kind)
            for name in fields:
                value = getattr(node, name, None)
                if value.__class__ is list:
                    extend(value)
                elif value is not None:
                    push(value)
        for found in (calls, attributes, functions, classes, assigns, ifs):
            found.sort(key=_POSITION)
        return index


_POSITION = operator.attrgetter("lineno", "col_offset")  # (line, column): a sort key computed in C


class FileContext:
    def __init__(
        self,
        text: str,
        tree: ast.Module,
        settings: Settings,
        table: MoveTable,
        source_version: str,
        path: str = "<string>",
        imports: ImportTable | None = None,
        module: str = "",
        acting: frozenset[str] | None = None,
    ) -> None:
        self.text = text
        self.tree = tree
        self.settings = settings
        self.target = settings.target
        self.table = table
        self.source_version = source_version
        self.path = path
        self.module = module  # the file's module name under its DAG folder ("common.helpers")
        self.lines = LineIndex(text)
        self._memo: dict[str, Any] = {}
        self.imports = imports or ImportTable(tree)
        self.nodes = NodeIndex.build(tree)
        # The codes the engine keeps on this file (rule_gates); None: every code. Rules may ask `acts` to skip
        # work whose findings would be dropped anyway; whether a code acts is never theirs to decide.
        self._acting = acting

    def acts(self, meta: RuleMeta) -> bool:
        return self._acting is None or meta.code in self._acting

    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """Compute a per-file fact once, however many rules ask for it."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]  # type: ignore[no-any-return]

    @property
    def assigned(self) -> set[str]:
        return self.nodes.assigned

    # -- positions -------------------------------------------------------------------------------
    def start(self, node: ast.AST) -> int:
        return self.lines.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]

    def end(self, node: ast.AST) -> int:
        return self.lines.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]

    def segment(self, node: ast.AST) -> str:
        return self.text[self.start(node) : self.end(node)]

    def replace(self, node: ast.AST, text: str) -> Edit:
        return Edit(self.start(node), self.end(node), text)

    def line_indent(self, node: ast.AST) -> str:
        line_start = self.lines.line_start(node.lineno)  # type: ignore[attr-defined]
        line = self.text[line_start : self.start(node)]
        return line[: len(line) - len(line.lstrip())]

    def owns_lines(self, start: int, end: int) -> tuple[int, int] | None:
        """When [start, end) is alone on its lines (only indentation before, an optional comma and comment
        after), the span of those whole lines; None when other code shares them."""
        line_start = self.text.rfind("\n", 0, start) + 1
        if self.text[line_start:start].strip():
            return None
        match = _TRAILING.match(self.text, end)
        if match is None:
            return None
        return line_start, match.end()

    def remove_item(self, items: list[ast.AST], index: int) -> Edit:
        """An edit removing items[index] from a comma-separated list (call arguments, dict entries,
        import names), keeping the layout of what remains."""
        item_start, item_end = self.item_span(items[index])
        whole = self.owns_lines(item_start, item_end)
        if whole is not None:
            return Edit(whole[0], whole[1], "")
        if index + 1 < len(items):
            return Edit(item_start, self.item_span(items[index + 1])[0], "")
        if index > 0:
            return Edit(self.item_span(items[index - 1])[1], item_end, "")
        # The only item: drop it and a trailing comma.
        match = re.compile(r"[ \t]*,?").match(self.text, item_end)
        return Edit(item_start, match.end() if match else item_end, "")

    def item_span(self, item: ast.AST) -> tuple[int, int]:
        if isinstance(item, DictItem):
            return (
                self.start(item.key) if item.key else self.text.rfind("**", 0, self.start(item.value))
            ), self.end(item.value)
        return self.start(item), self.end(item)

    def replace_string(self, node: ast.expr, new: str) -> Edit:
        """Replace a plain string literal's content, keeping its prefix and quote style."""
        segment = self.segment(node)
        quote = segment[-1]
        return self.replace(node, f"{segment[: segment.index(quote)]}{quote}{new}{quote}")

    def category(self, meta: RuleMeta) -> Category:
        """A rule's category on this target: required once the target removed the old form, else suggested."""
        return category_on(meta, self.target)

    def keyword_name_edit(self, keyword: ast.keyword, new_name: str) -> Edit:
        start = self.start(keyword)
        assert keyword.arg is not None
        return Edit(start, start + len(keyword.arg), new_name)

    # -- findings --------------------------------------------------------------------------------
    def finding(
        self,
        meta: RuleMeta,
        node: ast.AST,
        message: str,
        edits: tuple[Edit, ...] | list[Edit] = (),
        imports: tuple[ImportSpec, ...] | list[ImportSpec] = (),
        requirements: tuple[Requirement, ...] | list[Requirement] = (),
        category: Category | None = None,
    ) -> Finding:
        finding = Finding(
            code=meta.code,
            message=message,
            line=getattr(node, "lineno", 1),
            col=getattr(node, "col_offset", 0) + 1,
            end_line=getattr(node, "end_lineno", None),
            category=category or category_on(meta, self.target),
            edits=tuple(edits),
            imports=tuple(imports),
            requirements=tuple(requirements),
            offset=self.start(node) if hasattr(node, "lineno") else 0,
            unsafe=meta.fix is FixSafety.UNSAFE,
        )
        return finding


class DictItem(ast.AST):
    """A key/value pair of a dict display, so dict entries can go through `remove_item`."""

    _fields = ("key", "value")

    def __init__(self, key: ast.expr | None, value: ast.expr) -> None:
        super().__init__()
        self.key = key
        self.value = value


def dict_items(node: ast.Dict) -> list[ast.AST]:
    return [DictItem(k, v) for k, v in zip(node.keys, node.values, strict=True)]


def keyword_items(call: ast.Call) -> list[ast.AST]:
    """Positional arguments and keywords in source order."""
    items: list[ast.AST] = [*call.args, *call.keywords]
    return sorted(items, key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))
