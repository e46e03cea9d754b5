"""Parity: a 2.x daily cron DAG with a SQL file, a python task and templates_dict."""
from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator

with DAG("parity_cron_sql", start_date=datetime(2024, 1, 1), schedule_interval="0 4 * * *", catchup=False) as dag:
    merge = SQLExecuteQueryOperator(task_id="merge", conn_id="warehouse", sql="sql/merge.sql")

    announce = BashOperator(
        task_id="announce",
        bash_command="echo merged {{ ds }} at {{ execution_date }} until {{ next_ds }} (yesterday {{ yesterday_ds }})",
    )

    def summarize(execution_date, next_ds, templates_dict, **context):
        print(execution_date, next_ds, templates_dict, context["prev_ds"])
        return templates_dict["label"]

    summary = PythonOperator(
        task_id="summary",
        python_callable=summarize,
        templates_dict={"label": "run-{{ ts_nodash }}-{{ next_ds_nodash }}"},
    )

    merge >> announce >> summary
