"""Column translation of dag runs and task instances into Airflow 3 rows (pure functions)."""

from __future__ import annotations

import datetime as dt
import pickle
import uuid

import pytest

from airshift.errors import AirshiftError
from airshift.state.targets.history_translate import (
    conf_json,
    translate_run,
    translate_run_airflow2,
    translate_ti,
    translate_ti_airflow2,
)
from airshift.state.uuid7 import uuid7

UTC = dt.timezone.utc


def test_110_run_gets_type_trigger_and_run_after_from_its_id() -> None:
    row = {"dag_id": "d", "run_id": "scheduled__2024-01-01T00:00:00+00:00", "state": "success",
           "execution_date": "2024-01-01 00:00:00.000000", "external_trigger": False,
           "conf": pickle.dumps({"a": [1, 2]}), "start_date": dt.datetime(2024, 1, 2)}  # fmt: skip
    run = translate_run(row, log_template_id=3, dag_version_id=None)
    assert run["run_type"] == "scheduled" and run["triggered_by"] == "TIMETABLE"
    assert run["logical_date"] == dt.datetime(2024, 1, 1, tzinfo=UTC)
    assert run["data_interval_start"] is None and run["data_interval_end"] is None
    assert run["run_after"] == run["logical_date"] and run["conf"] == {"a": [1, 2]}
    manual = translate_run({**row, "run_id": "my_run", "external_trigger": True}, 3, None)
    assert (manual["run_type"], manual["triggered_by"]) == ("manual", "REST_API")


def test_2x_run_keeps_intervals_and_maps_dataset_runs() -> None:
    start, end = dt.datetime(2024, 1, 1, tzinfo=UTC), dt.datetime(2024, 1, 2, tzinfo=UTC)
    row = {"dag_id": "d", "run_id": "r", "run_type": "dataset_triggered", "execution_date": start,
           "data_interval_start": start, "data_interval_end": end, "state": "failed", "conf": None}  # fmt: skip
    run = translate_run(row, None, None)
    assert run["run_type"] == "asset_triggered" and run["triggered_by"] == "ASSET"
    assert (run["data_interval_start"], run["data_interval_end"], run["run_after"]) == (start, end, end)


def test_conf_unpickles_plain_data_only() -> None:
    with pytest.raises(AirshiftError, match=r"run x: conf holds a pickled uuid\.UUID"):
        conf_json(pickle.dumps(uuid.uuid4()), "run x")
    assert conf_json(pickle.dumps({"when": dt.datetime(2024, 1, 1)}), "r") == {"when": "2024-01-01T00:00:00"}
    assert conf_json('{"k": 1}', "r") == {"k": 1}


def test_task_instance_gets_uuid7_and_defaults() -> None:
    start = dt.datetime(2024, 1, 1, 0, 0, 5, tzinfo=UTC)
    ti = translate_ti({"dag_id": "d", "task_id": "t", "state": "shutdown", "try_number": 2, "start_date": start,
                       "max_tries": None, "pool": None}, "run", None)  # fmt: skip
    assert ti["id"].version == 7 and ti["state"] == "failed" and ti["map_index"] == -1
    assert (ti["pool"], ti["pool_slots"], ti["max_tries"], ti["try_number"]) == ("default_pool", 1, -1, 2)
    assert ti["id"].int >> 80 == int(start.timestamp() * 1000)


def test_uuid7_is_time_ordered() -> None:
    first, second = uuid7(1_000), uuid7(2_000)
    assert isinstance(first, uuid.UUID) and first < second and first.variant == uuid.RFC_4122


def test_airflow2_target_keeps_execution_date_and_pickles_plain_conf() -> None:
    row = {"dag_id": "d", "run_id": "scheduled__2024-01-01T00:00:00+00:00", "state": "success",
           "execution_date": "2024-01-01 00:00:00.000000", "external_trigger": None, "creating_job_id": 7,
           "conf": pickle.dumps({"a": [1, 2], "when": dt.datetime(2024, 1, 1)})}  # fmt: skip
    run = translate_run_airflow2(row, log_template_id=2, dag_hash="abc")
    assert run["execution_date"] == dt.datetime(2024, 1, 1, tzinfo=UTC) and "logical_date" not in run
    assert (run["run_type"], run["external_trigger"], run["dag_hash"], run["log_template_id"]) == (
        "scheduled", False, "abc", 2)  # fmt: skip
    assert pickle.loads(run["conf"]) == {"a": [1, 2], "when": dt.datetime(2024, 1, 1)}
    assert "creating_job_id" not in run and run["data_interval_start"] is None
    dataset = translate_run_airflow2(
        {**row, "run_id": "r", "run_type": "dataset_triggered", "conf": None}, 2, None
    )
    assert dataset["run_type"] == "dataset_triggered" and dataset["conf"] is None
    with pytest.raises(AirshiftError, match=r"conf holds a pickled uuid\.UUID"):
        translate_run_airflow2({**row, "conf": pickle.dumps(uuid.uuid4())}, None, None)


def test_airflow2_target_task_instance_is_keyed_by_run_id() -> None:
    ti = translate_ti_airflow2({"dag_id": "d", "task_id": "t", "state": "shutdown", "try_number": 2, "job_id": 9,
                                "execution_date": dt.datetime(2024, 1, 1), "pool": None, "trigger_id": 3}, "run")  # fmt: skip
    assert (ti["run_id"], ti["map_index"], ti["state"], ti["pool"], ti["try_number"]) == (
        "run", -1, "shutdown", "default_pool", 2)  # fmt: skip
    assert "id" not in ti and "execution_date" not in ti and "job_id" not in ti and "trigger_id" not in ti
    assert pickle.loads(ti["executor_config"]) == {}


def test_airflow3_trigger_runs_are_redated_for_airflow2() -> None:
    """Carried back by a cutover rollback: a 3.x cron run dated at its tick becomes the 2.x run of the
    interval ending at that tick, named as 2.x names it; manual and data-interval runs keep their dates."""
    import datetime as dt

    from airshift.state.targets.history import airflow3_run_as_airflow2

    utc = dt.timezone.utc
    tick = dt.datetime(2026, 12, 3, 21, 0, tzinfo=utc)
    row = {"dag_id": "d", "run_id": f"scheduled__{tick.isoformat()}", "run_type": "scheduled",
           "logical_date": tick, "data_interval_start": tick, "data_interval_end": tick, "run_after": tick}  # fmt: skip
    every_five = airflow3_run_as_airflow2(row, "*/5 * * * *")
    start = tick - dt.timedelta(minutes=5)
    assert (
        every_five["execution_date"],
        every_five["data_interval_start"],
        every_five["data_interval_end"],
    ) == (
        start,
        start,
        tick,
    )
    assert (
        every_five["run_id"] == f"scheduled__{start.isoformat()}" and every_five["external_trigger"] is False
    )
    assert airflow3_run_as_airflow2(row, dt.timedelta(hours=1))["execution_date"] == tick - dt.timedelta(
        hours=1
    )
    manual = airflow3_run_as_airflow2({**row, "run_type": "manual", "run_id": "manual__x"}, "*/5 * * * *")
    assert manual["execution_date"] == tick and manual["run_id"] == "manual__x" and manual["external_trigger"]
    interval = {
        **row,
        "data_interval_start": tick - dt.timedelta(days=1),
        "logical_date": tick - dt.timedelta(days=1),
    }
    kept = airflow3_run_as_airflow2(interval, "0 0 * * *")
    assert kept["execution_date"] == tick - dt.timedelta(days=1) and kept["run_id"] == row["run_id"]
