"""Project configuration from `[tool.airshift]` in pyproject.toml; command-line options override it."""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from airshift.errors import AirshiftError
from airshift.versions import SOURCES, TARGETS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


class UpgradeConfig(BaseModel):
    """Keys of [tool.airshift]; dashes and underscores are both accepted."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    target: str | None = None
    source: str | None = None
    select: list[str] = Field(default_factory=list)
    ignore: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    format: str | None = None
    jobs: int | None = None
    cache_dir: str | None = Field(default=None, alias="cache-dir")
    requirements: str | None = None
    safe_only: bool | None = Field(default=None, alias="safe-only")
    adopt_new_defaults: bool | None = Field(default=None, alias="adopt-new-defaults")

    @field_validator("target")
    @classmethod
    def _target(cls, value: str | None) -> str | None:
        if value is not None and value not in TARGETS:
            raise ValueError(f"must be one of {', '.join(TARGETS)}")
        return value

    @field_validator("source")
    @classmethod
    def _source(cls, value: str | None) -> str | None:
        if value is not None and value not in SOURCES:
            raise ValueError(f"must be one of {', '.join(SOURCES)}")
        return value


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
    normalized = {
        key.replace("_", "-") if key in ("cache_dir", "safe_only", "adopt_new_defaults") else key: v
        for key, v in table.items()
    }
    try:
        return UpgradeConfig.model_validate(normalized), path
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise AirshiftError(f"{path}: [tool.airshift] is invalid: {problems}") from None
