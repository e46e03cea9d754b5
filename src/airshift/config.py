"""Project configuration from `[tool.airshift]` in pyproject.toml; command-line options override it.

Read on every `airshift scan`, including the pre-commit hook's one-file runs, so it is checked by hand
rather than with pydantic: importing pydantic alone costs more than scanning a file."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, fields
from pathlib import Path

from airshift.errors import AirshiftError
from airshift.versions import SOURCES, TARGETS

FORMATS = ("text", "json", "sarif", "github")  # the report formats of scan and fix (cli/upgrade.py Format)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


@dataclass
class UpgradeConfig:
    """Keys of [tool.airshift]; dashes and underscores are both accepted."""

    target: str | None = None
    source: str | None = None
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    format: str | None = None
    jobs: int | None = None
    cache_dir: str | None = None
    requirements: str | None = None
    safe_only: bool | None = None
    adopt_new_defaults: bool | None = None
    strict: bool | None = None

    @classmethod
    def from_table(cls, table: dict[str, object]) -> UpgradeConfig:
        """Validate a [tool.airshift] table; AirshiftError-ready messages `key: reason` on failure."""
        known = {f.name: f.type for f in fields(cls)}
        values: dict[str, object] = {}
        problems: list[str] = []
        for key, value in table.items():
            name = key.replace("-", "_")
            if name not in known:
                problems.append(
                    f"[tool.airshift] {key}: not a known key (known: {', '.join(k.replace('_', '-') for k in known)})"
                )
                continue
            if name == "target" and isinstance(value, float):
                value = repr(value)  # `target = 3.3` is a TOML float; read it as the version it spells
            problem = _problem(name, str(known[name]), value)
            if problem:
                problems.append(f"[tool.airshift] {key}: {problem}")
            else:
                values[name] = list(value) if isinstance(value, list) else value
        if problems:
            raise ValueError("; ".join(problems))
        return cls(**values)  # type: ignore[arg-type]


_CHOICES = {"target": TARGETS, "source": SOURCES, "format": FORMATS}


def _problem(name: str, kind: str, value: object) -> str | None:
    """Why `value` does not fit the field (its type annotation as text), or None."""
    if kind.startswith("list[str]"):
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            return "must be a list of strings"
        return None
    if kind.startswith("bool"):
        return None if isinstance(value, bool) else "must be true or false"
    if kind.startswith("int"):
        if not isinstance(value, int) or isinstance(value, bool):
            return "must be a whole number"
        return None if value >= 1 else "must be 1 or more"
    if not isinstance(value, str):
        return "must be a string"
    choices = _CHOICES.get(name)
    if choices is not None and value not in choices:
        return f"must be one of {', '.join(choices)}"
    return None


def find_pyproject(start: Path) -> Path | None:
    folder = start.resolve()
    if folder.is_file():
        folder = folder.parent
    for candidate in (folder, *folder.parents):
        path = candidate / "pyproject.toml"
        if path.is_file():
            return path
    return None


def load_config(start: Path, explicit: Path | None = None) -> tuple[UpgradeConfig, Path | None]:
    """The [tool.airshift] table of the nearest pyproject.toml above `start` (or of `explicit`)."""
    path = explicit or find_pyproject(start)
    if path is None:
        return UpgradeConfig(), None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise AirshiftError(f"{path}: cannot read: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise AirshiftError(f"{path}: invalid TOML: {error}") from None
    table = data.get("tool", {}).get("airshift")
    if table is None:
        return UpgradeConfig(), None
    if not isinstance(table, dict):
        raise AirshiftError(f"{path}: [tool.airshift] must be a table")
    try:
        return UpgradeConfig.from_table(table), path
    except ValueError as error:
        raise AirshiftError(f"{path}: {error}") from None
