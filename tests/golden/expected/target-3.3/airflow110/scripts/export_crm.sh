#!/usr/bin/env bash
# Runs on the CRM host through SSHOperator (template_ext .sh), so the Jinja below is rendered first.
set -euo pipefail

EXPORT_DIR=/srv/crm/exports/{{ ds_nodash }}
mkdir -p "${EXPORT_DIR}"

# Contacts changed during the run's interval: [ds, next_ds)
crm-cli export contacts \
  --changed-since "{{ ds }}" \
  --changed-before "{{ data_interval_end | ds }}" \
  --output "${EXPORT_DIR}/contacts.csv"

# Drop the export of two runs ago, it has been loaded by now
rm -rf /srv/crm/exports/{{ macros.ds_format(macros.ds_add(ds, -1), '%Y-%m-%d', '%Y%m%d') }}.old || true
echo "exported for {{ logical_date | ts }}"
