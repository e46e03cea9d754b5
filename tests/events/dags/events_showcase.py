"""A DAG that walks through every kind of transition the EventStream must record (Airflow 2.x and 3.x)."""

import datetime

try:  # Airflow 3
    from airflow.providers.standard.operators.python import BranchPythonOperator, PythonOperator
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.operators.python import BranchPythonOperator, PythonOperator


def succeed():
    return "ok"


def fail_on_first_try(ti=None):
    if ti.try_number <= 1:
        raise RuntimeError("first try fails on purpose")
    return "second try worked"


def always_fail():
    raise RuntimeError("this task fails on purpose")


def choose():
    return "chosen"


with DAG(
    dag_id="events_showcase",
    start_date=datetime.datetime(2024, 1, 1),
    schedule=None,
    catchup=False,
) as dag:
    ok = PythonOperator(task_id="ok", python_callable=succeed)
    flaky = PythonOperator(
        task_id="flaky",
        python_callable=fail_on_first_try,
        retries=1,
        retry_delay=datetime.timedelta(seconds=1),
    )
    broken = PythonOperator(task_id="broken", python_callable=always_fail, retries=0)
    after_broken = PythonOperator(task_id="after_broken", python_callable=succeed)
    branch = BranchPythonOperator(task_id="branch", python_callable=choose)
    chosen = PythonOperator(task_id="chosen", python_callable=succeed)
    not_chosen = PythonOperator(task_id="not_chosen", python_callable=succeed)
    broken >> after_broken
    branch >> [chosen, not_chosen]
