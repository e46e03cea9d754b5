"""AS801-AS804: defaults whose meaning changed are written into the DAG (unless adopting new defaults)."""

from __future__ import annotations

import textwrap

from tests.upgrade.conftest import assert_fix, codes, run

AS8 = ("AS8",)


def test_missing_schedule_and_catchup_become_explicit() -> None:
    result = assert_fix(
        """\
        from airflow.sdk import DAG

        dag = DAG("d", start_date=None)
        """,
        """\
        from airflow.sdk import DAG
        from datetime import timedelta

        dag = DAG("d", start_date=None, schedule=timedelta(days=1), catchup=True)
        """,
        select=AS8,
    )
    assert sorted(codes(result)) == ["AS801", "AS802"]
    assert {f.category.value for f in result.findings} == {"behaviour"}


def test_one_argument_per_line_layout_is_kept() -> None:
    assert_fix(
        """\
        from airflow.sdk import DAG

        dag = DAG(
            dag_id="d",
            schedule=None,
        )
        """,
        """\
        from airflow.sdk import DAG

        dag = DAG(
            dag_id="d",
            schedule=None,
        )
        """,
        select=AS8,
    )
    assert_fix(
        """\
        from airflow.sdk import DAG

        dag = DAG(
            dag_id="d",
            schedule="0 4 * * *",
        )
        """,
        """\
        from airflow.sdk import DAG, CronDataIntervalTimetable

        dag = DAG(
            dag_id="d",
            schedule=CronDataIntervalTimetable("0 4 * * *", timezone="UTC"),
            catchup=True,
        )
        """,
        select=AS8,
    )


def test_cron_timezone_comes_from_a_pendulum_start_date() -> None:
    assert_fix(
        """\
        import pendulum
        from airflow.sdk import dag

        @dag(schedule='@daily', start_date=pendulum.datetime(2024, 1, 1, tz='Europe/Zurich'), catchup=False)
        def pipeline():
            pass
        """,
        """\
        import pendulum
        from airflow.sdk import dag, CronDataIntervalTimetable

        @dag(schedule=CronDataIntervalTimetable('@daily', timezone='Europe/Zurich'), start_date=pendulum.datetime(2024, 1, 1, tz='Europe/Zurich'), catchup=False)
        def pipeline():
            pass
        """,
        select=AS8,
    )


def test_timedelta_once_and_none_schedules_keep_their_meaning() -> None:
    for schedule in ("timedelta(hours=6)", "None", '"@once"'):
        source = textwrap.dedent(
            f"""\
            from datetime import timedelta
            from airflow.sdk import DAG

            dag = DAG("d", schedule={schedule}, catchup=False)
            """
        )
        assert run(source, select=AS8, adopt_new_defaults=False).text == source


def test_target_3_0_imports_the_timetable_from_core() -> None:
    result = run(
        'from airflow.sdk import DAG\ndag = DAG("d", schedule="@daily", catchup=False)\n',
        target="3.0",
        select=AS8,
        adopt_new_defaults=False,
    )
    assert "from airflow.timetables.interval import CronDataIntervalTimetable" in result.text


def test_adopting_new_defaults_or_target_2_11_changes_nothing() -> None:
    source = 'from airflow import DAG\ndag = DAG("d")\n'
    assert run(source, select=AS8, adopt_new_defaults=True).text == source
    assert run(source, target="2.11", select=AS8, adopt_new_defaults=False).text == source


def test_params_on_a_1_10_dag_are_reported() -> None:
    source = 'from airflow.operators.bash_operator import BashOperator\nfrom airflow import DAG\ndag = DAG("d", params={"a": 1}, schedule_interval=None, catchup=False)\n'
    result = run(source, select=("AS804",), adopt_new_defaults=False)
    assert codes(result) == ["AS804"]
