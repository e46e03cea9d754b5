"""An Airflow 2.x (`/api/v1`) or 3.x (`/api/v2`) REST API as an inventory source: the version, DAGs
active and paused, and how many variables, connections and pools there are (`total_entries` only;
no value is requested). Credentials as for `transfer --from`: $AIRSHIFT_FROM_TOKEN, or
$AIRSHIFT_FROM_USER with $AIRSHIFT_FROM_PASSWORD."""

from __future__ import annotations

import os

from airshift.errors import AirshiftError
from airshift.platform.inventory_model import ApiInfo


def read_api(url: str) -> ApiInfo:
    from airshift.state.credentials import resolve_auth
    from airshift.state.sources.api import open_source

    auth = resolve_auth("from", os.environ.get("AIRSHIFT_FROM_USER"), None, None, required=False)
    source = open_source(url, auth)
    try:
        info = ApiInfo(url=source.base_url, airflow_version=source.version or None)
        for dag in source.list_all("dags"):
            info.dags_total += 1
            info.dags_paused += bool(dag.get("is_paused"))
        for collection, attribute in (
            ("variables", "variables"),
            ("connections", "connections"),
            ("pools", "pool_count"),
        ):
            try:
                data = source._get(f"/{collection}", f"counting {collection}", {"limit": 1})
            except AirshiftError:
                continue  # a user without that permission still gets the rest of the inventory
            if isinstance(data, dict) and "total_entries" in data:
                setattr(info, attribute, int(data["total_entries"]))
        return info
    finally:
        source.close()
