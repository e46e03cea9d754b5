"""The runner's reading of source files: whole bytes, the size limit, and a file that cannot be read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from airshift.upgrade import runner
from airshift.upgrade.runner import MAX_FILE_BYTES, FileReport, _read


def test_a_file_is_read_whole(tmp_path: Path) -> None:
    data = os.urandom(300_000) + b"\n# the end\n"  # larger than one read buffer
    path = tmp_path / "big.py"
    path.write_bytes(data)
    assert _read(path) == data
    (tmp_path / "empty.py").write_bytes(b"")
    assert _read(tmp_path / "empty.py") == b""


def test_a_file_over_the_limit_is_a_failed_report_not_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.py"
    path.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    report = _read(path)
    assert isinstance(report, FileReport) and report.status == "failed"
    assert report.error == "too large (10.0 MiB; limit 10 MiB)"


def test_a_file_that_cannot_be_opened_is_a_failed_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests run as root here, where permissions do not stop reading: the refusal is the OS's answer.
    path = tmp_path / "locked.py"
    path.write_bytes(b"x = 1\n")

    def refuse(*args: object, **kwargs: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(runner.os, "open", refuse)
    report = _read(path)
    assert isinstance(report, FileReport) and report.error == "cannot read: Permission denied"


def test_a_missing_file_is_a_failed_report(tmp_path: Path) -> None:
    report = _read(tmp_path / "gone.py")
    assert isinstance(report, FileReport) and report.error == "cannot read: No such file or directory"


def test_a_source_without_a_size_is_read_up_to_the_limit_only(tmp_path: Path) -> None:
    # A character device reports size 0 and never ends: the read stops past the limit instead of
    # filling memory.
    link = tmp_path / "endless.py"
    link.symlink_to("/dev/zero")
    report = _read(link)
    assert isinstance(report, FileReport) and report.error is not None
    assert report.error.startswith("too large (10.0 MiB")
