"""Read-only places that hold even for root (who ignores file modes): a read-only tmpfs, or a read-only
bind mount of one file or folder. Tests skip, saying why, where mounting is not allowed."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _mount(*args: str) -> None:
    result = subprocess.run(["mount", *args], capture_output=True, text=True, timeout=30)
    if result.returncode != 0:
        pytest.skip(f"cannot mount here (needs root with CAP_SYS_ADMIN): {result.stderr.strip()}")


def _umount(path: Path) -> None:
    subprocess.run(["umount", str(path)], capture_output=True, timeout=30, check=True)


@contextmanager
def read_only_tmpfs(path: Path) -> Iterator[Path]:
    """An empty, read-only file system at `path` (created as a folder)."""
    path.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(path))
    try:
        yield path
    finally:
        _umount(path)


def bind_read_only(path: Path) -> None:
    """Make `path` (a file or folder) read-only in place; undo with `unbind`."""
    _mount("--bind", str(path), str(path))
    result = subprocess.run(
        ["mount", "-o", "remount,ro,bind", str(path)], capture_output=True, text=True, timeout=30
    )
    if result.returncode != 0:
        _umount(path)
        pytest.skip(f"cannot remount read-only here: {result.stderr.strip()}")


def unbind(path: Path) -> None:
    _umount(path)


@contextmanager
def read_only_bind(path: Path) -> Iterator[Path]:
    bind_read_only(path)
    try:
        yield path
    finally:
        unbind(path)
