"""Where a rule acts and how much its findings matter, decided once from its metadata for every rule.

Rules do not check versions to decide whether they apply: the engine runs a rule only when one of its codes
acts on the run's target and the file's source generation, drops findings of codes that do not, and gives
each finding the category its code has on the target. A rule still reads the target where it changes what
the fix writes (`airflow.sdk` on 3.x, `airflow.utils.task_group` on 2.x).
"""

from __future__ import annotations

from collections.abc import Iterable

from airshift.upgrade.model import Category, RuleMeta
from airshift.versions import Version, at_least, parse_version


def acts_on(meta: RuleMeta, target: Version, source: str) -> bool:
    """A code acts from its gate version on (`acts_from`, else `deprecated_from`; none: on every target),
    and only on files of the source generations it names (none named: every file)."""
    gate = meta.acts_from or meta.deprecated_from
    if gate is not None and not at_least(target, gate):
        return False
    return not meta.sources or source in meta.sources


def category_on(meta: RuleMeta, target: Version) -> Category:
    """A required code is only suggested on a target that still accepts the old form (before `removed_in`)."""
    if meta.category is not Category.REQUIRED or meta.removed_in is None:
        return meta.category
    return Category.REQUIRED if target >= parse_version(meta.removed_in) else Category.SUGGESTED


def acting_codes(metas: Iterable[RuleMeta], target: Version, source: str) -> frozenset[str]:
    return frozenset(meta.code for meta in metas if acts_on(meta, target, source))
