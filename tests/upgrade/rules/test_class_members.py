"""AS330-AS332: removed or renamed members of Airflow classes through instances airshift resolves, plugin
attributes Airflow 3 ignores, changed signatures."""

from __future__ import annotations

from tests.upgrade.conftest import assert_fix, codes, run

SELECT = ("AS33",)


def test_dataset_method_renamed_through_a_constructed_instance() -> None:
    assert_fix(
        """\
        from airflow.sdk import Asset

        asset = Asset("s3://bucket/key")
        names = list(asset.iter_datasets())
        """,
        """\
        from airflow.sdk import Asset

        asset = Asset("s3://bucket/key")
        names = list(asset.iter_assets())
        """,
        target="3.1",
        select=SELECT,
    )
    # gone from the task SDK in 3.2: reported with advice, not renamed to a name that does not exist
    gone = run("from airflow.sdk import Asset\nAsset('x').iter_datasets()\n", target="3.3", select=SELECT)
    assert codes(gone) == ["AS331"] and "3.2" in gone.findings[0].message and "iter_datasets()" in gone.text


def test_task_instance_alias_and_dag_run_through_it() -> None:
    assert_fix(
        """\
        from airflow.sdk import get_current_context


        def report():
            ti = get_current_context()["ti"]
            run = ti.dag_run
            return ti.execution_date, run.external_trigger
        """,
        """\
        from airflow.sdk import get_current_context


        def report():
            ti = get_current_context()["ti"]
            run = ti.dag_run
            return ti.logical_date, (run.run_type == "manual")
        """,
        select=SELECT,
    )


def test_annotated_parameter_and_secrets_backend() -> None:
    assert_fix(
        """\
        from airflow.models.taskinstance import TaskInstance
        from airflow.secrets.local_filesystem import LocalFilesystemBackend


        def when(task: TaskInstance):
            return task.execution_date


        uri = LocalFilesystemBackend().get_conn_uri("db")
        """,
        """\
        from airflow.models.taskinstance import TaskInstance
        from airflow.secrets.local_filesystem import LocalFilesystemBackend


        def when(task: TaskInstance):
            return task.logical_date


        uri = LocalFilesystemBackend().get_conn_value("db")
        """,
        select=SELECT,
    )


def test_create_dagrun_and_get_connections_are_reported() -> None:
    source = (
        "from airflow import DAG\n"
        "from airflow.secrets.environment_variables import EnvironmentVariablesBackend\n"
        "with DAG('d', schedule=None) as dag:\n    pass\n"
        "dag.create_dagrun(run_id='x')\n"
        "backend = EnvironmentVariablesBackend()\nbackend.get_connections('db')\n"
    )
    result = run(source, select=SELECT)
    assert codes(result) == ["AS331", "AS331"] and result.text == source


def test_plugin_attributes_are_reported() -> None:
    source = (
        "from airflow.plugins_manager import AirflowPlugin\n"
        "class P(AirflowPlugin):\n    name = 'p'\n    operators = []\n    hooks = []\n    macros = []\n"
    )
    assert codes(run(source, select=SELECT)) == ["AS330", "AS330"]


def test_operator_link_signature() -> None:
    assert_fix(
        """\
        from airflow.models.baseoperatorlink import BaseOperatorLink


        class Docs(BaseOperatorLink):
            name = "docs"

            def get_link(self, operator, dttm):
                return "https://docs"
        """,
        """\
        from airflow.models.baseoperatorlink import BaseOperatorLink


        class Docs(BaseOperatorLink):
            name = "docs"

            def get_link(self, operator, *, ti_key):
                return "https://docs"
        """,
        select=SELECT,
    )
    used = (
        "from airflow.models.baseoperatorlink import BaseOperatorLink\n"
        "class L(BaseOperatorLink):\n    def get_link(self, operator, dttm):\n        return str(dttm)\n"
    )
    result = run(used, select=SELECT)
    assert codes(result) == ["AS332"] and result.text == used


def test_dataset_extra_positional_becomes_keyword() -> None:
    result = run("from airflow.datasets import Dataset\nd = Dataset('s3://x', {'a': 1})\n", select=SELECT)
    assert "Dataset('s3://x', extra={'a': 1})" in result.text


def test_no_op_cases() -> None:
    for source in (
        # unknown objects: airshift cannot know what they are
        "import airflow\n\ndef f(thing):\n    return thing.execution_date\n",
        "import airflow\nclass X:\n    def f(self):\n        return self.ti.execution_date\n",
        # not Airflow classes
        "from mylib import Asset\nAsset('x').iter_datasets()\n",
        # a name bound to two different things
        "from airflow.sdk import Asset\na = Asset('x')\na = make()\na.iter_datasets()\n",
        # no Airflow import at all
        "def f(ti):\n    return ti.execution_date\n",
        # 3.x code is right as it is
        "from airflow.sdk import Asset\nAsset('name', 's3://x')\n",
        # context["ti"].execution_date is the context-access rule's (AS701)
        "from airflow.sdk import get_current_context\nget_current_context()['ti'].execution_date\n",
    ):
        result = run(source, select=SELECT)
        assert result.text == source and not codes(result), source


def test_compat_import_is_left_alone_but_still_resolves_instances() -> None:
    source = (
        "try:\n    from airflow.sdk import Asset\nexcept ImportError:\n    from airflow.datasets import Dataset as Asset\n"
        "Asset('x').iter_datasets()\n"
    )
    assert codes(run(source, select=SELECT)) == ["AS331"]


def test_version_gate_2_11() -> None:
    source = "from airflow.datasets import Dataset\nDataset('x').iter_datasets()\n"
    assert not codes(run(source, target="2.11", select=SELECT))
    assert codes(run(source, target="3.0", select=SELECT)) == ["AS331"]
