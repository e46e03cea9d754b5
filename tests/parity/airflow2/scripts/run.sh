#!/bin/sh
echo "{{ ds }} {{ next_execution_date }} {{ yesterday_ds }}"
