"""The changes the rules make on purpose, in the form verify needs to undo them when it compares a DAG
folder's snapshot before and after `fix`.

This is the upgrader's one public statement of intent: verify's normalisation reads it and nothing else
from the upgrader, so the two cannot drift apart. Each rule declares its part as `intended` (an
IntendedChanges); a rule that changes something verify can see adds it there, not to verify.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class OperatorReplacement:
    """A rule that replaces one operator class by another on purpose.

    Classes are named by their class name alone: the classes behind decorators (`@task`, `@task.kubernetes`)
    live in different modules in each release. `moved_fields` says where an old templated field's value went
    in the new operator (a dotted path into a rendered field), so verify still compares it."""

    new_class: str
    reason: str
    moved_fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IntendedChanges:
    # default_args key -> the key it becomes (None: dropped), as a DAG's default_args show it
    default_args: Mapping[str, str | None] = field(default_factory=dict)
    # trigger rule value -> the value it becomes
    trigger_rules: Mapping[str, str] = field(default_factory=dict)
    # old operator class name -> what the rule turns it into
    operators: Mapping[str, OperatorReplacement] = field(default_factory=dict)

    @classmethod
    def merged(cls, parts: Iterable[IntendedChanges]) -> IntendedChanges:
        default_args: dict[str, str | None] = {}
        trigger_rules: dict[str, str] = {}
        operators: dict[str, OperatorReplacement] = {}
        for part in parts:
            default_args.update(part.default_args)
            trigger_rules.update(part.trigger_rules)
            operators.update(part.operators)
        return cls(
            MappingProxyType(default_args), MappingProxyType(trigger_rules), MappingProxyType(operators)
        )


@functools.cache
def intended_changes() -> IntendedChanges:
    """Everything every registered rule declares it changes on purpose."""
    from airshift.upgrade.registry import all_rules  # the registry imports every rule: only on first use

    return IntendedChanges.merged(
        part for rule in all_rules() if (part := getattr(rule, "intended", None)) is not None
    )
