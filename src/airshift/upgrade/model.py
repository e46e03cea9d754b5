"""The upgrader's data model: text edits, findings, rule metadata, import requests."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Category(str, enum.Enum):
    """How much a finding matters for the chosen target."""

    REQUIRED = "required"  # the code fails on the target without this change
    BEHAVIOUR = "behaviour"  # the code loads but would behave differently on the target
    SUGGESTED = "suggested"  # deprecated on the target; still works today
    INFO = "info"


class FixSafety(str, enum.Enum):
    SAFE = "safe"  # the rewrite keeps behaviour exactly
    UNSAFE = "unsafe"  # the rewrite is right in the usual case; review the diff
    NONE = "none"  # report only


@dataclass(frozen=True)
class Edit:
    """Replace text[start:end] (character offsets into the decoded source) with `text`."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class ImportSpec:
    """An import a fix needs: `from module import name as asname`, or `import module` when name is None.

    `anchor` is the character offset of a nested (function-level) import statement being replaced, so the
    new import goes beside it with `indent`; None means "with the module's top-level imports".
    """

    module: str
    name: str | None = None
    asname: str | None = None
    anchor: int | None = None
    indent: str = ""

    @property
    def bound_name(self) -> str:
        if self.asname:
            return self.asname
        if self.name:
            return self.name
        return self.module.split(".")[0]

    def render(self) -> str:
        if self.name is None:
            return f"import {self.module}" + (f" as {self.asname}" if self.asname else "")
        return f"from {self.module} import {self.name}" + (f" as {self.asname}" if self.asname else "")


@dataclass(frozen=True)
class Requirement:
    """A distribution the migrated code needs, e.g. apache-airflow-providers-google>=10.0.0."""

    distribution: str
    min_version: str | None = None

    def render(self) -> str:
        return self.distribution + (f">={self.min_version}" if self.min_version else "")


@dataclass(frozen=True)
class RuleMeta:
    """What a rule is. Documentation and `--list-rules` are generated from this."""

    code: str
    name: str
    title: str
    why: str  # one line, naming the Airflow release note it comes from
    category: Category
    fix: FixSafety
    deprecated_from: str | None = None  # first Airflow version where the old form is deprecated
    removed_in: str | None = None  # first Airflow version where the old form fails
    # The engine applies these gates (upgrade/rule_gates.py); rules do not check them themselves.
    acts_from: str | None = None  # first target the rule acts on, when later than deprecated_from
    sources: tuple[str, ...] = ()  # source generations ("1.10", "2") the rule is about; empty: all
    limits: str | None = None  # what the rule cannot know (documented in docs/rules.md)


@dataclass
class Finding:
    """One problem at one place, with the edits that fix it (empty when report-only)."""

    code: str
    message: str
    line: int
    col: int
    category: Category
    edits: tuple[Edit, ...] = ()
    imports: tuple[ImportSpec, ...] = ()
    requirements: tuple[Requirement, ...] = ()
    end_line: int | None = None
    group: int | None = None  # findings of one group are fixed together or not at all
    # A template file (.sql, .sh, ...) this finding is about, and its rewritten text when a fix exists:
    # the runner writes it (once, even when several DAGs use it) and reports it as a file of its own.
    other_file: str | None = None
    other_text: str | None = None
    unsafe: bool = False  # the fix is right in the usual case only; skipped with --safe-only
    offset: int = 0  # character offset in the text the rule saw; the engine maps it back
    fixed: bool = field(default=False)  # set by the engine once its edits were applied

    @property
    def fixable(self) -> bool:
        return bool(self.edits) or self.other_text is not None

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "line": self.line,
            "col": self.col,
            "end_line": self.end_line,
            "category": self.category.value,
            "fixable": self.fixable,
            "fixed": self.fixed,
            "requirements": [r.render() for r in self.requirements],
        }
