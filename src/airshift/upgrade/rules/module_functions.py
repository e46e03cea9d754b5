"""Module-level names Airflow 3 removed that have an exact spelling on the target.

`airflow.configuration.get(...)` and its siblings were thin wrappers of the `conf` object (deprecated in
2.x, removed in 3.0): they become `conf.get(...)`. `airflow.PY36` ... `airflow.PY312` were
`sys.version_info >= (3, N)` (removed in 3.0). Both are exact. A `from airflow.configuration import get`
is reported (renaming a bare function name everywhere is left to a person).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from airshift.upgrade.context import FileContext
from airshift.upgrade.model import Category, Finding, FixSafety, ImportSpec, RuleMeta

MODULE_NAME = RuleMeta(
    code="AS106",
    name="removed-module-function",
    title="`airflow.configuration.get(...)` -> `conf.get(...)`; `airflow.PY3x` -> `sys.version_info`",
    why="Airflow 3.0 removed the configuration module's wrapper functions and the airflow.PY36..PY312 "
    "constants (Airflow 3 release notes; ruff AIR301).",
    category=Category.REQUIRED,
    fix=FixSafety.SAFE,
    deprecated_from="2.0",
    removed_in="3.0",
    acts_from="3.0",  # exact rewrites, but only needed once the wrappers are gone
)

CONFIGURATION_FUNCTIONS = (
    "get", "getboolean", "getfloat", "getint", "getsection", "has_option", "remove_option", "as_dict", "set",
)  # fmt: skip
PYTHON_FLAGS = {f"PY3{minor}": minor for minor in range(6, 13)}
HANDLED: frozenset[str] = frozenset(
    [f"airflow.configuration.{name}" for name in CONFIGURATION_FUNCTIONS]
    + [f"airflow.{flag}" for flag in PYTHON_FLAGS]
)


class ModuleFunctions:
    metas: tuple[RuleMeta, ...] = (MODULE_NAME,)
    owned_names = HANDLED  # the import rule leaves these names to this rule

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if not ctx.imports.imports_airflow():
            return
        if "configuration" not in ctx.text and "PY3" not in ctx.text:
            return
        for node in ctx.nodes.attributes:
            qualified = ctx.imports.qualified(node)
            if qualified not in HANDLED:
                continue
            binding = ctx.imports.root_binding(node)
            if binding is not None and binding.guarded:
                continue
            name = node.attr
            if name in PYTHON_FLAGS:
                text = f"(sys.version_info >= (3, {PYTHON_FLAGS[name]}))"
                yield ctx.finding(
                    MODULE_NAME, node, f"`airflow.{name}` is `{text}`", edits=[ctx.replace(node, text)],
                    imports=[ImportSpec("sys")]
                )  # fmt: skip
            elif (
                "conf" in ctx.assigned
                and ctx.imports.qualified(ast.Name("conf")) != "airflow.configuration.conf"
            ):
                yield ctx.finding(
                    MODULE_NAME, node, f"`airflow.configuration.{name}` is `conf.{name}` (import "
                    "airflow.configuration.conf under a free name: `conf` is taken here)"
                )  # fmt: skip
            else:
                yield ctx.finding(
                    MODULE_NAME, node, f"`airflow.configuration.{name}` is `conf.{name}`",
                    edits=[ctx.replace(node, f"conf.{name}")],
                    imports=[ImportSpec("airflow.configuration", "conf")]
                )  # fmt: skip
        for binding in ctx.imports.all_bindings:
            if (
                binding.qualified in HANDLED
                and isinstance(binding.statement, ast.ImportFrom)
                and not binding.guarded
            ):
                short = binding.qualified.rpartition(".")[2]
                better = (
                    f"`sys.version_info >= (3, {PYTHON_FLAGS[short]})`"
                    if short in PYTHON_FLAGS
                    else f"`from airflow.configuration import conf` and `conf.{short}(...)`"
                )
                yield ctx.finding(
                    MODULE_NAME, binding.alias, f"`{binding.qualified}` is gone on Airflow 3: use {better}"
                )  # fmt: skip
