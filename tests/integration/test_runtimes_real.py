"""Real Airflow 1.10.15 / 2.11.2 / 3.3.2 runtimes: build (or reuse) them and load real DAG folders."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from airshift.errors import AirshiftError
from airshift.verify.dagbag import HOME_TEMPLATE, load_dagbag
from airshift.verify.runtimes import METADATA_FILE, Runtime, ensure_runtime, list_runtimes

pytestmark = pytest.mark.integration

BROKEN_DAG = """\
# an airflow DAG file that cannot import
from airflow import DAG
import airshift_module_that_does_not_exist
"""

AF1_DAGS = {
    "classic.py": """\
        from datetime import datetime
        from airflow import DAG
        from airflow.operators.bash_operator import BashOperator
        from airflow.operators.python_operator import PythonOperator

        with DAG("af1_classic", start_date=datetime(2021, 1, 1), schedule_interval="@daily") as dag:
            extract = BashOperator(task_id="extract", bash_command="echo {{ ds }}")
            load = PythonOperator(task_id="load", python_callable=lambda **kw: 1, provide_context=True)
            extract >> load
        """,
    # SubDagOperator checks its pool in the metadata DB while the file is parsed.
    "subdag.py": """\
        from datetime import datetime
        from airflow import DAG
        from airflow.operators.dummy_operator import DummyOperator
        from airflow.operators.subdag_operator import SubDagOperator

        ARGS = {"start_date": datetime(2021, 1, 1)}

        def section(parent, child):
            with DAG("%s.%s" % (parent, child), default_args=ARGS, schedule_interval="@daily") as sub:
                DummyOperator(task_id="inner")
            return sub

        with DAG("af1_subdag", default_args=ARGS, schedule_interval="@daily") as dag:
            SubDagOperator(task_id="section", subdag=section("af1_subdag", "section"))
        """,
}

AF2_DAGS = {
    "taskflow.py": """\
        from datetime import datetime
        from airflow import DAG
        from airflow.datasets import Dataset
        from airflow.decorators import task
        from airflow.operators.bash import BashOperator

        with DAG("af2_taskflow", start_date=datetime(2021, 1, 1), schedule="@daily") as dag:
            @task(outlets=[Dataset("s3://bucket/out")])
            def transform():
                return 1

            BashOperator(task_id="extract", bash_command="echo hi") >> transform()
        """,
    "subdag.py": """\
        from datetime import datetime
        from airflow import DAG
        from airflow.operators.empty import EmptyOperator
        from airflow.operators.subdag import SubDagOperator

        ARGS = {"start_date": datetime(2021, 1, 1)}

        def section(parent, child):
            with DAG(f"{parent}.{child}", default_args=ARGS, schedule="@daily") as sub:
                EmptyOperator(task_id="inner")
            return sub

        with DAG("af2_subdag", default_args=ARGS, schedule="@daily") as dag:
            SubDagOperator(task_id="section", subdag=section("af2_subdag", "section"))
        """,
}

AF3_DAGS = {
    "sdk.py": """\
        from datetime import datetime
        from airflow.providers.standard.operators.bash import BashOperator
        from airflow.sdk import DAG, Asset, task

        with DAG("af3_sdk", start_date=datetime(2021, 1, 1), schedule="@daily") as dag:
            @task(outlets=[Asset("s3://bucket/out")])
            def transform():
                return 1

            BashOperator(task_id="extract", bash_command="echo hi") >> transform()
        """,
    "consumer.py": """\
        from datetime import datetime
        from airflow.providers.standard.operators.empty import EmptyOperator
        from airflow.sdk import DAG, Asset

        with DAG("af3_consumer", start_date=datetime(2021, 1, 1), schedule=[Asset("s3://bucket/out")]):
            EmptyOperator(task_id="noop")
        """,
}

CASES = {
    "runtime_110": ("1.10.15", "3.8", AF1_DAGS, {
        "af1_classic": ("extract", "load"),
        "af1_subdag": ("section",),
        "af1_subdag.section": ("inner",),
    }),
    "runtime_211": ("2.11.2", "3.12", AF2_DAGS, {
        "af2_taskflow": ("extract", "transform"),
        "af2_subdag": ("section",),
        "af2_subdag.section": ("inner",),
    }),
    "runtime_33": ("3.3.2", "3.12", AF3_DAGS, {
        "af3_sdk": ("extract", "transform"),
        "af3_consumer": ("noop",),
    }),
}  # fmt: skip


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text))
    return folder


@pytest.mark.parametrize("fixture", list(CASES))
def test_runtime_is_real_and_cached(fixture: str, request: pytest.FixtureRequest) -> None:
    version, minor, _, _ = CASES[fixture]
    runtime: Runtime = request.getfixturevalue(fixture)
    assert runtime.airflow_version == version
    assert runtime.python_minor == minor
    metadata = json.loads((runtime.path / METADATA_FILE).read_text())
    assert metadata["airflow_version"] == version
    assert metadata["strategy"] == "pins"
    assert (runtime.bin_dir / "airflow").exists()
    assert runtime.key in {listed.key for listed in list_runtimes(runtime.path.parent)}
    # Reuse is a metadata read, not a rebuild.
    assert (
        ensure_runtime(version, python=str(runtime.python_minor), cache_dir=runtime.path.parent).path
        == runtime.path
    )


@pytest.mark.parametrize("fixture", list(CASES))
def test_load_version_native_dags(fixture: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    version, _, files, expected = CASES[fixture]
    runtime: Runtime = request.getfixturevalue(fixture)
    folder = _write(tmp_path / "dags", files)
    result = load_dagbag(runtime, folder)
    assert result.airflow_version == version
    assert result.import_errors == {}
    assert {dag_id: info.task_ids for dag_id, info in result.dags.items()} == expected
    for info in result.dags.values():
        assert Path(info.fileloc).parent == folder.resolve()
    if version.startswith(("1.", "2.")):
        assert (runtime.path / HOME_TEMPLATE / "airflow.db").exists()


@pytest.mark.parametrize("fixture", list(CASES))
def test_import_error_is_reported_with_its_file(
    fixture: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    _, _, files, expected = CASES[fixture]
    runtime: Runtime = request.getfixturevalue(fixture)
    first = next(iter(files))
    folder = _write(tmp_path / "dags", {first: files[first], "broken.py": BROKEN_DAG})
    result = load_dagbag(runtime, folder)
    broken = str((folder / "broken.py").resolve())
    assert list(result.import_errors) == [broken]
    error = result.import_errors[broken]
    assert "airshift_module_that_does_not_exist" in error.message
    if runtime.airflow_major >= 2:
        assert error.message.startswith(("ImportError", "ModuleNotFoundError"))
        assert "Traceback" in error.traceback
    else:  # Airflow 1.10 keeps only str(exception) for import errors
        assert error.message == "No module named 'airshift_module_that_does_not_exist'"
    assert set(result.dags) <= set(expected) and result.dags  # the good file still loads


def test_extras_keep_airflow_pinned(runtime_33: Runtime, tmp_path: Path) -> None:
    runtime = ensure_runtime("3.3.2", extra_requirements=["apache-airflow-providers-sqlite"])
    assert runtime.path != runtime_33.path
    assert runtime.metadata["strategy"] == "pins+extras"
    frozen = (runtime.path / "airshift-freeze.txt").read_text().splitlines()
    assert "apache-airflow==3.3.2" in frozen and "apache-airflow-core==3.3.2" in frozen
    assert any(line.startswith("apache-airflow-providers-sqlite==") for line in frozen)
    folder = _write(
        tmp_path / "dags",
        {
            "sqlite_dag.py": """\
                from datetime import datetime
                from airflow.providers.sqlite.hooks.sqlite import SqliteHook
                from airflow.providers.standard.operators.python import PythonOperator
                from airflow.sdk import DAG

                with DAG("uses_sqlite", start_date=datetime(2021, 1, 1), schedule=None):
                    PythonOperator(task_id="q", python_callable=lambda: SqliteHook().get_conn())
                """
        },
    )
    result = load_dagbag(runtime, folder)
    assert result.import_errors == {}
    assert list(result.dags) == ["uses_sqlite"]


def test_uninstallable_version_is_a_clear_error(runtime_33: Runtime, tmp_path: Path) -> None:
    with pytest.raises(AirshiftError) as caught:
        ensure_runtime("3.99.0", python=str(runtime_33.metadata["base_interpreter"]), cache_dir=tmp_path)
    message = str(caught.value)
    assert "Airflow 3.99.0" in message
    assert "apache-airflow==3.99.0" in message
    assert "Traceback" not in message
    assert list_runtimes(tmp_path) == []


def test_offline_with_cold_cache_is_a_clear_error(
    runtime_33: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "empty-uv-cache"))
    monkeypatch.setenv("AIRSHIFT_OFFLINE", "1")
    with pytest.raises(AirshiftError, match="offline") as caught:
        ensure_runtime(
            "3.3.2", python=str(runtime_33.metadata["base_interpreter"]), cache_dir=tmp_path / "rt"
        )
    assert "cache" in str(caught.value)
    assert list_runtimes(tmp_path / "rt") == []
