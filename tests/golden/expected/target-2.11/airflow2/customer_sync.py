"""
Customer master sync from the CRM.

Written for Airflow 2.0 and never modernised: it still imports the deprecated *_operator modules and
DummyOperator. Skips the sync on days the CRM is frozen, and branches to a full reload on Sundays.
"""
from datetime import datetime, timedelta

from airflow.models import DAG, Variable
from airflow.operators.bash import BashOperator
from airflow.operators.empty import EmptyOperator
from airflow.operators.python import BranchPythonOperator, ShortCircuitOperator, PythonOperator
from airflow.utils.trigger_rule import TriggerRule

from dag_utils import DEFAULT_ARGS, last_successful_run_date, on_failure_log, sla_miss_alert

# Parse-time lookups; both have defaults so a fresh environment still parses the file.
CRM_FREEZE_DAYS = Variable.get("crm_freeze_days", default_var="", deserialize_json=False)
FULL_RELOAD_WEEKDAY = int(Variable.get("crm_full_reload_weekday", default_var=6))

dag = DAG(
    "customer_sync",
    default_args=dict(DEFAULT_ARGS, on_failure_callback=on_failure_log, sla=timedelta(hours=1)),
    start_date=datetime(2021, 5, 1),
    schedule="15 2 * * *",
    catchup=False,
    max_active_tasks=6,
    sla_miss_callback=sla_miss_alert,
    doc_md=__doc__,
)


def crm_not_frozen(**context):
    """False stops the run: the CRM team freezes exports around quarter close."""
    return context["ds"] not in CRM_FREEZE_DAYS.split(",")


def pick_sync_mode(logical_date, **_):
    if logical_date.weekday() == FULL_RELOAD_WEEKDAY:
        return "full_reload"
    return "incremental_sync"


def log_gap(**context):
    previous = last_successful_run_date("customer_sync")
    print("previous good run: %s, this run: %s .. %s" % (
        previous, context["logical_date"], context["data_interval_end"]))


with dag:
    check_freeze = ShortCircuitOperator(task_id="check_crm_freeze", python_callable=crm_not_frozen)

    log_previous = PythonOperator(task_id="log_previous_run", python_callable=log_gap)

    choose_mode = BranchPythonOperator(task_id="choose_sync_mode", python_callable=pick_sync_mode)

    full_reload = BashOperator(
        task_id="full_reload",
        bash_command="crm-sync --full --as-of {{ ds }} --target dw.customers",
        execution_timeout=timedelta(hours=3),
    )

    incremental = BashOperator(
        task_id="incremental_sync",
        bash_command="crm-sync --since {{ macros.ds_add(ds, -1) }} --until {{ ds }} --target dw.customers",
        max_active_tis_per_dag=1,
    )

    # Join after whichever branch ran; the other one is skipped.
    joined = EmptyOperator(task_id="sync_done", trigger_rule=TriggerRule.NONE_FAILED_MIN_ONE_SUCCESS)

    dedupe = PythonOperator(
        task_id="dedupe_customers",
        python_callable=lambda **ctx: print("dedupe for", ctx["tomorrow_ds"]),
    )

    check_freeze >> log_previous >> choose_mode >> [full_reload, incremental]
    [full_reload, incremental] >> joined >> dedupe


if __name__ == "__main__":
    dag.test()
