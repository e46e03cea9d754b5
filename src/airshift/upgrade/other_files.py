"""Files a DAG file's findings are about but that are not Python: template files (.sql, .sh, ...).

Several DAGs can use one template file; each analysis proposes its rewritten text, and this module writes
it once (in place, or to its place under --out), refusing when two DAGs would rewrite it differently
(their schedules differ, say). Each such file gets its own report line.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from airshift.upgrade.discovery import Discovery, relative_out
from airshift.upgrade.source import write_atomic

# The per-file memo key under which the template rule records every template file it read, findings or
# not: a cached result is reused only while all of them are unchanged.
TEMPLATE_FILES_READ = "template_files_read"


@dataclass
class OtherFile:
    text: str | None  # the rewritten text, or None when there are only findings without a fix
    digest: str  # sha256 of the bytes the analysis read, so a cached result is not reused for a changed file
    problems: list[object] = field(default_factory=list)  # runner.Problem


def digest_of(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def still_current(others: dict[str, OtherFile]) -> bool:
    return all(digest_of(path) == other.digest for path, other in others.items())


def target_for(path: Path, discovery: Discovery, out_dir: Path | None) -> Path | None:
    """Where a rewritten template goes: in place, or its place under --out (None when it lies outside every
    folder given, since --out must never touch the sources)."""
    if out_dir is None:
        return path
    resolved = path.resolve()
    for root, _ in [*discovery.python, *discovery.other]:
        folder = root.path if root.path.is_dir() else root.path.parent
        base = folder.resolve()
        if base in resolved.parents:
            # relative_out works on the root as the user spelled it (relative or absolute, links unresolved)
            return out_dir / relative_out(root, folder / resolved.relative_to(base))
    return None


def write_other(path: Path, text: str, target: Path) -> None:
    write_atomic(target, text.encode("utf-8"), mode=path.stat().st_mode & 0o7777)
