"""Where transfer writes state to: an Airflow 3 or 2.x REST API, run history into a metadata DB."""
