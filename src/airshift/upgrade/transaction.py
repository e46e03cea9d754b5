"""All-or-nothing writing for `fix`: every file a run writes is planned first, checked, staged, then
swapped in; a failure at any point leaves the files as they were before the run.

The three steps, and why each exists:
1. check: every target is tested for writability before anything is written (a read-only folder or file,
   a folder where a file should go, a folder that does not exist and may not be created). All problems
   are reported together, naming each path, and nothing is changed.
2. stage: each new content is written to a temporary file beside its target (fsync'd, mode set). Most
   real failures (a full disk, a mount that became read-only) happen here, while no target has changed.
3. swap: each temporary file is renamed over its target. An original is first hard-linked (or copied) to
   a backup name beside it, so that a failure half-way through can rename every original back. The
   backups are removed once the last rename succeeded: that is when the run commits.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from airshift.errors import AirshiftError

_STAGED = ".airshift-tmp"
_BACKUP = ".airshift-orig"


@dataclass(frozen=True)
class PlannedWrite:
    """One file the run will write: new bytes, or a byte-for-byte copy of another file."""

    target: Path
    data: bytes | None = None
    copy_from: Path | None = None
    mode: int | None = None  # permission bits for a new file (an existing file keeps its own)
    may_create_folders: bool = True  # False: the target's folder must exist already (e.g. --requirements)


class WriteFailed(AirshiftError):
    """Nothing was written, or everything written was rolled back; the message says which."""


def _reason(error: OSError) -> str:
    if error.errno == errno.EROFS:
        return "read-only file system"
    if error.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if error.errno == errno.EBUSY:
        return "busy (a mount point?)"
    return error.strerror or str(error)


def problem_with(write: PlannedWrite) -> str | None:
    """Why `write.target` cannot be written, or None when it can (as far as can be known beforehand)."""
    target = write.target
    if target.is_dir():
        return f"{target}: is a folder, not a file"
    if target.exists() or target.is_symlink():
        if not os.access(target, os.W_OK):
            return f"{target}: read-only file"
        folder = target.parent
    else:
        folder = target.parent
        if not folder.is_dir() and not write.may_create_folders:
            return f"{target}: folder {folder} does not exist"
        while not folder.exists():
            folder = folder.parent
        if not folder.is_dir():
            return f"{target}: {folder} is not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{target}: folder {folder} is read-only"
    return None


def check(writes: list[PlannedWrite]) -> list[str]:
    """Every problem that would stop these writes, one line each (empty when they can all be done)."""
    problems: list[str] = []
    for write in writes:
        problem = problem_with(write)
        if problem is not None:
            problems.append(problem)
    return problems


class _StagingFailed(Exception):
    """Staging one write failed: which target, and the file system's error."""

    def __init__(self, target: Path, error: OSError) -> None:
        super().__init__(str(target))
        self.target = target
        self.error = error


STAGING_THREADS = 8  # fsync waits on the disk with the GIL released: several at once share the wait


class _Run:
    def __init__(self) -> None:
        self.created_folders: list[Path] = []
        self.staged: list[tuple[PlannedWrite, Path]] = []
        self.swapped: list[tuple[Path, Path | None]] = []  # (target, backup of its original or None)
        self.default_mode = _default_mode()  # read once: reading the umask means setting it

    def make_folder(self, folder: Path) -> None:
        missing = []
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        for path in reversed(missing):
            path.mkdir()
            self.created_folders.append(path)

    def stage_all(self, writes: list[PlannedWrite]) -> None:
        """Stage every write: folders made first, in order, then the files by several threads, since
        each fsync waits for the disk (5,000 files one after the other took 2 s, most of it waiting).
        Raises the first failure once every started write has finished, so that `roll_back` sees them."""
        for write in writes:
            try:
                self.make_folder(write.target.parent)
            except OSError as error:
                raise _StagingFailed(write.target, error) from None
        if len(writes) < 2 * STAGING_THREADS:
            for write in writes:
                self._stage_one(write)
            return
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(STAGING_THREADS) as pool:
            futures = [pool.submit(self._stage_one, write) for write in writes]
        for future in futures:  # in the order of the writes: the first failing one is named
            future.result()

    def _stage_one(self, write: PlannedWrite) -> None:
        try:
            self.stage(write)
        except OSError as error:
            raise _StagingFailed(write.target, error) from None

    def stage(self, write: PlannedWrite) -> None:
        """Write one staged file (its folder exists). May run in several threads at once: `staged` is
        only appended to."""
        handle, name = tempfile.mkstemp(
            prefix=f".{write.target.name}.", suffix=_STAGED, dir=write.target.parent
        )
        temp = Path(name)
        self.staged.append((write, temp))
        with os.fdopen(handle, "wb") as out:
            if write.copy_from is not None:
                with write.copy_from.open("rb") as source:
                    shutil.copyfileobj(source, out)
            else:
                out.write(write.data or b"")
            out.flush()
            os.fsync(out.fileno())
        if write.copy_from is not None:
            shutil.copystat(write.copy_from, temp)
        try:
            mode = write.target.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = write.mode if write.mode is not None else self.default_mode
        os.chmod(temp, mode)

    def swap(self, write: PlannedWrite, temp: Path) -> None:
        target = write.target
        backup = None
        if target.exists():
            backup = target.with_name(f".{target.name}{_BACKUP}")
            with contextlib.suppress(FileNotFoundError):
                backup.unlink()
            try:
                os.link(target, backup)
            except OSError:  # file systems without hard links
                shutil.copy2(target, backup)
        try:
            os.replace(temp, target)
        except BaseException:
            if backup is not None:
                with contextlib.suppress(OSError):
                    backup.unlink()
            raise
        self.swapped.append((target, backup))

    def roll_back(self) -> list[str]:
        """Undo every swap and remove staged files and created folders; the paths that could not be restored."""
        stuck: list[str] = []
        for target, backup in reversed(self.swapped):
            try:
                if backup is None:
                    target.unlink()
                else:
                    os.replace(backup, target)
            except OSError as error:
                stuck.append(f"{target} ({_reason(error)})")
        self.swapped.clear()
        self.discard_staged()
        for folder in reversed(self.created_folders):
            with contextlib.suppress(OSError):
                folder.rmdir()
        return stuck

    def discard_staged(self) -> None:
        for _, temp in self.staged:
            with contextlib.suppress(OSError):
                temp.unlink()
        self.staged.clear()

    def commit(self) -> None:
        for _, backup in self.swapped:
            if backup is not None:
                with contextlib.suppress(OSError):
                    backup.unlink()


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def apply(writes: list[PlannedWrite]) -> int:
    """Write every planned file, or none: raises WriteFailed naming the paths and what was undone."""
    problems = check(writes)
    if problems:
        raise WriteFailed(
            f"cannot write {len(problems)} file(s); nothing was changed:\n  " + "\n  ".join(problems)
        )
    run = _Run()
    try:
        run.stage_all(writes)
    except _StagingFailed as failed:
        run.roll_back()
        raise WriteFailed(
            f"{failed.target}: cannot write: {_reason(failed.error)}; nothing was changed"
        ) from None
    except BaseException:
        run.roll_back()
        raise
    staged = list(run.staged)
    current: Path | None = None  # the file being swapped in when something fails
    try:
        for write, temp in staged:
            current = write.target
            run.swap(write, temp)
    except OSError as error:
        count = len(run.swapped)
        stuck = run.roll_back()
        if stuck:
            raise WriteFailed(
                f"{current}: cannot write: {_reason(error)}; rolling back the {count} file(s) this run had "
                f"already written failed for: {', '.join(stuck)}"
            ) from None
        raise WriteFailed(
            f"{current}: cannot write: {_reason(error)}; rolled back the {count} file(s) this run had "
            "already written, so nothing was changed"
        ) from None
    except BaseException:
        run.roll_back()
        raise
    run.commit()
    return len(run.swapped)
