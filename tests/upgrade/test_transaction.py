"""`fix` writes all or nothing: unwritable targets are named before anything changes, and a failure after
writing began rolls back what the run wrote. Read-only places are real mounts (root ignores file modes)."""

from __future__ import annotations

import errno
import os
import sys
from pathlib import Path

import pytest

from airshift.upgrade import transaction
from airshift.upgrade.transaction import PlannedWrite, WriteFailed
from tests.upgrade.mounts import bind_read_only, read_only_bind, read_only_tmpfs, unbind
from tests.upgrade.test_cli import OLD_DAG, cli

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="uses Linux mounts")


def _dags(folder: Path, count: int = 3) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for number in range(count):
        path = folder / f"dag_{number}.py"
        path.write_text(OLD_DAG.replace('"etl"', f'"etl_{number}"'))
        files.append(path)
    return files


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _assert_clean_error(result: object, *needles: str) -> None:
    stderr = result.stderr  # type: ignore[attr-defined]
    assert result.returncode == 2, stderr  # type: ignore[attr-defined]
    assert "internal error" not in stderr and "Traceback" not in stderr
    for needle in needles:
        assert needle in stderr, stderr


def test_out_on_a_read_only_file_system_names_the_path_and_writes_nothing(tmp_path: Path) -> None:
    _dags(tmp_path / "dags")
    before = _snapshot(tmp_path / "dags")
    with read_only_tmpfs(tmp_path / "ro"):
        result = cli("fix", "dags", "--out", "ro/migrated", cwd=tmp_path)
        _assert_clean_error(result, "ro/migrated/dag_0.py", "read-only", "nothing was changed")
        assert not any((tmp_path / "ro").iterdir())
    assert _snapshot(tmp_path / "dags") == before


def test_a_read_only_out_folder_is_refused(tmp_path: Path) -> None:
    _dags(tmp_path / "dags")
    (tmp_path / "out").mkdir()
    with read_only_bind(tmp_path / "out"):
        result = cli("fix", "dags", "--out", "out", cwd=tmp_path)
    _assert_clean_error(result, "out/dag_0.py", "read-only")
    assert not any((tmp_path / "out").iterdir())


def test_one_read_only_file_in_place_stops_the_run_before_any_write(tmp_path: Path) -> None:
    files = _dags(tmp_path / "dags")
    before = _snapshot(tmp_path / "dags")
    with read_only_bind(files[1]):
        result = cli("fix", "dags", cwd=tmp_path)
    _assert_clean_error(result, "dags/dag_1.py: read-only file", "nothing was changed")
    assert "dag_0.py" not in result.stderr and "dag_2.py" not in result.stderr
    assert _snapshot(tmp_path / "dags") == before  # dag_0 was not rewritten, no requirements file


def test_every_unwritable_path_is_named(tmp_path: Path) -> None:
    files = _dags(tmp_path / "dags")
    bind_read_only(files[0])
    try:
        with read_only_bind(files[2]):
            result = cli("fix", "dags", cwd=tmp_path)
    finally:
        unbind(files[0])
    _assert_clean_error(result, "cannot write 2 file(s)", "dag_0.py", "dag_2.py")


def test_an_existing_file_as_out_is_refused(tmp_path: Path) -> None:
    _dags(tmp_path / "dags")
    (tmp_path / "out.txt").write_text("keep me\n")
    result = cli("fix", "dags", "--out", "out.txt", cwd=tmp_path)
    _assert_clean_error(result, "out.txt is an existing file")
    assert (tmp_path / "out.txt").read_text() == "keep me\n"


def test_out_refuses_a_folder_with_files_unless_forced(tmp_path: Path) -> None:
    _dags(tmp_path / "dags")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.md").write_text("mine\n")
    result = cli("fix", "dags", "--out", "out", cwd=tmp_path)
    _assert_clean_error(result, "is not empty", "--force")
    assert _snapshot(tmp_path / "out") == {"notes.md": b"mine\n"}
    forced = cli("fix", "dags", "--out", "out", "--force", cwd=tmp_path)
    assert forced.returncode == 1, forced.stderr
    assert (tmp_path / "out" / "notes.md").read_text() == "mine\n"
    assert "airflow.providers" in (tmp_path / "out" / "dag_0.py").read_text()


def test_requirements_in_a_missing_folder_is_an_error_and_creates_nothing(tmp_path: Path) -> None:
    _dags(tmp_path / "dags")
    before = _snapshot(tmp_path / "dags")
    result = cli("fix", "dags", "--requirements", "missing/requirements.txt", cwd=tmp_path)
    _assert_clean_error(result, "missing/requirements.txt", "does not exist")
    assert not (tmp_path / "missing").exists()
    assert _snapshot(tmp_path / "dags") == before


def test_an_unknown_report_format_in_the_config_names_the_key(tmp_path: Path) -> None:
    _dags(tmp_path / "dags")
    (tmp_path / "pyproject.toml").write_text('[tool.airshift]\nformat = "xml"\n')
    result = cli("scan", "dags", cwd=tmp_path)
    _assert_clean_error(result, "[tool.airshift] format", "text, json, sarif, github")


def test_a_report_output_that_cannot_be_written_changes_nothing(tmp_path: Path) -> None:
    _dags(tmp_path / "dags")
    before = _snapshot(tmp_path / "dags")
    result = cli("fix", "dags", "--output", "no/such/report.txt", cwd=tmp_path)
    _assert_clean_error(result, "no/such/report.txt", "does not exist")
    assert _snapshot(tmp_path / "dags") == before


# -- failures after writing began ---------------------------------------------------------------------


def _break_after_first_swap(monkeypatch: pytest.MonkeyPatch, victim: Path, mounted: list[Path]) -> None:
    """Once the first file is swapped in, `victim` becomes a read-only mount: renaming over it fails."""
    original = transaction._Run.swap

    def swap(self: transaction._Run, write: PlannedWrite, temp: Path) -> None:
        if self.swapped and not mounted:
            bind_read_only(victim)
            mounted.append(victim)
        original(self, write, temp)

    monkeypatch.setattr(transaction._Run, "swap", swap)


def test_a_failure_after_writing_began_rolls_back_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from airshift.cli import main

    files = _dags(tmp_path / "dags")
    before = _snapshot(tmp_path / "dags")
    mounted: list[Path] = []
    _break_after_first_swap(monkeypatch, files[1], mounted)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AIRSHIFT_CACHE_DIR", str(tmp_path / ".cache"))
    monkeypatch.setattr(sys, "argv", ["airshift", "fix", "dags", "--no-cache"])
    try:
        with pytest.raises(SystemExit) as exit_info:
            main()
    finally:
        for path in mounted:
            unbind(path)
    assert mounted, "the injected failure never happened"
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "dags/dag_1.py: cannot write" in err and "rolled back the 1 file(s)" in err, err
    assert _snapshot(tmp_path / "dags") == before  # dag_0 is back as it was; no temp or backup files


def test_a_failure_after_writing_began_removes_new_files_and_folders(tmp_path: Path) -> None:
    out = tmp_path / "out"
    writes = [PlannedWrite(out / "a" / "one.py", b"1\n"), PlannedWrite(out / "b" / "two.py", b"2\n")]
    real_replace = os.replace
    calls: list[str] = []

    def replace(source: str, target: str) -> None:
        calls.append(str(target))
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        real_replace(source, target)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transaction.os, "replace", replace)
        with pytest.raises(WriteFailed, match="rolled back the 1 file"):
            transaction.apply(writes)
    assert not out.exists()


def test_a_failure_while_staging_leaves_nothing_behind(tmp_path: Path) -> None:
    (tmp_path / "dags").mkdir()
    keep = tmp_path / "dags" / "keep.py"
    keep.write_bytes(b"old\n")
    with read_only_tmpfs(tmp_path / "ro"):
        # the check passes (the folder is writable when checked), staging then meets the read-only mount
        writes = [PlannedWrite(keep, b"new\n"), PlannedWrite(tmp_path / "ro" / "x.py", b"x\n")]
        real_check = transaction.check
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(transaction, "check", lambda _: [])
            with pytest.raises(WriteFailed, match="nothing was changed") as raised:
                transaction.apply(writes)
            assert str(raised.value).startswith(
                f"{tmp_path / 'ro' / 'x.py'}: cannot write: read-only file system"
            )
            assert real_check(writes) == [
                f"{tmp_path / 'ro' / 'x.py'}: folder {tmp_path / 'ro'} is read-only"
            ]
    assert keep.read_bytes() == b"old\n"
    assert sorted(p.name for p in (tmp_path / "dags").iterdir()) == ["keep.py"]


def test_a_successful_run_keeps_modes_and_leaves_no_backups(tmp_path: Path) -> None:
    target = tmp_path / "script.py"
    target.write_bytes(b"old\n")
    target.chmod(0o750)
    assert (
        transaction.apply([PlannedWrite(target, b"new\n"), PlannedWrite(tmp_path / "n" / "new.py", b"n\n")])
        == 2
    )
    assert target.read_bytes() == b"new\n" and target.stat().st_mode & 0o777 == 0o750
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["n", "new.py", "script.py"]


def test_a_failure_among_many_files_staged_in_parallel_leaves_nothing_behind(tmp_path: Path) -> None:
    """Past a few files, staging runs on several threads; one failing fsync still undoes every write."""
    dags = tmp_path / "dags"
    dags.mkdir()
    originals = {dags / f"dag_{n}.py": f"old {n}\n".encode() for n in range(60)}
    for path, data in originals.items():
        path.write_bytes(data)
    writes = [PlannedWrite(path, b"new\n") for path in originals]
    writes += [PlannedWrite(tmp_path / "out" / f"new_{n}.py", b"x\n") for n in range(20)]
    real_fsync = os.fsync
    calls: list[int] = []

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 37:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(transaction.os, "fsync", fsync)
        with pytest.raises(WriteFailed, match="nothing was changed"):
            transaction.apply(writes)
    assert len(calls) >= 37
    assert {path: path.read_bytes() for path in originals} == originals
    assert sorted(p.name for p in dags.iterdir()) == sorted(p.name for p in originals)
    assert not (tmp_path / "out").exists()
