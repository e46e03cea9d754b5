"""Translate dag_run / task_instance rows of Airflow 1.10, 2.x or 3.x into Airflow 3 rows, and rows of
Airflow 1.10 or 2.x into Airflow 2.x (2.2 and later) rows.

What changes between versions: `execution_date` became `logical_date`; 1.10 had no `run_type` (the run
id prefix said it); `external_trigger` became `triggered_by`; data intervals exist from 2.2 (older runs get
the one of their schedule before translation, see history_intervals); task instances were keyed by execution date
before 2.2 and get a UUIDv7 `id` in 3.x; `conf` was a pickle and is JSON in 3.x.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import pickle
from collections.abc import Mapping
from typing import Any

from airshift.errors import AirshiftError
from airshift.state.uuid7 import uuid7

EMPTY_EXECUTOR_CONFIG = pickle.dumps({})
# Airflow 2 stores conf with SQLAlchemy's PickleType; protocol 4 loads on every Python Airflow 2 runs on.
CONF_PICKLE_PROTOCOL = 4

# Airflow 3 stores `triggered_by` as the enum member name (SQLAlchemy Enum, native_enum=False).
_TRIGGERED_BY = {"scheduled": "TIMETABLE", "backfill": "BACKFILL", "asset_triggered": "ASSET"}
_RUN_TYPES = {"dataset_triggered": "asset_triggered"}
_TI_STATES = {"shutdown": "failed"}  # gone in Airflow 3; a shut-down try ended without success
_RUN_ID_PREFIXES = (("scheduled__", "scheduled"), ("backfill_", "backfill"), ("manual__", "manual"))
_SAFE_PICKLE_CLASSES = {
    ("builtins", name)
    for name in ("dict", "list", "tuple", "set", "frozenset", "str", "int", "float", "bool")
} | {("datetime", "datetime"), ("datetime", "date"), ("datetime", "timedelta"), ("datetime", "timezone")}


class _DataOnlyUnpickler(pickle.Unpickler):
    """Unpickle run conf made of plain data only: a pickle can run code, and conf came from users."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _SAFE_PICKLE_CLASSES:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name}")


def utc(value: Any) -> dt.datetime | None:
    """Airflow stores UTC; SQLite and MySQL hand it back naive (or as text on old SQLite files)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, dt.datetime):
        raise AirshiftError(f"unexpected date value of type {type(value).__name__}")
    return (
        value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)
    )


def _conf_value(raw: Any, where: str) -> Any:
    """Run conf as plain data, from a pickle (1.10/2.x, loaded data-only) or JSON (3.x)."""
    if isinstance(raw, memoryview):
        raw = raw.tobytes()
    if isinstance(raw, bytes):
        try:
            return _DataOnlyUnpickler(io.BytesIO(raw)).load()
        except pickle.UnpicklingError as error:
            raise AirshiftError(
                f"{where}: conf holds a pickled {error} object; airshift only carries plain data"
            ) from None
        except Exception:
            raise AirshiftError(f"{where}: conf is not a readable pickle") from None
    if isinstance(raw, str):
        return json.loads(raw)
    return raw


def conf_json(raw: Any, where: str) -> Any:
    """Run conf as Airflow 3 stores it (JSON)."""
    if raw is None:
        return None
    value = _conf_value(raw, where)
    # Round-trip through JSON: fails here (naming the run) rather than in the target's driver.
    try:
        return json.loads(json.dumps(value, default=_json_default))
    except (TypeError, ValueError):
        raise AirshiftError(f"{where}: conf cannot be written as JSON") from None


def conf_pickle(raw: Any, where: str) -> bytes | None:
    """Run conf as Airflow 2 stores it (SQLAlchemy PickleType), re-pickled from plain data: a source
    pickle is never copied as is, since loading it on the target could run code."""
    if raw is None:
        return None
    return pickle.dumps(_conf_value(raw, where), protocol=CONF_PICKLE_PROTOCOL)


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    raise TypeError(type(value).__name__)


def run_type_of(row: Mapping[str, Any]) -> str:
    run_type = row.get("run_type")
    if run_type:
        return _RUN_TYPES.get(str(run_type), str(run_type))
    run_id = str(row.get("run_id") or "")
    for prefix, kind in _RUN_ID_PREFIXES:
        if run_id.startswith(prefix):
            return kind
    return "manual"


def _data_interval(row: Mapping[str, Any]) -> tuple[dt.datetime | None, dt.datetime | None]:
    start, end = utc(row.get("data_interval_start")), utc(row.get("data_interval_end"))
    if start is None or end is None:
        return None, None  # Airflow requires both or neither
    return start, end


def _run_fields(row: Mapping[str, Any], log_template_id: int | None) -> dict[str, Any]:
    """The dag run columns every target release shares, as the source had them."""
    start, end = _data_interval(row)
    return {
        "dag_id": row["dag_id"],
        "run_id": row["run_id"],
        "queued_at": utc(row.get("queued_at")),
        "start_date": utc(row.get("start_date")),
        "end_date": utc(row.get("end_date")),
        "state": row.get("state"),
        "data_interval_start": start,
        "data_interval_end": end,
        "last_scheduling_decision": utc(row.get("last_scheduling_decision")),
        "log_template_id": log_template_id,
        "clear_number": int(row.get("clear_number") or 0),
        "updated_at": utc(row.get("updated_at")) or utc(row.get("end_date")),
    }


def translate_run(row: Mapping[str, Any], log_template_id: int | None, dag_version_id: Any) -> dict[str, Any]:
    where = f"dag run {row['dag_id']}/{row['run_id']}"
    logical_date = utc(row["logical_date"] if "logical_date" in row else row.get("execution_date"))
    run_type = run_type_of(row)
    triggered_by = row.get("triggered_by") or _TRIGGERED_BY.get(run_type)
    if triggered_by is None and run_type == "manual":
        # 1.10/2.x only recorded *that* a run was triggered from outside, not from where.
        triggered_by = "REST_API" if row.get("external_trigger") else "CLI"
    fields = _run_fields(row, log_template_id)
    return {
        **fields,
        "logical_date": logical_date,
        "run_type": run_type,
        "triggered_by": triggered_by,
        "conf": conf_json(row.get("conf"), where),
        # Airflow 3: the earliest time the run could start, i.e. the end of its interval.
        "run_after": utc(row.get("run_after"))
        or fields["data_interval_end"]
        or logical_date
        or fields["start_date"],
        "created_dag_version_id": dag_version_id,
    }


def _ti_fields(row: Mapping[str, Any], run_id: str) -> dict[str, Any]:
    """The task instance columns every target release shares, keyed by its run's `run_id`."""
    return {
        "dag_id": row["dag_id"],
        "task_id": row["task_id"],
        "run_id": run_id,
        "map_index": int(row["map_index"]) if row.get("map_index") is not None else -1,
        "start_date": utc(row.get("start_date")),
        "end_date": utc(row.get("end_date")),
        "duration": row.get("duration"),
        "state": row.get("state"),
        "try_number": int(row.get("try_number") or 0),
        "max_tries": int(row["max_tries"]) if row.get("max_tries") is not None else -1,
        "hostname": row.get("hostname"),
        "unixname": row.get("unixname"),
        "pool": row.get("pool") or "default_pool",
        "pool_slots": int(row.get("pool_slots") or 1),
        "queue": row.get("queue"),
        "priority_weight": row.get("priority_weight"),
        "operator": row.get("operator"),
        "custom_operator_name": row.get("custom_operator_name"),
        "queued_dttm": utc(row.get("queued_dttm")),
        "pid": row.get("pid"),
        "executor_config": EMPTY_EXECUTOR_CONFIG,  # pickled executor objects do not survive versions
        "external_executor_id": row.get("external_executor_id"),
        "updated_at": utc(row.get("updated_at")) or utc(row.get("end_date")),
        "task_display_name": row.get("task_display_name"),
    }


def translate_ti(row: Mapping[str, Any], run_id: str, dag_version_id: Any) -> dict[str, Any]:
    fields = _ti_fields(row, run_id)
    start, state = fields["start_date"], fields["state"]
    return {
        **fields,
        "state": _TI_STATES.get(str(state), state) if state is not None else None,
        "id": uuid7(int(start.timestamp() * 1000) if start else None),
        "dag_version_id": dag_version_id,
    }


def run_type_2x(row: Mapping[str, Any]) -> str:
    """The run type as Airflow 2 names it (1.10: from the run id prefix)."""
    run_type = run_type_of(row)
    return "dataset_triggered" if run_type == "asset_triggered" else run_type


def translate_run_airflow2(
    row: Mapping[str, Any], log_template_id: int | None, dag_hash: str | None
) -> dict[str, Any]:
    """A 1.10 or 2.x dag run as an Airflow 2.2+ row. Data intervals are kept (pre-2.2 runs arrive with the
    one of their schedule, see history_intervals); `dag_hash` and `log_template_id` are the
    target's (its serialized DAG and newest log template), `creating_job_id` is dropped (no such job
    there)."""
    where = f"dag run {row['dag_id']}/{row['run_id']}"
    return {
        **_run_fields(row, log_template_id),
        "execution_date": utc(row.get("execution_date")),
        "run_type": run_type_2x(row),
        "external_trigger": bool(row.get("external_trigger")),
        "conf": conf_pickle(row.get("conf"), where),
        "dag_hash": dag_hash,
    }


def translate_ti_airflow2(row: Mapping[str, Any], run_id: str) -> dict[str, Any]:
    """A 1.10 or 2.x task instance as an Airflow 2.2+ row, keyed by its run's `run_id`. Ids of the
    source's jobs and triggers are dropped (they mean nothing on the target); the executor config is
    emptied (pickled executor objects do not survive versions)."""
    return {
        **_ti_fields(row, run_id),
        "executor": row.get("executor"),
        "rendered_map_index": row.get("rendered_map_index"),
    }
