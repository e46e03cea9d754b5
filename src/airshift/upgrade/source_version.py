"""Which Airflow a file was written for, inferred from its imports when `--source auto`."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable

# Modules that only Airflow 1.10 code imports: contrib, the *_operator/_sensor/_hook modules that
# became shims in 2.0, and the 1.x plugin-style package imports.
_ONE_TEN = re.compile(
    r"^airflow\.(contrib(\.|$)|(operators|sensors|hooks)\.[a-z0-9_]+_(operator|sensor|hook)$"
    r"|hooks\.[A-Za-z0-9_]+_hook$)"
)
_PLUGIN_STYLE = {"airflow.operators", "airflow.sensors", "airflow.hooks"}


def detect_source_version(statements: Iterable[ast.Import | ast.ImportFrom], declared: str) -> str:
    """'1.10' or '2' (3.x input counts as '2': the same rules apply to what is left)."""
    if declared != "auto":
        return "1.10" if declared.startswith("1") else "2"
    for node in statements:
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if _ONE_TEN.match(node.module):
                return "1.10"
            if node.module in _PLUGIN_STYLE and any(a.name[:1].isupper() for a in node.names):
                return "1.10"
        elif isinstance(node, ast.Import) and any(_ONE_TEN.match(alias.name) for alias in node.names):
            return "1.10"
    return "2"
