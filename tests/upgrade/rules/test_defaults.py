"""AS801-AS804: defaults whose meaning changed are written into the DAG (unless adopting new defaults)."""

from __future__ import annotations

import textwrap

from tests.upgrade.conftest import assert_fix, assert_no_op, codes, run

AS8 = ("AS8",)


def test_missing_schedule_and_catchup_become_explicit() -> None:
    result = assert_fix(
        """\
        from airflow.sdk import DAG

        dag = DAG("d", start_date=None)
        """,
        """\
        from airflow.sdk import DAG, DeltaDataIntervalTimetable
        from datetime import timedelta

        dag = DAG("d", start_date=None, schedule=DeltaDataIntervalTimetable(timedelta(days=1)), catchup=True)
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


def test_once_and_none_schedules_keep_their_meaning() -> None:
    for schedule in ("None", '"@once"'):
        source = textwrap.dedent(
            f"""\
            from datetime import timedelta
            from airflow.sdk import DAG

            dag = DAG("d", schedule={schedule}, catchup=False)
            """
        )
        assert run(source, select=AS8, adopt_new_defaults=False).text == source


def test_timedelta_schedules_keep_their_data_intervals() -> None:
    # Airflow 3.3.2's _create_timetable: a timedelta/relativedelta becomes DeltaTriggerTimetable unless
    # data intervals are asked for; 1.10/2.x gave DeltaDataIntervalTimetable.
    assert_fix(
        """\
        import datetime
        from dateutil.relativedelta import relativedelta
        from airflow.sdk import DAG

        a = DAG("a", schedule=datetime.timedelta(hours=6), catchup=False)
        b = DAG("b", schedule=relativedelta(months=1), catchup=False)
        """,
        """\
        import datetime
        from dateutil.relativedelta import relativedelta
        from airflow.sdk import DAG, DeltaDataIntervalTimetable

        a = DAG("a", schedule=DeltaDataIntervalTimetable(datetime.timedelta(hours=6)), catchup=False)
        b = DAG("b", schedule=DeltaDataIntervalTimetable(relativedelta(months=1)), catchup=False)
        """,
        select=AS8,
    )


def test_a_cron_schedule_in_a_module_constant_keeps_its_data_intervals() -> None:
    assert_fix(
        """\
        from airflow.sdk import DAG

        SCHEDULE = "0 6 * * *"
        dag = DAG("d", schedule=SCHEDULE, catchup=False)
        """,
        """\
        from airflow.sdk import DAG, CronDataIntervalTimetable

        SCHEDULE = "0 6 * * *"
        dag = DAG("d", schedule=CronDataIntervalTimetable(SCHEDULE, timezone="UTC"), catchup=False)
        """,
        select=AS8,
    )


def test_target_3_0_imports_the_timetable_from_core() -> None:
    result = run(
        'from airflow.sdk import DAG\ndag = DAG("d", schedule="@daily", catchup=False)\n',
        target="3.0",
        select=AS8,
        adopt_new_defaults=False,
    )
    assert "from airflow.timetables.interval import CronDataIntervalTimetable" in result.text


def test_version_gate_adopting_new_defaults_or_target_2_11_changes_nothing() -> None:
    source = 'from airflow import DAG\ndag = DAG("d")\n'
    assert run(source, select=AS8, adopt_new_defaults=True).text == source
    assert run(source, target="2.11", select=AS8, adopt_new_defaults=False).text == source


def test_params_on_a_1_10_dag_are_reported() -> None:
    source = 'from airflow.operators.bash_operator import BashOperator\nfrom airflow import DAG\ndag = DAG("d", params={"a": 1}, schedule_interval=None, catchup=False)\n'
    result = run(source, select=("AS804",), adopt_new_defaults=False)
    assert codes(result) == ["AS804"]


def test_no_op_cases() -> None:
    assert_no_op(
        (
            'from airflow import DAG\nDAG("d", schedule=None, catchup=False)\n',  # both explicit, no cron
            'from mylib import DAG\nDAG("d")\n',  # not Airflow's DAG
            'from airflow import DAG\nDAG("d", **options)\n',  # **kwargs may carry them
        ),
        select=AS8,
        adopt_new_defaults=False,
    )


def test_version_gate_params_matter_on_1_10_code_only() -> None:
    source = 'from airflow import DAG\ndag = DAG("d", params={"a": 1}, schedule=None, catchup=False)\n'
    assert codes(run(source, select=("AS804",), source="1.10", adopt_new_defaults=False)) == ["AS804"]
    assert codes(run(source, select=("AS804",), source="2", adopt_new_defaults=False)) == []
