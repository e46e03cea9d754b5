#!/usr/bin/env bash
# Runs on the CRM host through SSHOperator (template_ext .sh), so the Jinja below is rendered first.
set -euo pipefail

EXPORT_DIR=/srv/crm/exports/{{ ds_nodash }}
mkdir -p "${EXPORT_DIR}"

# Contacts changed during the run's interval: [ds, next_ds)
crm-cli export contacts \
  --changed-since "{{ ds }}" \
  --changed-before "{{ next_ds }}" \
  --output "${EXPORT_DIR}/contacts.csv"

# Drop the export of two runs ago, it has been loaded by now
rm -rf /srv/crm/exports/{{ prev_ds_nodash }}.old || true
echo "exported for {{ execution_date }}"
