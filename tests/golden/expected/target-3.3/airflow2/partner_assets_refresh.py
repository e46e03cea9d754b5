"""
Partner asset refresh (Airflow 2.x).

Refreshes the partner tables when their dataset is updated, on weekdays only, with a task group
per stage. Written the way 2.x teams wrote it: positional DAG arguments, a positional TaskGroup
flag, dataset helpers, configuration functions and f-string built templates.
"""
import airflow
import pendulum
from airflow import configuration
import sys
from airflow.configuration import conf
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.providers.standard.sensors.weekday import DayOfWeekSensor
from airflow.sdk import Asset, DAG, TaskGroup
from airflow.models.taskinstance import TaskInstance

PARTNER_TABLES = Asset("s3://partner-feeds/tables", extra={"team": "integrations"})
LOAD_EXAMPLES = conf.getboolean("core", "load_examples")
STAGES = ["stage", "publish"]


def summarize(ti: TaskInstance, **_):
    """Print what the run refreshed."""
    print("refreshed", PARTNER_TABLES.uri, "for", ti.logical_date, "py38+", (sys.version_info >= (3, 8)))


with DAG(
    "partner_assets_refresh",
    description="Refresh partner tables when the partner dataset changes",
    schedule=[PARTNER_TABLES],
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
) as dag:
    weekday = DayOfWeekSensor(
        task_id="weekdays_only",
        week_day={"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"},
        use_task_logical_date=True,
        mode="reschedule",
    )
    previous = weekday
    for stage in STAGES:
        with TaskGroup(stage, prefix_group_id=False) as group:
            BashOperator(
                task_id=f"{stage}_partners",
                bash_command=f"echo {stage} partners for {{{{ logical_date }}}} on {{{{ ds }}}}",
            )
        previous >> group
        previous = group
    previous >> PythonOperator(task_id="summarize", python_callable=summarize)
