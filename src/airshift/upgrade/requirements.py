"""The provider distributions migrated code needs: written to a new file, or merged into an existing
requirements file in place (missing ones added, minimums raised, everything else kept as it was)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as Parsed
from packaging.utils import canonicalize_name
from packaging.version import Version

from airshift.errors import AirshiftError
from airshift.upgrade.model import Requirement
from airshift.upgrade.source import write_atomic

HEADER = "# Provider packages the migrated DAGs import (written by airshift fix)"


@dataclass
class RequirementsUpdate:
    added: list[str]
    raised: list[str]
    text: str


def render_new(requirements: list[Requirement]) -> str:
    return "\n".join([HEADER, *(r.render() for r in requirements)]) + "\n"


def _satisfies(parsed: Parsed, minimum: str) -> bool:
    """True when every version the line allows is at least `minimum` (so no raise is needed)."""
    floor = Version(minimum)
    for spec in parsed.specifier:
        version = Version(spec.version.replace(".*", "")) if spec.version[0].isdigit() else None
        if version is None:
            continue
        if spec.operator in (">=", "==", "===", "~=", ">") and version >= floor:
            return True
    return False


def merge(existing: str, requirements: list[Requirement]) -> RequirementsUpdate:
    newline = "\r\n" if "\r\n" in existing else "\n"
    lines = existing.splitlines()
    index: dict[str, int] = {}
    for number, line in enumerate(lines):
        content = line.split("#", 1)[0].strip()
        if not content or content.startswith("-"):
            continue
        try:
            index[canonicalize_name(Parsed(content).name)] = number
        except InvalidRequirement:
            continue
    added: list[str] = []
    raised: list[str] = []
    for requirement in requirements:
        name = canonicalize_name(requirement.distribution)
        if name not in index:
            added.append(requirement.render())
            continue
        if requirement.min_version is None:
            continue
        line = lines[index[name]]
        content, _, comment = line.partition("#")
        parsed = Parsed(content.strip())
        if _satisfies(parsed, requirement.min_version):
            continue
        kept = [str(s) for s in parsed.specifier if s.operator in ("<", "<=", "!=")]
        specifier = ",".join([f">={requirement.min_version}", *kept])
        extras = f"[{','.join(sorted(parsed.extras))}]" if parsed.extras else ""
        marker = f"; {parsed.marker}" if parsed.marker else ""
        was = str(parsed.specifier) or "no version"
        note = f"raised by airshift fix from {was}: the DAGs need this release or later"
        kept_comment = comment.strip()
        new_line = f"{parsed.name}{extras}{specifier}{marker}  # " + (
            f"{kept_comment} ({note})" if kept_comment else note
        )
        lines[index[name]] = new_line
        raised.append(f"{line.strip()} -> {new_line.strip()}")
    if added:
        lines.extend(added)
    text = newline.join(lines) + (newline if lines else "")
    return RequirementsUpdate(added, raised, text)


def update_file(path: Path, requirements: list[Requirement]) -> RequirementsUpdate:
    """Merge into an existing requirements file (created when missing), atomically."""
    update, existing = plan_update(path, requirements)
    if update.text != existing:
        write_atomic(path, update.text.encode("utf-8"))
    return update


def plan_update(path: Path, requirements: list[Requirement]) -> tuple[RequirementsUpdate, str]:
    """The merged requirements file, and the text it has now ("" when missing); writes nothing."""
    try:
        existing = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as error:
        raise AirshiftError(f"{path}: cannot read requirements file: {error}") from None
    if not existing and requirements:
        update = RequirementsUpdate([r.render() for r in requirements], [], render_new(requirements))
    else:
        update = merge(existing, requirements)
    return update, existing
