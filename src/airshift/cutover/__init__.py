"""`airshift cutover`: switch DAGs from an old Airflow to a new one in waves, and back."""
