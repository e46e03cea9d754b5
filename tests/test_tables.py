"""Invariants and known facts of the generated move table (src/airshift/upgrade/tables/moves.json).

The table is produced by scripts/generate_tables.py from real wheels; these tests read only the
committed JSON, so they need no network.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

TABLE = Path(__file__).resolve().parent.parent / "src" / "airshift" / "upgrade" / "tables" / "moves.json"
VERSIONS = {"1.10", "2.0", "2.11", "3.0", "3.1", "3.2", "3.3"}


@cache
def table() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(TABLE.read_text())
    return data


def hop(name: str) -> tuple[bool, str | None]:
    """One step as the engine takes it: a symbol move, else the longest moved module prefix."""
    data = table()
    if name in data["moves"]:
        return True, data["moves"][name]["new"]
    module = name.rpartition(".")[0]
    while module:
        if module in data["modules"]:
            new = data["modules"][module]["new"]
            return True, (new + name[len(module) :]) if new else None
        module = module.rpartition(".")[0]
    return False, name


def chain(name: str) -> list[str | None]:
    path: list[str | None] = [name]
    current: str | None = name
    while current is not None:
        moved, new = hop(current)
        if not moved:
            break
        assert new not in path, f"cycle: {[*path, new]}"
        path.append(new)
        current = new
        assert len(path) < 20, f"chain too long: {path}"
    return path


def final(name: str) -> str | None:
    return chain(name)[-1]


def test_schema_and_sources() -> None:
    data = table()
    assert data["schema"] == 1
    assert data["generated_by"] == "scripts/generate_tables.py"
    assert "2.11.2" in data["sources"]["apache-airflow"]
    assert "1.10.15" in data["sources"]["apache-airflow"]
    assert data["sources"]["apache-airflow-core"]
    assert "apache-airflow-providers-google" in data["sources"]["providers"]
    assert list(data["moves"]) == sorted(data["moves"])


@pytest.mark.parametrize("section", ["moves", "modules"])
def test_entry_shape(section: str) -> None:
    for old, entry in table()[section].items():
        assert {"new", "deprecated_from", "removed_in", "origin"} <= set(entry), old
        assert entry["deprecated_from"] in VERSIONS, old
        assert entry["removed_in"] is None or entry["removed_in"] in VERSIONS, old
        assert entry["origin"], old
        if entry["new"] is None:
            assert entry.get("note") or entry["removed_in"], old


def test_counts() -> None:
    moves = table()["moves"]
    assert len(moves) > 900
    assert sum(1 for old in moves if old.startswith("airflow.contrib.")) >= 500


def test_every_chain_terminates() -> None:
    for old in [*table()["moves"], *table()["modules"]]:
        chain(old)


def test_every_provider_end_has_a_distribution() -> None:
    data = table()
    for old in data["moves"]:
        end = final(old)
        if end and end.startswith("airflow.providers."):
            assert end in data["providers"], f"{old} -> {end}"
            info = data["providers"][end]
            assert info["distribution"].startswith("apache-airflow-providers-")
            assert info["min_version"][0].isdigit()


def test_bigquery_operator_resolves_to_current_google_name() -> None:
    end = final("airflow.contrib.operators.bigquery_operator.BigQueryOperator")
    assert end is not None and end.startswith("airflow.providers.google.")
    moves = table()["moves"]
    executed = "airflow.providers.google.cloud.operators.bigquery.BigQueryExecuteQueryOperator"
    if executed in moves:  # gone from the current google provider
        assert end != executed
    assert table()["providers"][end]["distribution"] == "apache-airflow-providers-google"


def test_bash_operator_chain() -> None:
    path = chain("airflow.operators.bash_operator.BashOperator")
    assert path[1] == "airflow.operators.bash.BashOperator"
    assert path[-1] == "airflow.providers.standard.operators.bash.BashOperator"
    assert table()["providers"][path[-1]]["distribution"] == "apache-airflow-providers-standard"


def test_plugin_style_110_name() -> None:
    entry = table()["moves"]["airflow.operators.BashOperator"]
    assert entry["new"] == "airflow.operators.bash_operator.BashOperator"
    assert entry["removed_in"] == "2.0"
    assert final("airflow.operators.BashOperator") == "airflow.providers.standard.operators.bash.BashOperator"


def test_110_module_rename() -> None:
    assert table()["modules"]["airflow.operators.bash_operator"]["new"] == "airflow.operators.bash"


@pytest.mark.parametrize("old", ["airflow.DAG", "airflow.models.dag.DAG", "airflow.models.DAG"])
def test_dag_moves_to_sdk(old: str) -> None:
    entry = table()["moves"][old]
    assert entry["new"] == "airflow.sdk.DAG"
    assert entry["deprecated_from"] == "3.0"


def test_dataset_becomes_asset() -> None:
    entry = table()["moves"]["airflow.datasets.Dataset"]
    assert entry["new"] == "airflow.sdk.Asset"
    assert entry["deprecated_from"] == "3.0"
    # airflow/datasets/__init__.py is in core 3.0 and 3.1 wheels and gone from 3.2 on
    assert entry["removed_in"] == "3.2"
    assert table()["moves"]["airflow.datasets.DatasetAlias"]["new"] == "airflow.sdk.AssetAlias"


def test_bash_sensor_module() -> None:
    assert final("airflow.sensors.bash.BashSensor") == "airflow.providers.standard.sensors.bash.BashSensor"
    assert final("airflow.contrib.sensors.bash_sensor.BashSensor") == (
        "airflow.providers.standard.sensors.bash.BashSensor"
    )


def test_param_is_public_sdk_name() -> None:
    assert final("airflow.models.param.Param") == "airflow.sdk.Param"


def test_subdag_removed() -> None:
    assert table()["moves"]["airflow.operators.subdag.SubDagOperator"]["new"] is None
    assert table()["moves"]["airflow.operators.subdag.SubDagOperator"]["removed_in"] == "3.0"
    assert final("airflow.operators.subdag_operator.SubDagOperator") is None


def test_removed_helpers() -> None:
    moves = table()["moves"]
    for name in ["days_ago", "date_range", "scale_time_units", "infer_time_unit", "round_time"]:
        entry = moves[f"airflow.utils.dates.{name}"]
        assert entry["new"] is None and entry["removed_in"] == "3.0", name
    assert moves["airflow.utils.decorators.apply_defaults"]["new"] is None
    assert final("airflow.utils.helpers.chain") == "airflow.sdk.chain"


def test_timezone_moves_to_sdk_in_31() -> None:
    entry = table()["modules"]["airflow.utils.timezone"]
    assert entry["new"] == "airflow.sdk.timezone"
    assert entry["deprecated_from"] == "3.1"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        # 1.10 contrib modules that 2.0 still shipped as shims, 2.11 no longer redirects
        (
            "airflow.contrib.operators.emr_add_steps_operator.EmrAddStepsOperator",
            "airflow.providers.amazon.aws.operators.emr.EmrAddStepsOperator",
        ),
        # a class the shim re-exported under another name
        (
            "airflow.contrib.operators.gcs_to_gdrive_operator.GcsToGDriveOperator",
            "airflow.providers.google.suite.transfers.gcs_to_gdrive.GCSToGoogleDriveOperator",
        ),
        # 1.10's own kubernetes shim, then 2.11's compat module, then the provider
        ("airflow.contrib.kubernetes.secret.Secret", "airflow.providers.cncf.kubernetes.secret.Secret"),
        ("airflow.kubernetes.secret.Secret", "airflow.providers.cncf.kubernetes.secret.Secret"),
        # core names 3.x dropped, with the replacement the release notes name
        ("airflow.utils.template.literal", "airflow.sdk.literal"),
        (
            "airflow.timetables.datasets.DatasetOrTimeSchedule",
            "airflow.timetables.assets.AssetOrTimeSchedule",
        ),
        # the fab and common-sql moves
        ("airflow.hooks.dbapi.DbApiHook", "airflow.providers.common.sql.hooks.sql.DbApiHook"),
        (
            "airflow.auth.managers.fab.fab_auth_manager.FabAuthManager",
            "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager",
        ),
    ],
)
def test_issue_11_moves(old: str, new: str) -> None:
    name: str | None = old
    for _ in range(12):
        moved, following = hop(name or "")
        if not moved:
            break
        name = following
    assert name == new


def test_removed_core_names_and_kubernetes_objects_are_recorded_without_a_replacement() -> None:
    moves = table()["moves"]
    for name in ("airflow.utils.file.TemporaryDirectory", "airflow.contrib.kubernetes.pod.Resources"):
        assert moves[name]["new"] is None and moves[name]["note"], name
    assert "V1ResourceRequirements" in moves["airflow.contrib.kubernetes.pod.Resources"]["note"]
    assert final("airflow.contrib.kubernetes.volume.Volume") is None  # 1.10 Volume: the k8s client's now
    assert not any(
        name.startswith("airflow.datasets.") and name.endswith((".Any", ".cast")) for name in moves
    )
