"""
Marketing campaign spend refresh.

Pulls the ad-platform spend extracts, then refreshes one materialized view per sales region in a
SubDAG. On the first day of the month it also rebuilds the monthly budget report.
"""
from datetime import datetime, timedelta

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import BranchPythonOperator
from airflow.sdk import CronDataIntervalTimetable, DAG
from airflow.task.trigger_rule import TriggerRule

from common.helpers import build_region_subdag, default_args_for

DAG_ID = "marketing_campaign_refresh"
SCHEDULE = "0 6 * * *"
REGIONS = ["emea", "apac", "amer", "latam"]

default_args = default_args_for("marketing-analytics")
default_args["start_date"] = datetime(2020, 3, 1)

dag = DAG(
    DAG_ID,
    default_args=default_args,
    schedule=CronDataIntervalTimetable(SCHEDULE, timezone="UTC"),
    catchup=False,
    max_active_tasks=8,
)

start = EmptyOperator(task_id="start", dag=dag)

extract_spend = BashOperator(
    task_id="extract_ad_spend",
    bash_command=(
        "python /opt/jobs/ad_spend_extract.py "
        "--from {{ ds }} --to {{ macros.ds_add(ds, 1) }} "
        "--out /data/marketing/spend_{{ ds_nodash }}.parquet"
    ),
    dag=dag,
)

# The factory keeps the '<parent>.<child>' naming rule SubDagOperator enforces.
refresh_regions = build_region_subdag(DAG_ID, "refresh_regions", default_args, REGIONS, SCHEDULE, parent_dag=dag)


def choose_monthly_branch(**kwargs):
    """Rebuild the budget report only for the run covering the 1st of the month."""
    if kwargs["logical_date"].day == 1:
        return "rebuild_monthly_budget"
    return "skip_monthly_budget"


is_month_start = BranchPythonOperator(
    task_id="is_month_start",
    python_callable=choose_monthly_branch,
    dag=dag,
)

rebuild_budget = BashOperator(
    task_id="rebuild_monthly_budget",
    bash_command="python /opt/jobs/budget_report.py --month {{ logical_date.strftime('%Y-%m') }}",
    dag=dag,
)

skip_budget = EmptyOperator(task_id="skip_monthly_budget", dag=dag)

# Runs after whichever branch was taken; a skipped branch must not skip the join.
join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success", dag=dag)

# Publishing the dashboard extract is best effort: it fires regardless of upstream state.
publish_dashboard = BashOperator(
    task_id="publish_dashboard_extract",
    bash_command="python /opt/jobs/publish_extract.py --date {{ ds }} --previous {{ macros.ds_add(ds, -1) }}",
    trigger_rule=TriggerRule.ALWAYS,
    dag=dag,
)

audit = EmptyOperator(task_id="audit_marker", trigger_rule="always", dag=dag)

start >> extract_spend >> refresh_regions >> is_month_start
is_month_start >> [rebuild_budget, skip_budget] >> join >> publish_dashboard >> audit
