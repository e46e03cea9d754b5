"""
Hourly orders pipeline (TaskFlow).

Pulls the orders the shop API exported during the hour, curates them into the lake and publishes
the curated prefix as a Dataset so warehouse loads run as soon as new data exists.
"""
import json

import airflow.utils.dates
import pendulum
from airflow.sdk import Asset, CronDataIntervalTimetable, dag, get_current_context, task
from airflow.providers.amazon.aws.hooks.s3 import S3Hook

from dag_utils import DEFAULT_ARGS, LAKE_BUCKET, ORDERS_URI

curated_orders = Asset(ORDERS_URI)


@dag(
    dag_id="orders_taskflow_pipeline",
    start_date=pendulum.datetime(2026, 11, 21, tz="UTC"),
    schedule=CronDataIntervalTimetable("@hourly", timezone="UTC"),
    catchup=False,
    default_args=DEFAULT_ARGS,
    max_active_runs=2,
    tags=["orders", "taskflow"],
)
def orders_taskflow_pipeline():
    @task
    def list_raw_exports():
        """Raw export keys for the hour that just ended."""
        context = get_current_context()
        prefix = "raw/orders/{}/{}".format(
            context["ds_nodash"], context["logical_date"].strftime("%H")
        )
        keys = S3Hook(aws_conn_id="aws_lake").list_keys(bucket_name=LAKE_BUCKET, prefix=prefix)
        return keys or []

    @task(multiple_outputs=True)
    def curate(keys):
        context = get_current_context()
        hook = S3Hook(aws_conn_id="aws_lake")
        orders = []
        for key in keys:
            orders.extend(json.loads(hook.read_key(key, bucket_name=LAKE_BUCKET)))
        valid = [o for o in orders if o.get("order_id") and o.get("amount", 0) >= 0]
        # Keyed by the next run's date so late files land in a partition nobody has read yet.
        target = "curated/orders/{}/part-{}.json".format(context["data_interval_end"].strftime("%Y-%m-%d"), context["ts_nodash"])
        hook.load_string(json.dumps(valid), target, bucket_name=LAKE_BUCKET, replace=True)
        return {"target": target, "count": len(valid), "rejected": len(orders) - len(valid)}

    @task(outlets=[curated_orders])
    def publish(target, count):
        """Marks the Dataset updated; consumers read `target` from the event extra."""
        context = get_current_context()
        print("published %s rows to %s for %s" % (count, target, context["logical_date"]))

    @task
    def report_rejects(rejected, **kwargs):
        if rejected:
            print("%d orders rejected in run %s (prev %s)" % (
                rejected, kwargs["run_id"], (kwargs["logical_date"] - kwargs["macros"].timedelta(seconds=3600)).strftime("%Y%m%d")))

    curated = curate(list_raw_exports())
    publish(curated["target"], curated["count"])
    report_rejects(curated["rejected"])


orders_taskflow_pipeline()
