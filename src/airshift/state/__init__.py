"""Environment state transfer: read variables, connections, pools, paused state and run history from a
source Airflow (metadata DB, export files, REST), plan, and write them into a target Airflow."""
