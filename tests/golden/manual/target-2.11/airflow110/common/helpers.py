"""Helpers shared by the retail analytics DAGs.

Kept next to the DAGs in the dags folder, which Airflow puts on sys.path, so DAG files import it as
``from common.helpers import ...``.
"""
from datetime import timedelta

from airflow import DAG
from airflow.operators.empty import EmptyOperator
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.google.cloud.hooks.gcs import GCSHook
from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook
from airflow.utils.task_group import TaskGroup
from airflow.exceptions import AirflowException
from airflow.models import BaseOperator
from airflow.utils.decorators import apply_defaults

TEAM_EMAIL = "data-platform@example.com"
GCP_CONN_ID = "google_cloud_default"
LANDING_BUCKET = "acme-retail-landing"


def slack_failure_alert(context):
    """on_failure_callback: post the failed task and its log URL to #data-alerts."""
    ti = context["task_instance"]
    message = ":red_circle: {dag}.{task} failed for {ds} (try {tries})\n{url}".format(
        dag=ti.dag_id,
        task=ti.task_id,
        ds=context["ds"],
        tries=ti.try_number,
        url=ti.log_url,
    )
    # Manual step for AS202: the message goes to send().
    SlackWebhookHook(slack_webhook_conn_id="slack_alerts").send(text=message)


def default_args_for(owner, retries=2):
    """The default_args every team DAG starts from; callers add start_date."""
    return {
        "owner": owner,
        "email": [TEAM_EMAIL],
        "email_on_failure": False,
        "email_on_retry": False,
        "retries": retries,
        "retry_delay": timedelta(minutes=5),
        "on_failure_callback": slack_failure_alert,
    }


class GcsPartitionCheckOperator(BaseOperator):
    """Fails unless the landing bucket has at least `min_objects` files for the run's partition."""

    template_fields = ("prefix",)
    ui_color = "#e8f4fd"

    def __init__(self, bucket, prefix, min_objects=1, google_cloud_storage_conn_id=GCP_CONN_ID,
                 *args, **kwargs):
        super(GcsPartitionCheckOperator, self).__init__(*args, **kwargs)
        self.bucket = bucket
        self.prefix = prefix
        self.min_objects = min_objects
        self.google_cloud_storage_conn_id = google_cloud_storage_conn_id

    def execute(self, context):
        hook = GCSHook(gcp_conn_id=self.google_cloud_storage_conn_id)
        objects = hook.list(self.bucket, prefix=self.prefix)
        self.log.info("Found %d objects under gs://%s/%s for %s",
                      len(objects), self.bucket, self.prefix, context["logical_date"])
        if len(objects) < self.min_objects:
            raise AirflowException(
                "Partition gs://{}/{} is incomplete: {} < {}".format(
                    self.bucket, self.prefix, len(objects), self.min_objects))
        return objects


def build_region_subdag(parent_dag_id, child_task_id, default_args, regions, schedule_interval, parent_dag=None):
    """Factory for the per-region refresh SubDAG.

    The sub-DAG id must be '<parent>.<task_id>' and share the parent's schedule, or the
    SubDagOperator refuses it.
    """
    subdag = TaskGroup(group_id=child_task_id, default_args=default_args, dag=parent_dag)
    done = EmptyOperator(task_id="regions_done", task_group=subdag, dag=subdag.dag, trigger_rule="all_done")
    for region in regions:
        refresh = SQLExecuteQueryOperator(
            task_id="refresh_{}".format(region),
            conn_id="marketing_dw",
            sql="REFRESH MATERIALIZED VIEW marketing.campaign_spend_{{ params.region }};",
            params={"region": region},
            task_group=subdag, dag=subdag.dag,
        )
        refresh >> done
    return subdag
