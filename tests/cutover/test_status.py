"""Status renderers (table, JSON, HTML) and the journal-only status of a plan."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from rich.console import Console

from airshift.cutover.journal import open_journal
from airshift.cutover.plan import load_plan
from airshift.cutover.status import (
    CutoverStatus,
    DagStatus,
    RunSummary,
    WaveStatus,
    collect_status,
    dag_element_id,
    render_html,
    render_table,
    to_json,
)

T = dt.datetime(2026, 12, 3, 20, 0, tzinfo=dt.timezone.utc)


def sample() -> CutoverStatus:
    return CutoverStatus(
        plan="cutover.toml", journal="j.sqlite", old="af2", new="af3",
        waves=[WaveStatus(number=1, name="first", dags=[
            DagStatus(dag_id="etl_daily", wave="first", owner="new", journaled=True, since=T, step="done",
                      step_status="ok", last_run_old=RunSummary(run_id="r1", state="success", logical_date=T),
                      next_run=T + dt.timedelta(days=1)),
            DagStatus(dag_id="<script>alert(1)</script>", wave="first", owner="old", step="drain",
                      step_status="failed", problems=["runs in flight after 600 s <b>"]),
        ])],
        problems=["new side: cannot reach"],
    )  # fmt: skip


def test_json_round_trips_the_model() -> None:
    data = json.loads(to_json(sample()))
    assert data["command"] == "cutover status" and data["schema_version"] == 1
    dags = data["waves"][0]["dags"]
    assert [d["owner"] for d in dags] == ["new", "old"]
    assert dags[1]["problems"] == ["runs in flight after 600 s <b>"]
    again = CutoverStatus.model_validate({k: v for k, v in data.items() if k not in ("tool", "command")})
    assert again.model_dump(exclude={"generated_at"}) == sample().model_dump(exclude={"generated_at"})


def test_html_is_self_contained_escaped_and_marks_problems() -> None:
    page = render_html(sample(), refresh_seconds=5)
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page and 'http-equiv="refresh"' in page
    assert "src=" not in page and "href=" not in page  # nothing loaded from elsewhere
    assert f'id="{dag_element_id("etl_daily")}" class="dag-row owner-new"' in page
    bad = dag_element_id("<script>alert(1)</script>")
    assert bad == "dag-_script_alert_1___script_"
    assert f'id="{bad}" class="dag-row owner-old has-problems"' in page
    assert '<li class="problem">runs in flight after 600 s &lt;b&gt;</li>' in page
    assert '<span class="count-new">1 on new</span>' in page


def test_table_shows_owners_and_problems() -> None:
    console = Console(record=True, width=220)
    render_table(sample(), console)
    out = console.export_text()
    assert "wave 1: first - 1 on new, 1 on old, 1 with problems" in out
    assert "etl_daily" in out and "runs in flight after 600 s <b>" in out
    assert "problem: new side: cannot reach" in out


def test_collect_status_from_the_journal_alone(tmp_path: Path) -> None:
    plan_path = tmp_path / "p.toml"
    plan_path.write_text(
        '[old]\nurl = "http://old"\n[new]\nurl = "http://new"\n'
        '[[waves]]\nname = "w1"\ndag_ids = ["a", "b"]\n[[waves]]\nname = "w2"\nglobs = ["c*"]\n'
    )
    plan = load_plan(plan_path)
    with open_journal(plan.journal) as journal:
        journal.record_step("a", "start", wave="w1", owner="old")
        journal.record_step("a", "done", wave="w1", owner="new")
        journal.record_step("c1", "start", wave="w2", owner="old")
        journal.record_step("c1", "drain", wave="w2", status="failed", message="timed out")
        status = collect_status(plan, journal)
    owners = {d.dag_id: d.owner for w in status.waves for d in w.dags}
    assert owners == {"a": "new", "b": "old", "c1": "old"}
    assert status.dag("b").journaled is False  # type: ignore[union-attr]
    assert status.dag("c1").problems == ["cutover step drain failed: timed out"]  # type: ignore[union-attr]


def test_a_110_old_side_is_read_dag_by_dag_not_reported_down(tmp_path: Path) -> None:
    """1.10's API cannot list DAGs; its waves list ids, so the status reads each DAG by id (the route
    status page against a live 1.10: tests/integration/test_route_airflow110.py)."""
    from airshift.cutover.airflow_rest import DagInfo
    from airshift.errors import AirshiftError

    class Old110:
        flavour = "experimental"

        def list_dags(self) -> dict[str, tuple[str, ...]]:
            raise AirshiftError("Airflow 1.10's experimental API cannot list DAGs")

        def get_dag(self, dag_id: str) -> DagInfo | None:
            return DagInfo(dag_id=dag_id, is_paused=True) if dag_id == "a" else None

        def list_runs(self, dag_id: str, limit: int = 100) -> list[object]:
            return []

    plan_path = tmp_path / "p.toml"
    plan_path.write_text(
        '[old]\nurl = "http://old"\n[new]\nurl = "http://new"\n[[waves]]\nname = "w1"\ndag_ids = ["a", "b"]\n'
    )
    plan = load_plan(plan_path)
    with open_journal(plan.journal) as journal:
        status = collect_status(plan, journal, old=Old110())  # type: ignore[arg-type]
    assert status.problems == []
    assert status.dag("a").paused_old is True  # type: ignore[union-attr]
    assert status.dag("b").problems == ["not on the old side"]  # type: ignore[union-attr]
