"""Scripts that run inside Airflow runtimes (standard library only, Python 3.6+)."""
