"""Parity: a daily 1.10 DAG whose bash and python tasks read every date variable 1.10 offered."""
from datetime import datetime

from airflow import DAG
from airflow.operators.bash_operator import BashOperator
from airflow.operators.python_operator import PythonOperator

default_args = {"owner": "parity", "start_date": datetime(2024, 1, 1), "provide_context": True}

dag = DAG("parity_daily_bash", default_args=default_args, schedule_interval="@daily", catchup=False)

dates = BashOperator(
    task_id="dates",
    bash_command=(
        "echo ds={{ ds }} nodash={{ ds_nodash }} exec={{ execution_date }} "
        "next={{ next_ds }} next_nodash={{ next_ds_nodash }} prev={{ prev_ds }} prev_nodash={{ prev_ds_nodash }} "
        "tomorrow={{ tomorrow_ds }} tomorrow_nodash={{ tomorrow_ds_nodash }} "
        "yesterday={{ yesterday_ds }} yesterday_nodash={{ yesterday_ds_nodash }} "
        "next_exec={{ next_execution_date }} prev_exec={{ prev_execution_date }} "
        "hour={{ execution_date.strftime('%H') }} week={{ macros.ds_add(ds, 7) }} ts={{ ts }}"
    ),
    dag=dag,
)

script = BashOperator(task_id="script", bash_command="scripts/report.sh", dag=dag)


def show(templates_dict=None, **kwargs):
    print("rendered", templates_dict, kwargs["execution_date"], kwargs["next_ds"], kwargs["tomorrow_ds"])
    return templates_dict["window"]


python_task = PythonOperator(
    task_id="python_task",
    python_callable=show,
    templates_dict={"window": "{{ ds }}..{{ next_ds }}", "previous": "{{ prev_ds_nodash }}"},
    dag=dag,
)

dates >> script >> python_task
