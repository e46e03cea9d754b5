"""The rule catalogue, generated from the registry: a rich table for --list-rules and docs/rules.md."""

from __future__ import annotations

from rich.table import Table

from airshift.upgrade.model import RuleMeta


def rules_table(metas: list[RuleMeta]) -> Table:
    table = Table(title="airshift rules", title_justify="left")
    for column in ("code", "name", "category", "fix", "window", "title"):
        table.add_column(column)
    for meta in metas:
        table.add_row(meta.code, meta.name, meta.category.value, meta.fix.value, _window(meta), meta.title)
    return table


def _window(meta: RuleMeta) -> str:
    parts = []
    if meta.deprecated_from:
        parts.append(f"deprecated {meta.deprecated_from}")
    if meta.removed_in:
        parts.append(f"removed {meta.removed_in}")
    if meta.acts_from:
        parts.append(f"acts from {meta.acts_from}")
    if meta.sources:
        parts.append(f"{'/'.join(meta.sources)} code only")
    return ", ".join(parts)


def rules_markdown(metas: list[RuleMeta]) -> str:
    """docs/rules.md; a test keeps the committed file equal to this."""
    lines = [
        "# Rules",
        "",
        "Generated from the rule registry by `python scripts/generate_rules_doc.py`; do not edit by hand.",
        "The target version decides which rules apply: a rule acts when the target is at or past its",
        "`deprecated` version (its `acts from` version where the window names one), and its findings are",
        "`required` once the target is at or past `removed`. A rule marked `1.10 code only` acts on files",
        "written for Airflow 1.10. The engine applies these gates from the registry (upgrade/rule_gates.py).",
        "",
        "| code | name | category | fix | window | what |",
        "|---|---|---|---|---|---|",
    ]
    for meta in metas:
        lines.append(
            f"| {meta.code} | {meta.name} | {meta.category.value} | {meta.fix.value} | {_window(meta)} | {meta.title} |"
        )
    lines.append("")
    for meta in metas:
        lines += [
            f"## {meta.code} {meta.name}",
            "",
            meta.title.replace("|", "\\|") + ".",
            "",
            f"Why: {meta.why}",
            "",
        ]
        if meta.limits:
            lines += [f"What airshift cannot know: {meta.limits}", ""]
    return "\n".join(lines)
