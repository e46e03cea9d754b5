#!/bin/sh
# rendered by Jinja before it runs
echo "report for {{ ds }} (executed as {{ execution_date }})"
echo "covers {{ ds }} to {{ next_ds }}; previous run {{ prev_ds }}"
