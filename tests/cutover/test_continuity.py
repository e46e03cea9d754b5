"""The continuity method chosen per DAG, and the refusals (pure logic: no server)."""

from __future__ import annotations

import datetime as dt

import pytest

from airshift.cutover.airflow_rest import DagInfo
from airshift.cutover.checks import DagCheck, steps_for
from airshift.cutover.continuity import Choice, Marker, SideKind, _trigger_semantics, choose

AF110_DB = SideKind("experimental", True)
AF110 = SideKind("experimental", False)
AF2_DB = SideKind("v1", True)
AF2 = SideKind("v1", False)
AF3_DB = SideKind("v2", True)
AF3 = SideKind("v2", False)


def pick(
    leaving: SideKind,
    joining: SideKind,
    *,
    schedule: str | None = "0 0 * * *",
    catchup: bool | None = True,
    history: bool = True,
    action: str = "cutover",
) -> Choice:
    names = ("old", "new") if action == "cutover" else ("new", "old")
    return choose(
        "billing", leaving=leaving, joining=joining, leaving_name=names[0], joining_name=names[1],
        schedule=schedule, catchup=catchup, has_history=history,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("leaving", "joining"),
    [(AF2_DB, AF3_DB), (AF110_DB, AF3_DB), (AF3_DB, AF2_DB), (AF3_DB, AF110_DB), (AF3_DB, AF3_DB)],
)
def test_both_databases_copy_whatever_the_dag(leaving: SideKind, joining: SideKind) -> None:
    for catchup in (True, False, None):
        for schedule in ("@once", None, "*/5 * * * *"):
            assert pick(leaving, joining, schedule=schedule, catchup=catchup).method == "copy"


@pytest.mark.parametrize("leaving", [AF2_DB, AF2, AF3, AF110_DB])
def test_rest_only_airflow3_joining_side(leaving: SideKind) -> None:
    assert pick(leaving, AF3, catchup=True).method == "backfill-marker"
    assert pick(leaving, AF3, catchup=False).method == "manual-marker"
    # @once: one tick, already run on the leaving side; a manual run marks it whatever catchup says
    assert pick(leaving, AF3, schedule="@once", catchup=True).method == "manual-marker"
    assert pick(leaving, AF3, schedule="@once", catchup=None).method == "manual-marker"


def test_nothing_to_continue() -> None:
    assert pick(AF2_DB, AF3, schedule=None).method == "nothing"
    assert pick(AF2_DB, AF3, history=False).method == "nothing"
    assert pick(AF2_DB, AF3, schedule="@once", history=False).method == "nothing"
    # no schedule or no history is safe on any REST side, Airflow 2 included (nothing is written)
    assert pick(AF3_DB, AF2, schedule=None, action="rollback").method == "nothing"
    assert pick(AF3, AF2, history=False, action="rollback").method == "nothing"


def test_airflow2_joining_side_without_a_copy_is_refused() -> None:
    cutover = pick(AF2_DB, AF2, catchup=True)
    assert cutover.refused and cutover.method is None
    assert "DAG 'billing'" in cutover.reason and "the new side is Airflow 2" in cutover.reason
    assert "cannot create a backfill run" in cutover.reason and "[new] db_url_file" in cutover.reason
    no_catchup = pick(AF2_DB, AF2, catchup=False)
    assert no_catchup.refused and "only proven on Airflow 3" in no_catchup.reason
    # rollback into Airflow 2 with catchup, from a REST-only new side: its own database does not help
    rollback = pick(AF3, AF2_DB, catchup=True, action="rollback")
    assert rollback.refused and "the old side is Airflow 2" in rollback.reason
    assert "the new side's metadata database is not in the plan" in rollback.reason


def test_airflow110_side_without_its_database_is_refused_whatever_the_dag() -> None:
    for schedule in (None, "@once", "0 0 * * *"):
        old = pick(AF110, AF3, schedule=schedule)
        assert (
            old.refused and "the old side is Airflow 1.10" in old.reason and "[old] db_url_file" in old.reason
        )
        back = pick(AF3, AF110, schedule=schedule, action="rollback")
        assert back.refused and "the old side is Airflow 1.10" in back.reason
    # into 1.10 with its database but without the new side's: no copy, and no marker on 1.10
    assert pick(AF3, AF110_DB, action="rollback").refused


def test_unknown_catchup_is_refused_for_a_marker() -> None:
    refused = pick(AF2_DB, AF3, catchup=None)
    assert refused.refused and "did not say whether the DAG catches up" in refused.reason


def test_plan_steps_name_the_method() -> None:
    for method, words in (
        ("copy", "copy run history"),
        ("backfill-marker", "continuity backfill-marker"),
        ("manual-marker", "continuity manual-marker"),
        ("nothing", "continuity nothing"),
        (None, "continuity: refused"),
    ):
        check = DagCheck("billing", continuity=method)
        assert any(words in step for step in steps_for(check)), (method, steps_for(check))
        assert check.as_dict()["continuity"] == method


def test_marker_dating_follows_the_joining_side() -> None:
    """A backfill marker is dated as the joining side dates runs: at the tick (trigger timetables, Airflow
    3's default: next logical date = next run_after) or at the interval start (data-interval ones)."""
    tick = dt.datetime(2026, 12, 4, 13, 40, tzinfo=dt.timezone.utc)
    trigger = DagInfo("d", True, next_logical_date=tick, next_run_after=tick)
    interval = DagInfo("d", True, next_logical_date=tick - dt.timedelta(days=1), next_run_after=tick)
    assert _trigger_semantics(trigger) and not _trigger_semantics(interval)
    assert _trigger_semantics(DagInfo("d", True))  # no next run known: the tick, checked after creation
    marker = Marker("backfill-marker", "backfill__x", tick, tick, "m")
    assert marker.detail() == {
        "method": "backfill-marker", "marker_run_id": "backfill__x",
        "marker_logical_date": tick.isoformat(), "last_due": tick.isoformat(),
    }  # fmt: skip
