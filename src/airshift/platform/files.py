"""Writing the files platform commands produce: atomically, and secrets readable by the owner only."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from airshift.errors import AirshiftError
from airshift.upgrade.source import write_atomic


def write_text(path: Path, text: str) -> None:
    try:
        write_atomic(path, text.encode("utf-8"))
    except OSError as error:
        raise AirshiftError(f"{path}: cannot write: {error.strerror or error}") from None


def write_private(path: Path, text: str) -> None:
    """Atomic write with mode 600 from the first byte (mkstemp creates 600), also when replacing."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".airshift-tmp", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp, 0o600)
            os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
    except OSError as error:
        raise AirshiftError(f"{path}: cannot write: {error.strerror or error}") from None


def read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AirshiftError(f"{what} {path}: no such file") from None
    except IsADirectoryError:
        raise AirshiftError(f"{what} {path}: is a directory, expected a file") from None
    except UnicodeDecodeError:
        raise AirshiftError(f"{what} {path}: not UTF-8 text") from None
    except OSError as error:
        raise AirshiftError(f"{what} {path}: cannot read: {error.strerror or error}") from None
