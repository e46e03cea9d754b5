"""Shared helpers for the lakehouse DAGs (lives in the dags folder, imported as `dag_utils`)."""
from __future__ import annotations

import logging
from datetime import timedelta

from airflow.models import DagRun
from airflow.utils.session import provide_session
from airflow.utils.state import DagRunState

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


@provide_session
def last_successful_run_date(dag_id, session=None):
    """Logical date of the newest successful run of `dag_id`, straight from the metadata DB."""
    run = (
        session.query(DagRun)
        .filter(DagRun.dag_id == dag_id, DagRun.state == DagRunState.SUCCESS)
        .order_by(DagRun.execution_date.desc())
        .first()
    )
    return run.execution_date if run else None


def sla_miss_alert(dag, task_list, blocking_task_list, slas, blocking_tis):
    """sla_miss_callback: log loudly; PagerDuty picks these lines up from the scheduler log."""
    log.error("SLA missed on %s: %s (blocked by %s)", dag.dag_id, task_list, blocking_task_list)


def on_failure_log(context):
    ti = context["ti"]
    log.error("Task %s failed for %s (%s)", ti.task_id, context["execution_date"], ti.log_url)
