"""Shared helpers for the lakehouse DAGs (lives in the dags folder, imported as `dag_utils`)."""
from __future__ import annotations

import logging
import os
from datetime import timedelta

import httpx

log = logging.getLogger(__name__)

LAKE_BUCKET = "acme-lake"
ORDERS_URI = "s3://acme-lake/curated/orders/"
WAREHOUSE_CONN_ID = "warehouse_pg"

DEFAULT_ARGS = {
    "owner": "lakehouse",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
    "email": ["lakehouse-oncall@example.com"],
    "email_on_failure": True,
}


def last_successful_run_date(dag_id):
    """Logical date of the newest successful run of `dag_id`.

    Manual step for AS901: Airflow 3 tasks have no metadata-DB session, so ask the REST API (/api/v2) with a
    token from the environment.
    """
    response = httpx.get(
        f"{os.environ['AIRFLOW_API_URL']}/api/v2/dags/{dag_id}/dagRuns",
        params={"state": "success", "order_by": "-logical_date", "limit": 1},
        headers={"Authorization": f"Bearer {os.environ['AIRFLOW_API_TOKEN']}"},
        timeout=30,
    )
    response.raise_for_status()
    runs = response.json()["dag_runs"]
    return runs[0]["logical_date"] if runs else None


def sla_miss_alert(dag, task_list, blocking_task_list, slas, blocking_tis):
    """sla_miss_callback: log loudly; PagerDuty picks these lines up from the scheduler log."""
    log.error("SLA missed on %s: %s (blocked by %s)", dag.dag_id, task_list, blocking_task_list)


def on_failure_log(context):
    ti = context["ti"]
    log.error("Task %s failed for %s (%s)", ti.task_id, context["execution_date"], ti.log_url)
