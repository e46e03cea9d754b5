"""The cutover journal on SQLite and on PostgreSQL: append-only, ownership derived from the steps,
resumable attempts, readers in other processes while a writer appends, and no secret ever stored."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from airshift.cutover.journal import Journal, open_journal
from airshift.errors import AirshiftError
from tests.state.airflow_envs import postgres_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def journal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Journal]:
    if request.param == "sqlite":
        with open_journal(tmp_path / "j" / "journal.sqlite", secrets=["planted-secret-1"]) as opened:
            yield opened
        return
    with (
        postgres_database("airshift_journal") as name,
        open_journal(f"postgresql://postgres@127.0.0.1:5432/{name}", secrets=["planted-secret-1"]) as opened,
    ):
        yield opened


def test_ownership_follows_the_newest_step_that_names_an_owner(journal: Journal) -> None:
    assert journal.owner_of("a") is None and journal.ownership() == {}
    journal.record_step("a", "start", wave="w1", owner="old", detail={"was_paused": False})
    journal.record_step("a", "paused_old", wave="w1")
    journal.record_step("a", "copied", wave="w1", owner="new")
    journal.record_step("b", "start", wave="w1", owner="old")
    assert journal.owner_of("a") == "new" and journal.owner_of("b") == "old"
    owners = journal.ownership()
    assert {d: o.side for d, o in owners.items()} == {"a": "new", "b": "old"}
    assert owners["a"].wave == "w1" and owners["a"].since >= owners["b"].since.replace(year=2000)
    journal.record_step("a", "returned", wave="w1", action="rollback", owner="old")
    assert journal.owner_of("a") == "old"
    steps = journal.steps("a")
    assert [s.step for s in steps] == ["start", "paused_old", "copied", "returned"]
    assert steps[0].detail == {"was_paused": False}
    assert [s.id for s in journal.steps()] == sorted(s.id for s in journal.steps())


def test_open_attempt_is_what_a_killed_run_left(journal: Journal) -> None:
    journal.record_step("a", "start", wave="w", detail={"was_paused": True})
    journal.record_step("a", "drained", wave="w")
    assert [s.step for s in journal.open_attempt("a", "cutover")] == ["start", "drained"]
    journal.record_step("a", "done", wave="w", owner="new")
    assert journal.open_attempt("a", "cutover") == []
    assert journal.last_step("a").step == "done"  # type: ignore[union-attr]
    assert journal.last_step("a", "drained").step == "drained"  # type: ignore[union-attr]
    assert journal.last_step("zzz") is None


def test_planted_secrets_never_reach_the_journal(journal: Journal) -> None:
    journal.add_secrets(["planted-secret-2"])
    journal.record_step(
        "a", "failed", wave="w", status="failed",
        message="login with planted-secret-1 refused", detail={"why": "token planted-secret-2"},
    )  # fmt: skip
    step = journal.steps("a")[0]
    assert "planted-secret" not in step.message and "planted-secret" not in str(step.detail)
    with journal.engine.connect() as connection:
        dump = str(connection.execute(text("SELECT * FROM airshift_cutover_step")).all())
    assert "planted-secret" not in dump and "***" in dump


def test_the_log_is_only_appended_to(journal: Journal) -> None:
    for index in range(5):
        journal.record_step("a", f"s{index}", wave="w")
    with journal.engine.connect() as connection:
        count = connection.execute(text("SELECT COUNT(*) FROM airshift_cutover_step")).scalar()
    assert count == 5


def test_concurrent_writers_and_a_reader_in_another_process(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    journal = open_journal(path)
    threads = [
        threading.Thread(
            target=lambda n=n: [journal.record_step(f"d{n}", f"s{i}", wave="w") for i in range(30)]
        )
        for n in range(4)
    ]
    reader = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom airshift.cutover.journal import open_journal\n"
         f"j = open_journal({str(path)!r})\n"
         "seen = 0\nfor _ in range(200):\n    seen = max(seen, len(j.steps()))\n    j.ownership()\n"
         "    time.sleep(0.005)\nprint(seen)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert reader.wait(timeout=120) == 0
    assert len(journal.steps()) == 120
    assert {s.dag_id for s in journal.steps()} == {"d0", "d1", "d2", "d3"}
    journal.close()


def test_bad_locations_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(AirshiftError, match="only SQLite files and postgresql:// URLs"):
        open_journal("mysql://root@127.0.0.1/test")
    (tmp_path / "not-a-db").write_text("hello, this is not sqlite" * 100)
    with pytest.raises(AirshiftError, match="cannot be used"):
        open_journal(tmp_path / "not-a-db")
    engine = create_engine(f"sqlite:///{tmp_path / 'v.sqlite'}")
    open_journal(tmp_path / "v.sqlite").close()
    with engine.begin() as connection:
        connection.execute(text("UPDATE airshift_cutover_meta SET value = '99'"))
    with pytest.raises(AirshiftError, match="schema version 99"):
        open_journal(tmp_path / "v.sqlite")


def test_reading_commands_leave_no_journal_file_behind(tmp_path: Path) -> None:
    path = tmp_path / "missing.sqlite"
    with open_journal(path, create=False) as journal:
        assert (
            journal.ownership() == {}
            and journal.owner_of("a") is None
            and "not created yet" in journal.location
        )
    assert not path.exists()


def test_processes_that_open_a_new_journal_at_the_same_moment_all_succeed(tmp_path: Path) -> None:
    """`cutover run` creates the journal while `cutover status`, the router or a second command opens it:
    whoever loses the race to write the schema version reads the winner's instead of failing."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    for attempt in range(3):
        path = tmp_path / f"race-{attempt}.sqlite"
        with context.Pool(6) as pool:
            outcomes = pool.map(_open_and_count, [str(path)] * 6)
        assert outcomes == [0] * 6, outcomes


def _open_and_count(path: str) -> object:
    import time

    from airshift.errors import AirshiftError as Error

    time.sleep(max(0.0, 1.0 - (time.time() % 1.0)))  # start together, at the next whole second
    try:
        with open_journal(path) as journal:
            return len(journal.steps())
    except Error as error:
        return str(error)
