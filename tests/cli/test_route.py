"""`airshift route` on the command line: the group, the password hasher, clear errors (exit 2)."""

from __future__ import annotations

import ast
import io
import sys
from pathlib import Path

import bcrypt
import pytest

from airshift.cli import main as airshift_main
from airshift.cli import route as route_cli


def airshift(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str, stdin: str = ""
) -> tuple[int, str, str]:
    """Run `airshift ARGS` in this process, as the console script does (errors: one line, exit 2)."""
    monkeypatch.setattr(sys, "argv", ["airshift", *args])
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = 0
    try:
        airshift_main()
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_hash_password_prints_an_htpasswd_line_that_verifies(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = airshift(monkeypatch, capsys, "route", "hash-password", "ops", stdin="correct horse\n")
    assert code == 0
    user, hashed = out.strip().split(":", 1)
    assert user == "ops" and bcrypt.checkpw(b"correct horse", hashed.encode())
    assert "correct horse" not in out + err


def test_serve_errors_are_one_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = str(tmp_path / "plan.toml")
    code, _, err = airshift(monkeypatch, capsys, "route", "serve", "--plan", plan)
    assert code == 2 and "no way to authenticate callers" in err and "Traceback" not in err
    (tmp_path / "tokens").write_text("x" * 20 + "\n")
    code, _, err = airshift(
        monkeypatch, capsys, "route", "serve", "--plan", plan, "--tokens-file", str(tmp_path / "tokens")
    )
    assert code == 2 and "cannot read plan file" in err
    code, _, err = airshift(
        monkeypatch,
        capsys,
        "route",
        "serve",
        "--plan",
        plan,
        "--allow-anonymous",
        "--naive-timezone",
        "Mars/Olympus",
    )
    assert code == 2 and "Mars/Olympus" in err and "IANA" in err


def test_the_cli_module_imports_nothing_heavy_at_top_level() -> None:
    tree = ast.parse(Path(route_cli.__file__).read_text(encoding="utf-8"))
    top = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            top.add(node.module)
    assert top <= {"__future__", "sys", "pathlib", "typing", "typer", "airshift.errors"}
