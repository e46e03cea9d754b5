"""
Partner asset refresh (Airflow 2.x).

Refreshes the partner tables when their dataset is updated, on weekdays only, with a task group
per stage. Written the way 2.x teams wrote it: positional DAG arguments, a positional TaskGroup
flag, dataset helpers, configuration functions and f-string built templates.
"""
import airflow
import pendulum
from airflow import configuration
from airflow.datasets import Dataset
from airflow.models import DAG
from airflow.models.taskinstance import TaskInstance
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator
from airflow.sensors.weekday import DayOfWeekSensor
from airflow.utils.task_group import TaskGroup

PARTNER_TABLES = Dataset("s3://partner-feeds/tables", {"team": "integrations"})
LOAD_EXAMPLES = configuration.getboolean("core", "load_examples")
STAGES = ["stage", "publish"]


def summarize(ti: TaskInstance, **_):
    """Print what the run refreshed."""
    print("refreshed", PARTNER_TABLES.uri, "for", ti.execution_date, "py38+", airflow.PY38)


with DAG(
    "partner_assets_refresh",
    "Refresh partner tables when the partner dataset changes",
    schedule=[PARTNER_TABLES],
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
) as dag:
    weekday = DayOfWeekSensor(
        task_id="weekdays_only",
        week_day={"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"},
        use_task_execution_day=True,
        mode="reschedule",
    )
    previous = weekday
    for stage in STAGES:
        with TaskGroup(stage, False) as group:
            BashOperator(
                task_id=f"{stage}_partners",
                bash_command=f"echo {stage} partners for {{{{ execution_date }}}} on {{{{ ds }}}}",
            )
        previous >> group
        previous = group
    previous >> PythonOperator(task_id="summarize", python_callable=summarize)
