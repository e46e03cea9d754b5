"""Finding the files of a run: Python files to analyse and, for --out, every other file to copy.

Symlinks are followed once; a link that points back into a folder being walked (a loop) or nowhere is
reported instead of followed.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_EXCLUDES = (
    ".git",
    ".hg",
    ".svn",
    "__pycache__",
    ".venv",
    "venv",
    ".tox",
    "node_modules",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".airshift-cache",
)


@dataclass(frozen=True)
class Root:
    """A path given on the command line, with where its files go under --out."""

    path: Path
    out_name: str  # "" when the root's contents map directly into the out folder


@dataclass
class Discovery:
    python: list[tuple[Root, Path]] = field(default_factory=list)
    other: list[tuple[Root, Path]] = field(default_factory=list)
    problems: list[tuple[Path, str]] = field(default_factory=list)


def _excluded(path: Path, excludes: tuple[str, ...]) -> bool:
    """Whether the name or the whole path matches one of the patterns, as `fnmatch.fnmatch` decides."""
    matcher = _matcher(excludes)
    return matcher is not None and (
        matcher.match(os.path.normcase(path.name)) is not None
        or matcher.match(os.path.normcase(str(path))) is not None
    )


@functools.lru_cache(maxsize=32)
def _matcher(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    """All patterns as one regex: `fnmatch.fnmatch` normalises case and matches each pattern's
    translation; the alternation of those translations matches when any of them does, in one pass
    instead of two fnmatch calls per pattern for every entry of every folder."""
    if not patterns:
        return None
    return re.compile("|".join(fnmatch.translate(os.path.normcase(pattern)) for pattern in patterns))


def discover(paths: list[Path], excludes: tuple[str, ...] = ()) -> Discovery:
    patterns = DEFAULT_EXCLUDES + tuple(excludes)
    result = Discovery()
    single_dir = len(paths) == 1
    for given in paths:
        root = Root(given, "" if single_dir and given.is_dir() else given.name)
        if not given.exists() and not given.is_symlink():
            result.problems.append((given, "no such file or directory"))
        elif given.is_symlink() and not given.exists():
            result.problems.append((given, "broken symbolic link"))
        elif given.is_file():
            (result.python if given.suffix == ".py" else result.other).append((root, given))
        else:
            _walk(root, given, patterns, result, ancestors=frozenset())
    return result


def _walk(
    root: Root, folder: Path, patterns: tuple[str, ...], result: Discovery, ancestors: frozenset[str]
) -> None:
    try:
        real = os.path.realpath(folder)
    except OSError as error:
        result.problems.append((folder, f"cannot resolve: {error}"))
        return
    if real in ancestors:
        result.problems.append((folder, "symbolic link loop: it leads back to a folder being walked"))
        return
    ancestors = ancestors | {real}
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as error:
        result.problems.append((folder, f"cannot list folder: {error.strerror or error}"))
        return
    for entry in entries:
        path = Path(entry.path)
        if _excluded(path, patterns):
            continue
        try:
            is_dir = entry.is_dir()  # follows links
            is_file = entry.is_file()
        except OSError as error:
            result.problems.append((path, f"cannot stat: {error.strerror or error}"))
            continue
        if entry.is_symlink() and not (is_dir or is_file):
            try:
                os.stat(path)
            except OSError as error:
                reason = "symbolic link loop" if error.errno == 40 else "broken symbolic link"
                result.problems.append((path, reason))
                continue
        if is_dir:
            _walk(root, path, patterns, result, ancestors)
        elif is_file:
            (result.python if path.suffix == ".py" else result.other).append((root, path))


def relative_out(root: Root, path: Path) -> Path:
    """Where `path` goes inside the --out folder."""
    base = root.path if root.path.is_dir() else root.path.parent
    relative = path.relative_to(base) if root.path.is_dir() else Path(path.name)
    return Path(root.out_name) / relative if root.out_name and root.path.is_dir() else relative
