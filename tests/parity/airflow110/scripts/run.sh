#!/bin/sh
echo "run for {{ ds }} at {{ execution_date }}; next {{ next_ds }}; yesterday {{ yesterday_ds_nodash }}"
