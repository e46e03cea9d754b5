"""Kill a consumer process (SIGKILL) mid-stream, again and again, and restart it: every event is handled,
none is skipped, and the only repeats are events whose handler had run but whose offset was not yet
committed when the process died (at most one per kill)."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from events_helpers import many

from airshift.events.stores.sqlite import SqliteEventLog

CHILD = Path(__file__).with_name("consumer_child.py")
EVENTS = 600


def _handled(out: Path) -> list[int]:
    if not out.exists():
        return []
    return [int(line) for line in out.read_text().split()]


def test_killed_consumer_resumes_from_its_committed_offset(tmp_path: Path) -> None:
    log_path, offsets, out = tmp_path / "log.db", tmp_path / "offsets.json", tmp_path / "handled.txt"
    SqliteEventLog(log_path).append(many(EVENTS))
    kills = 0
    for target in (60, 200, 330, 480):
        child = subprocess.Popen(
            [sys.executable, str(CHILD), str(log_path), str(offsets), str(out)], start_new_session=True
        )
        deadline = time.monotonic() + 60
        while len(_handled(out)) < target and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            kills += 1
        child.wait(timeout=30)
    finished = subprocess.run(
        [sys.executable, str(CHILD), str(log_path), str(offsets), str(out)], timeout=120
    )
    assert finished.returncode == 0 and kills >= 3

    handled = _handled(out)
    assert set(handled) == set(range(1, EVENTS + 1))  # nothing lost
    assert len(handled) - EVENTS <= kills  # at most the in-flight event per kill
    # Each run resumes right after its committed offset: the sequence only steps back by one at a restart.
    for previous, current in itertools.pairwise(handled):
        assert current in (previous + 1, previous)
