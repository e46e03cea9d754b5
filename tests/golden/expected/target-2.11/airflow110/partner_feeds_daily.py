"""
Partner feeds, daily.

Fetches each partner's feed, refreshes the partner regions in a SubDAG built inside the `with DAG`
block (the pattern the 1.10 docs show, with no dag= on the SubDagOperator), copies the summary to
the partners' shared drive and tells the finance DAG to run a full close.
"""
from datetime import datetime

from airflow import DAG, configuration
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator
from airflow.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.providers.google.suite.transfers.gcs_to_gdrive import GCSToGoogleDriveOperator

from common.helpers import build_region_subdag, default_args_for

DAG_ID = "partner_feeds_daily"
SCHEDULE = "30 5 * * *"
PARTNERS = ["acme", "globex"]
REGIONS = ["emea", "amer"]
FEEDS_HOME = configuration.get("core", "dags_folder")

default_args = default_args_for("partner-integrations")
default_args["start_date"] = datetime(2020, 6, 1)


def request_full_close(context, dag_run_obj):
    """The finance DAG always runs a full close after the feeds."""
    dag_run_obj.payload = {"mode": "full", "source": "partner_feeds"}
    return dag_run_obj


def log_feed_window(**context):
    ti = context["ti"]
    print("feeds for", ti.execution_date, "from", FEEDS_HOME)


with DAG(DAG_ID, "Daily partner feeds", schedule=SCHEDULE, default_args=default_args,
         catchup=False) as dag:
    fetches = [
        BashOperator(
            task_id="fetch_{}".format(partner),
            bash_command="echo fetching %s for {{ logical_date | ts }} into {{ data_interval_end | ds }}" % partner,
        )
        for partner in PARTNERS
    ]

    log_window = PythonOperator(
        task_id="log_feed_window",
        python_callable=log_feed_window,
    )

    refresh_regions = build_region_subdag(DAG_ID, "refresh_regions", default_args, REGIONS, SCHEDULE, parent_dag=dag)

    share_summary = GCSToGoogleDriveOperator(
        task_id="share_summary",
        source_bucket="partner-feeds",
        source_object="summary/{{ ds }}/summary.csv",
        destination_object="partners/summary_{{ ds_nodash }}.csv",
    )

    trigger_close = TriggerDagRunOperator(
        task_id="trigger_finance_close",
        trigger_dag_id="finance_month_close",
        conf={"mode": "full", "source": "partner_feeds"},
    )

    fetches >> log_window >> refresh_regions >> share_summary >> trigger_close
