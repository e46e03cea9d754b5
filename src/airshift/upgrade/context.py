"""What a rule sees of one file, and helpers for making precise edits to it."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from airshift.upgrade.model import Category, Edit, Finding, FixSafety, ImportSpec, Requirement, RuleMeta
from airshift.upgrade.moves import MoveTable
from airshift.upgrade.names import ImportTable, assigned_names
from airshift.upgrade.source import LineIndex
from airshift.upgrade.versions import Version

_TRAILING = re.compile(r"[ \t]*,?[ \t]*(#[^\r\n]*)?(\r\n|\r|\n|$)")


@dataclass
class Settings:
    """Options that change what rules do. Part of the cache key."""

    target: Version = (3, 3)
    source: str = "auto"  # "auto", "1.10" or "2"
    allow_unsafe: bool = True
    today: str | None = None  # ISO date used where a rewrite needs "now" (days_ago); None: the real today

    def key(self) -> str:
        return f"{self.target}|{self.source}|{self.allow_unsafe}|{self.today}"


@dataclass
class NodeIndex:
    """Nodes of interest, collected in one walk so rules do not walk the tree again and again."""

    calls: list[ast.Call] = field(default_factory=list)
    names: dict[str, list[ast.Name]] = field(default_factory=lambda: defaultdict(list))
    attributes: list[ast.Attribute] = field(default_factory=list)
    functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=list)
    classes: list[ast.ClassDef] = field(default_factory=list)
    assigns: list[ast.Assign] = field(default_factory=list)
    subscripts: list[ast.Subscript] = field(default_factory=list)
    ifs: list[ast.If] = field(default_factory=list)
    strings: list[ast.Constant] = field(default_factory=list)

    @classmethod
    def build(cls, tree: ast.Module) -> NodeIndex:
        index = cls()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                index.calls.append(node)
            elif isinstance(node, ast.Name):
                index.names[node.id].append(node)
            elif isinstance(node, ast.Attribute):
                index.attributes.append(node)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                index.functions.append(node)
            elif isinstance(node, ast.ClassDef):
                index.classes.append(node)
            elif isinstance(node, ast.Assign):
                index.assigns.append(node)
            elif isinstance(node, ast.Subscript):
                index.subscripts.append(node)
            elif isinstance(node, ast.If):
                index.ifs.append(node)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                index.strings.append(node)
        return index


class FileContext:
    def __init__(
        self,
        text: str,
        tree: ast.Module,
        settings: Settings,
        table: MoveTable,
        source_version: str,
        path: str = "<string>",
    ) -> None:
        self.text = text
        self.tree = tree
        self.settings = settings
        self.target = settings.target
        self.table = table
        self.source_version = source_version
        self.path = path
        self.lines = LineIndex(text)
        self.imports = ImportTable(tree)
        self.nodes = NodeIndex.build(tree)

    @cached_property
    def assigned(self) -> set[str]:
        return assigned_names(self.tree)

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
            category=category or meta.category,
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
