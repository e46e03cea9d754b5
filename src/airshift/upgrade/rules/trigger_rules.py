"""Trigger-rule values removed in Airflow 3.0, as strings and as TriggerRule enum members."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from airshift.upgrade.context import FileContext
from airshift.upgrade.dag_calls import default_args_dicts, keyword
from airshift.upgrade.intended_changes import IntendedChanges
from airshift.upgrade.model import Category, Edit, Finding, FixSafety, RuleMeta

TRIGGER_RULE = RuleMeta(
    code="AS320",
    name="trigger-rule-value",
    title="Removed trigger rules `dummy` and `none_failed_or_skipped`",
    why="Airflow 2.2 renamed trigger rule `dummy` to `always` and `none_failed_or_skipped` to "
    "`none_failed_min_one_success`; Airflow 3.0 removed the old values.",
    category=Category.REQUIRED,
    fix=FixSafety.SAFE,
    deprecated_from="2.2",
    removed_in="3.0",
)

RENAMED_VALUES = {"dummy": "always", "none_failed_or_skipped": "none_failed_min_one_success"}
RENAMED_MEMBERS = {"DUMMY": "ALWAYS", "NONE_FAILED_OR_SKIPPED": "NONE_FAILED_MIN_ONE_SUCCESS"}


class TriggerRuleValues:
    metas: tuple[RuleMeta, ...] = (TRIGGER_RULE,)
    intended = IntendedChanges(trigger_rules=RENAMED_VALUES)

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if not ctx.imports.imports_airflow():
            return
        for node in ctx.nodes.attributes:
            if node.attr in RENAMED_MEMBERS:
                owner = ctx.imports.qualified(node.value) or ""
                if owner.endswith("TriggerRule") or (
                    isinstance(node.value, ast.Name) and node.value.id == "TriggerRule"
                ):
                    new = RENAMED_MEMBERS[node.attr]
                    start = ctx.end(node) - len(node.attr)
                    yield ctx.finding(
                        TRIGGER_RULE,
                        node,
                        f"`TriggerRule.{node.attr}` is `TriggerRule.{new}`",
                        edits=[Edit(start, ctx.end(node), new)],
                    )
        for value in self._string_values(ctx):
            old = value.value
            assert isinstance(old, str)
            new = RENAMED_VALUES[old]
            yield ctx.finding(
                TRIGGER_RULE,
                value,
                f"trigger rule {old!r} is {new!r}",
                edits=[ctx.replace_string(value, new)],
            )

    def _string_values(self, ctx: FileContext) -> Iterator[ast.Constant]:
        for call in ctx.nodes.calls:
            item = keyword(call, "trigger_rule")
            if item is not None and _renamed_string(item.value):
                yield item.value  # type: ignore[misc]
        for node in default_args_dicts(ctx):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if (
                        isinstance(key, ast.Constant)
                        and key.value == "trigger_rule"
                        and _renamed_string(value)
                    ):
                        yield value  # type: ignore[misc]


def _renamed_string(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in RENAMED_VALUES
