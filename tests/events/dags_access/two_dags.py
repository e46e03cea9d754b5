"""Two DAGs for the per-DAG access test of the Airflow 3 plugin."""

from datetime import datetime

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

for dag_id in ("dag_a", "dag_b"):
    with DAG(dag_id, start_date=datetime(2026, 1, 1), schedule=None) as dag:
        EmptyOperator(task_id="t")
    globals()[dag_id] = dag
