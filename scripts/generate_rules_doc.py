"""Write docs/rules.md from the rule registry (tests/test_docs.py keeps the two equal)."""

from __future__ import annotations

from pathlib import Path

from airshift.report.rules_doc import rules_markdown
from airshift.upgrade.registry import all_metas

if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / "docs" / "rules.md"
    target.write_text(rules_markdown(all_metas()), encoding="utf-8")
    print(f"wrote {target}")
