"""Settings for the code that runs inside Airflow (listener, PushArtifactOperator, plugin).

Read from Airflow's config section `[airshift_events]` (so `AIRFLOW__AIRSHIFT_EVENTS__URL` etc. work),
falling back to plain environment variables when Airflow's config is not importable.

    url         base URL of the EventStream API (`airshift events serve`, or the api-server mount)
    token_file  file holding the API token (else $AIRSHIFT_EVENTS_TOKEN)
    mode        supplement (default: the database triggers are installed; the listener adds error
                text and hostname) | listener-only (no database access, e.g. MWAA / Composer: the
                listener's events are logged themselves; best effort, see docs)
    spool_dir   where undeliverable listener messages wait for the next attempt
    log         the event log the Airflow 3 plugin serves (a SQLite path or postgresql:// URL)
"""

from __future__ import annotations

import os
from pathlib import Path

SECTION = "airshift_events"
MODES = ("supplement", "listener-only")


def get(key: str, default: str | None = None) -> str | None:
    try:
        from airflow.configuration import conf  # type: ignore[import-not-found,unused-ignore]

        value = conf.get(SECTION, key, fallback=None)
    except ImportError:
        value = None
    if value in (None, ""):
        value = os.environ.get(f"AIRSHIFT_EVENTS_{key.upper()}", default)
    return None if value is None else str(value)


def token() -> str | None:
    token_file = get("token_file")
    if token_file:
        try:
            return Path(token_file).read_text(encoding="utf-8").strip() or None
        except OSError:
            return None
    return os.environ.get("AIRSHIFT_EVENTS_TOKEN") or None


def mode() -> str:
    value = (get("mode", "supplement") or "supplement").strip().lower()
    return value if value in MODES else "supplement"


def spool_dir() -> Path:
    configured = get("spool_dir")
    if configured:
        return Path(configured)
    home = os.environ.get("AIRFLOW_HOME") or str(Path.home() / "airflow")
    return Path(home) / "airshift-events-spool"
