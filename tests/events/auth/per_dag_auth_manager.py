"""An Airflow 3 auth manager with per-DAG rules, as FAB's `access_control` gives a real deployment:
Airflow's SimpleAuthManager, except that user `alice` may only touch `dag_a`."""

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager


class PerDagAuthManager(SimpleAuthManager):
    def is_authorized_dag(self, *, method, user, access_entity=None, details=None):
        if user.get_name() == "alice" and (details is None or details.id != "dag_a"):
            return False
        return super().is_authorized_dag(
            method=method, user=user, access_entity=access_entity, details=details
        )
