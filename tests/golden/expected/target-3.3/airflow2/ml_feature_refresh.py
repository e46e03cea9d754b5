"""
Nightly customer feature refresh for the churn model.

Consumes two Datasets (curated orders and the customer master), builds the feature table on the
GPU box over SSH, and retrains only when the feature drift check says so. Publishes the feature
table as a Dataset of its own for the scoring DAG.
"""
from datetime import datetime

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import Asset, dag, get_current_context, task
from airflow.task.trigger_rule import TriggerRule
from airflow.providers.slack.operators.slack_webhook import SlackWebhookOperator
from airflow.providers.ssh.operators.ssh import SSHOperator

from dag_utils import ORDERS_URI

CUSTOMERS = Asset("postgres://warehouse-db:5432/dw/public/customers")
FEATURES = Asset("s3://acme-ml/features/churn/")


@dag(
    start_date=datetime(2023, 9, 1),
    schedule=[Asset(ORDERS_URI), CUSTOMERS],
    catchup=False,
    default_args={"owner": "ml-platform", "retries": 1},
    tags=["ml", "features"],
)
def ml_feature_refresh():
    build_features = SSHOperator(
        task_id="build_features",
        ssh_conn_id="gpu_box",
        command=(
            "cd /opt/churn && ./build_features.sh "
            "--as-of {{ ds }} --lookback-start {{ macros.ds_add(ds, -90) }} "
            "--out s3://acme-ml/features/churn/dt={{ ds }}/"
        ),
        cmd_timeout=3600,
        outlets=[FEATURES],
    )

    @task.branch
    def drift_gate():
        """Retrain when the stored drift score exceeds the threshold passed in the run conf."""
        context = get_current_context()
        threshold = float((context["dag_run"].conf or {}).get("drift_threshold", 0.15))
        drift = float(context["ti"].xcom_pull(task_ids="build_features") or 0)
        manual = (context["dag_run"].run_type == "manual")
        return "retrain_model" if manual or drift > threshold else "skip_retrain"

    retrain = SSHOperator(
        task_id="retrain_model",
        ssh_conn_id="gpu_box",
        command="cd /opt/churn && ./train.sh --features dt={{ ds }} --run-id {{ run_id }}",
        cmd_timeout=4 * 3600,
    )

    skip = EmptyOperator(task_id="skip_retrain")

    notify = SlackWebhookOperator(
        task_id="notify_ml_channel",
        slack_webhook_conn_id="slack_ml",
        message=(
            "Churn features for {{ ds }} are ready "
            "(previous build {{ prev_ds_nodash }}, next {{ next_ds_nodash }})."
        ),
        trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS,
    )

    @task(trigger_rule="none_failed_min_one_success")
    def record_lineage(**context):
        print("features for %s built from %s" % (context["ds"], list(context["triggering_asset_events"])))

    gate = drift_gate()
    build_features >> gate >> [retrain, skip]
    [retrain, skip] >> notify >> record_lineage()


ml_feature_refresh()
