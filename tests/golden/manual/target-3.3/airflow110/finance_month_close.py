"""
Finance month-end close.

Runs once a month after the books for the previous month are locked: computes revenue per legal
entity in BigQuery, stores the totals for the auditors, then triggers finance_report_distribution
for the same logical date so the PDF pack goes out with matching numbers.
"""
from datetime import datetime, timedelta

from airflow.providers.google.cloud.hooks.bigquery import BigQueryHook
from airflow.providers.standard.operators.python import PythonOperator
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import CronDataIntervalTimetable, DAG, Variable

from common.helpers import default_args_for

# Read at parse time: the entity list changes a few times a year and lives in a Variable.
LEGAL_ENTITIES = Variable.get(
    "finance_legal_entities", default=["acme_uk", "acme_de", "acme_us"], deserialize_json=True
)

default_args = default_args_for("finance-data", retries=1)
default_args.update({"start_date": datetime(2019, 1, 1), "sla": timedelta(hours=6)})

dag = DAG(
    dag_id="finance_month_close",
    default_args=default_args,
    schedule=CronDataIntervalTimetable("@monthly", timezone="UTC"),
    catchup=False,
    max_active_runs=1,
)


def compute_entity_revenue(ds, data_interval_end, **kwargs):
    """Revenue per entity for [ds, next_ds); the BigQuery hook is called directly from the task."""
    hook = BigQueryHook(gcp_conn_id="google_cloud_default", use_legacy_sql=False)
    df = hook.get_pandas_df(
        "SELECT legal_entity, SUM(net_amount) AS revenue "
        "FROM `acme-finance.ledger.journal_lines` "
        "WHERE posting_date >= '{}' AND posting_date < '{}' "
        "AND legal_entity IN UNNEST({}) GROUP BY legal_entity".format(ds, data_interval_end.strftime("%Y-%m-%d"), LEGAL_ENTITIES)
    )
    totals = {row.legal_entity: float(row.revenue) for row in df.itertuples()}
    kwargs["ti"].log.info("Month %s closed with %d entities", kwargs["logical_date"], len(totals))
    return totals


def store_audit_snapshot(**context):
    totals = context["ti"].xcom_pull(task_ids="compute_entity_revenue")
    hook = BigQueryHook(gcp_conn_id="google_cloud_default", use_legacy_sql=False)
    rows = [
        {"period_start": context["ds"], "period_end": context["data_interval_end"].strftime("%Y-%m-%d"), "entity": k, "revenue": v}
        for k, v in sorted(totals.items())
    ]
    hook.insert_all(
        project_id="acme-finance", dataset_id="audit", table_id="month_close_snapshots", rows=rows
    )


def attach_totals(context, dag_run_obj):
    """1.10 TriggerDagRunOperator hook: return the run object (with a payload) to trigger it."""
    dag_run_obj.payload = {
        "period": context["ds"],
        "previous_period": context["prev_ds_nodash"],
        "totals": context["ti"].xcom_pull(task_ids="compute_entity_revenue"),
    }
    return dag_run_obj


compute = PythonOperator(
    task_id="compute_entity_revenue",
    python_callable=compute_entity_revenue,
    dag=dag,
)

snapshot = PythonOperator(
    task_id="store_audit_snapshot",
    python_callable=store_audit_snapshot,
    dag=dag,
)

trigger_distribution = TriggerDagRunOperator(
    task_id="trigger_report_distribution",
    trigger_dag_id="finance_report_distribution",
    # Manual step for AS309: the payload callable became a templated conf.
    conf={
        "period": "{{ ds }}",
        "previous_period": "{{ (data_interval_start - macros.dateutil.relativedelta.relativedelta(months=1)) | ds_nodash }}",
        "totals": "{{ ti.xcom_pull(task_ids='compute_entity_revenue') }}",
    },
    logical_date="{{ logical_date | ts }}",
    dag=dag,
)

compute >> snapshot >> trigger_distribution
