"""`airshift events serve` and `airshift events token` through the real CLI: a missing log is refused
unless --create, short tokens are refused, a non-loopback bind is warned about."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx

from tests.state.airflow_envs import free_port, stop_process_group

GOOD_TOKEN = "serve-cli-token-0123456789abcdefghijkl"


def _airshift(
    *args: str, token: str | None = GOOD_TOKEN, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "AIRSHIFT_EVENTS_TOKEN"}
    if token is not None:
        env["AIRSHIFT_EVENTS_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "airshift", *args], capture_output=True, text=True, timeout=timeout, env=env
    )


def test_serve_refuses_a_log_that_does_not_exist(tmp_path: Path) -> None:
    typo = tmp_path / "evnts" / "events.db"
    result = _airshift("events", "serve", "--log", str(typo))
    assert result.returncode == 2 and str(typo) in result.stderr and "--create" in result.stderr
    assert "internal error" not in result.stderr
    assert not typo.parent.exists()


def test_serve_creates_a_new_log_with_create(tmp_path: Path) -> None:
    log_path, port, output = tmp_path / "events.db", free_port(), tmp_path / "serve.log"
    env = {**os.environ, "AIRSHIFT_EVENTS_TOKEN": GOOD_TOKEN}
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "airshift", "events", "serve", "--log", str(log_path), "--create",
             "--port", str(port)],
            env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/events"
        _wait_up(url, process, output)
        answer = httpx.get(url, headers={"Authorization": f"Bearer {GOOD_TOKEN}"}, timeout=10)
        assert answer.status_code == 200 and answer.json()["events"] == []
    finally:
        stop_process_group(process)
    assert log_path.is_file()
    assert "warning" not in output.read_text()  # 127.0.0.1: nothing to warn about


def _wait_up(url: str, process: subprocess.Popen[bytes], output: Path) -> None:
    import time

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, output.read_text()
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"events serve did not start:\n{output.read_text()}")


def test_serve_refuses_a_short_token(tmp_path: Path) -> None:
    (tmp_path / "events.db").touch()
    result = _airshift("events", "serve", "--log", str(tmp_path / "events.db"), "--create", token="short")
    assert result.returncode == 2 and "at least 32" in result.stderr and "events token" in result.stderr
    assert "short" not in result.stdout + result.stderr


def test_serve_warns_when_bound_beyond_loopback(tmp_path: Path) -> None:
    # 192.0.2.1 (TEST-NET-1) is on no interface here: the warning comes, then binding fails at once, so
    # the test never listens beyond loopback.
    result = _airshift(
        "events", "serve", "--log", str(tmp_path / "e.db"), "--create", "--host", "192.0.2.1",
        "--port", str(free_port()),
    )  # fmt: skip
    assert "warning" in result.stderr and "--host 192.0.2.1" in result.stderr, result.stderr
    assert GOOD_TOKEN not in result.stdout + result.stderr


def test_token_prints_or_writes_a_new_strong_token(tmp_path: Path) -> None:
    printed = _airshift("events", "token", token=None)
    assert printed.returncode == 0 and len(printed.stdout.strip()) >= 43
    token_file = tmp_path / "token"
    written = _airshift("events", "token", "--file", str(token_file), token=None)
    assert written.returncode == 0 and len(token_file.read_text().strip()) >= 43
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert token_file.read_text().strip() not in written.stdout
    again = _airshift("events", "token", "--file", str(token_file), token=None)
    assert again.returncode == 2 and "exists" in again.stderr
