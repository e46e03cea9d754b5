"""The airshift Airflow plugin: registers the listener and, on Airflow 3, mounts the EventStream API in
the api-server.

Install airshift in the Airflow image (scheduler, workers, api-server) and put
`from airshift.events.plugin import AirshiftEventsPlugin` in a
file of the plugins folder.

- The listener is registered when `[airshift_events] url` is set.
- On Airflow 3 the API is mounted at `/airshift-events` when `[airshift_events] log` names the event
  log. Plugin apps are not authenticated by Airflow on their own, so every route depends on Airflow's
  `get_user` (a JWT from `Authorization: Bearer` or the UI cookie): the same users as the UI and REST API.
  What each user may see is Airflow's auth manager's decision, DAG by DAG: events and run status of the
  DAGs they may read (GET on the DAG), artifacts published only to DAGs whose task instances they may
  edit (PUT on the DAG's task instances), as FAB's per-DAG `access_control` or any auth manager decides.
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin  # type: ignore[import-not-found,unused-ignore]

from airshift.events import listener, settings

URL_PREFIX = "/airshift-events"


def _fastapi_apps() -> list[dict[str, Any]]:
    log_spec = settings.get("log")
    if not log_spec:
        return []
    try:
        from airflow.api_fastapi.core_api.security import (  # type: ignore[import-not-found,unused-ignore]
            get_user,
        )
    except ImportError:  # Airflow 2: no FastAPI api-server
        return []
    from airshift.events.api import create_app
    from airshift.events.stores.open import open_log

    app = create_app(open_log(log_spec), auth=get_user, access=AirflowDagAccess())
    return [{"app": app, "url_prefix": URL_PREFIX, "name": "airshift EventStream"}]


class AirflowDagAccess:
    """Per-DAG permissions from the api-server's auth manager (imported lazily: Airflow 3 only)."""

    def readable_dags(self, user: Any) -> frozenset[str] | None:
        from airflow.api_fastapi.app import get_auth_manager  # type: ignore[import-not-found,unused-ignore]

        return frozenset(get_auth_manager().get_authorized_dag_ids(user=user, method="GET"))

    def may(self, user: Any, action: str, dag_id: str) -> bool:
        from airflow.api_fastapi.app import get_auth_manager  # type: ignore[import-not-found,unused-ignore]
        from airflow.api_fastapi.auth.managers.models.resource_details import (  # type: ignore[import-not-found,unused-ignore]
            DagAccessEntity,
            DagDetails,
        )

        details = DagDetails(id=dag_id)
        if action == "read":
            return bool(get_auth_manager().is_authorized_dag(method="GET", user=user, details=details))
        return bool(
            get_auth_manager().is_authorized_dag(
                method="PUT", user=user, access_entity=DagAccessEntity.TASK_INSTANCE, details=details
            )
        )


class AirshiftEventsPlugin(AirflowPlugin):  # type: ignore[misc]
    name = "airshift_events"
    listeners = [listener] if settings.get("url") else []
    fastapi_apps = _fastapi_apps()
