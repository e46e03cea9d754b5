"""AS313 use_task_execution_day -> use_task_logical_date; AS314 task handler filename_template removed."""

from __future__ import annotations

from tests.upgrade.conftest import assert_fix, codes, run

SELECT = ("AS313", "AS314")


def test_use_task_execution_day_is_renamed() -> None:
    assert_fix(
        """\
        from airflow.sensors.weekday import DayOfWeekSensor

        DayOfWeekSensor(task_id="monday", week_day="Monday", use_task_execution_day=True)
        """,
        """\
        from airflow.sensors.weekday import DayOfWeekSensor

        DayOfWeekSensor(task_id="monday", week_day="Monday", use_task_logical_date=True)
        """,
        select=SELECT,
    )


def test_filename_template_is_removed_and_reported() -> None:
    result = run(
        "from airflow.utils.log.file_task_handler import FileTaskHandler\n"
        "h = FileTaskHandler('/logs', filename_template='{{ ti.dag_id }}.log')\n",
        select=SELECT,
    )
    assert "FileTaskHandler('/logs')" in result.text
    assert "{{ ti.dag_id }}.log" in result.findings[0].message


def test_no_op_cases() -> None:
    for source in (
        "from mylib import DayOfWeekSensor\nDayOfWeekSensor(use_task_execution_day=True)\n",
        "from airflow.operators.python import PythonOperator\nPythonOperator(task_id='x', op_kwargs={'filename_template': 1})\n",
        "try:\n    from airflow.sensors.weekday import DayOfWeekSensor\nexcept ImportError:\n    pass\n"
        "DayOfWeekSensor(task_id='m', week_day='Monday', use_task_execution_day=True)\n",
        "def DayOfWeekSensor(**k):\n    return k\nDayOfWeekSensor(use_task_execution_day=True)\n",
    ):
        result = run(source, select=SELECT)
        assert result.text == source and not codes(result), source


def test_version_gate() -> None:
    source = "from airflow.sensors.weekday import DayOfWeekSensor\nDayOfWeekSensor(task_id='m', week_day='Monday', use_task_execution_day=True)\n"
    assert not codes(run(source, target="2.11", select=SELECT))
    assert codes(run(source, target="3.0", select=SELECT)) == ["AS313"]
