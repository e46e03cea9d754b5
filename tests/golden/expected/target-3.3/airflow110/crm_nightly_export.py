"""
Nightly CRM contact export.

The CRM vendor box has no API we may call, so we SSH in, run their export CLI (scripts/export_crm.sh),
wait for the file to appear on the shared NFS mount, copy it to the landing area and tell #crm-ops.
"""
import pendulum
from airflow.providers.slack.operators.slack_webhook import SlackWebhookOperator
from airflow.providers.ssh.operators.ssh import SSHOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.sensors.filesystem import FileSensor
from airflow.sdk import CronDataIntervalTimetable, DAG

# dict(...) rather than a literal: this file predates the team style guide.
default_args = dict(
    owner="crm-ops",
    start_date=pendulum.datetime(2026, 11, 20, tz="UTC"),
    retries=3,
    email=["crm-ops@example.com"],
    email_on_failure=True,
)

with DAG(
    "crm_nightly_export",
    default_args=default_args,
    schedule=CronDataIntervalTimetable("@daily", timezone="UTC"),
    catchup=False,
    description="Export CRM contacts over SSH and land them for the warehouse",
) as dag:

    # The .sh file is a Jinja template rendered before it is sent over SSH.
    run_export = SSHOperator(
        task_id="run_crm_export",
        ssh_conn_id="crm_vendor_ssh",
        command="scripts/export_crm.sh",
        conn_timeout=1800, cmd_timeout=1800,
    )

    wait_for_file = FileSensor(
        task_id="wait_for_contacts_file",
        fs_conn_id="crm_nfs",
        filepath="exports/{{ ds_nodash }}/contacts.csv",
        poke_interval=120,
        timeout=60 * 60,
        mode="reschedule",
    )

    # xcom_push=True keeps the last line of stdout (the row count) for the Slack message.
    copy_to_landing = BashOperator(
        task_id="copy_to_landing",
        bash_command=(
            "cp /mnt/crm/exports/{{ ds_nodash }}/contacts.csv "
            "/data/landing/crm/contacts_{{ ds_nodash }}.csv && "
            "wc -l < /data/landing/crm/contacts_{{ ds_nodash }}.csv"
        ),
        do_xcom_push=True,
    )

    notify = SlackWebhookOperator(
        task_id="notify_crm_ops",
        slack_webhook_conn_id="slack_crm_ops",
        channel="#crm-ops",
        username="airflow",
        message=(
            "CRM export for {{ ds }} landed: "
            "{{ task_instance.xcom_pull(task_ids='copy_to_landing') }} rows "
            "(run started {{ logical_date | ts }})"
        ),
        # tell the channel even when the copy failed, so nobody waits for a file
        trigger_rule="all_done",
    )

    run_export >> wait_for_file >> copy_to_landing >> notify


if __name__ == "__main__":
    dag.test()
