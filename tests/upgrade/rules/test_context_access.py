"""AS701: removed context keys read from Python, in every place a task receives its context."""

from __future__ import annotations

from tests.upgrade.conftest import assert_fix, codes, run

HEAD = (
    "from airflow.providers.standard.operators.python import PythonOperator\n"
    "from airflow.sdk import DAG\n\n"
    'dag = DAG("d", schedule="@daily")\n\n'
)


def test_kwargs_subscripts_get_and_computed_keys() -> None:
    assert_fix(
        HEAD
        + "def load(**kwargs):\n"
        + '    a = kwargs["execution_date"]\n'
        + "    b = kwargs.get('next_execution_date')\n"
        + '    c = kwargs["next_ds_nodash"]\n'
        + '    d = kwargs["tomorrow_ds"]\n'
        + '    e = kwargs["prev_ds"]\n'
        + "    return a, b, c, d, e\n\n"
        + 'PythonOperator(task_id="t", python_callable=load, dag=dag)\n',
        HEAD
        + "def load(**kwargs):\n"
        + '    a = kwargs["logical_date"]\n'
        + "    b = kwargs.get('data_interval_end')\n"
        + '    c = kwargs["data_interval_end"].strftime("%Y%m%d")\n'
        + '    d = kwargs["macros"].ds_add(kwargs["ds"], 1)\n'
        + '    e = (kwargs["logical_date"] - kwargs["macros"].timedelta(seconds=86400)).strftime("%Y-%m-%d")\n'
        + "    return a, b, c, d, e\n\n"
        + 'PythonOperator(task_id="t", python_callable=load, dag=dag)\n',
        dedent=False,
    )


def test_named_parameters_are_renamed_with_their_uses() -> None:
    assert_fix(
        HEAD
        + "def load(ds, execution_date, next_ds, **_):\n"
        + "    return ds, execution_date.year, next_ds\n\n"
        + 'PythonOperator(task_id="t", python_callable=load, dag=dag)\n',
        HEAD
        + "def load(ds, logical_date, data_interval_end, **_):\n"
        + '    return ds, logical_date.year, data_interval_end.strftime("%Y-%m-%d")\n\n'
        + 'PythonOperator(task_id="t", python_callable=load, dag=dag)\n',
        dedent=False,
    )


def test_callbacks_execute_and_get_current_context() -> None:
    assert_fix(
        """\
        from airflow.sdk import BaseOperator, DAG, get_current_context

        def alert(context):
            return context["execution_date"], context["dag_run"].external_trigger

        class Copy(BaseOperator):
            def execute(self, context):
                return context["ti"].execution_date

        def helper():
            ctx = get_current_context()
            return ctx["yesterday_ds"]

        dag = DAG("d", schedule=None, default_args={"on_failure_callback": alert})
        """,
        """\
        from airflow.sdk import BaseOperator, DAG, get_current_context

        def alert(context):
            return context["logical_date"], (context["dag_run"].run_type == "manual")

        class Copy(BaseOperator):
            def execute(self, context):
                return context["ti"].logical_date

        def helper():
            ctx = get_current_context()
            return ctx["macros"].ds_add(ctx["ds"], -1)

        dag = DAG("d", schedule=None, default_args={"on_failure_callback": alert})
        """,
    )


def test_taskflow_named_parameter() -> None:
    assert_fix(
        """\
        from airflow.sdk import task

        @task
        def report(execution_date=None):
            return str(execution_date)
        """,
        """\
        from airflow.sdk import task

        @task
        def report(logical_date=None):
            return str(logical_date)
        """,
    )


def test_schedule_dependent_key_without_a_constant_period_is_reported() -> None:
    source = (
        "from airflow.providers.standard.operators.python import PythonOperator\n"
        "from airflow.sdk import DAG\n\n"
        'dag = DAG("d", schedule="@monthly")\n\n'
        "def load(**context):\n"
        '    return context["prev_ds"]\n\n'
        'PythonOperator(task_id="t", python_callable=load, dag=dag)\n'
    )
    result = run(source)
    assert result.text == source
    assert codes(result) == ["AS701"]
    assert "schedule" in result.findings[0].message


def test_no_op_plain_functions_and_other_dicts_are_left_alone() -> None:
    source = (
        "import airflow\n\n"
        "def unrelated(**kwargs):\n"
        '    return kwargs["execution_date"]\n\n'
        'row = {"execution_date": 1}\n'
        'print(row["execution_date"])\n'
    )
    assert run(source).text == source


def test_prev_ds_of_an_unscheduled_1_10_dag_is_ds() -> None:
    from tests.upgrade.conftest import run

    source = (
        "from airflow import DAG\n"
        "from airflow.operators.python_operator import PythonOperator\n\n"
        "def report(**context):\n"
        '    return context["prev_ds"], context["prev_execution_date"]\n\n'
        'with DAG("d", schedule_interval=None) as dag:\n'
        '    PythonOperator(task_id="t", python_callable=report, provide_context=True)\n'
    )
    result = run(source, select=("AS701",))
    assert 'return context["ds"], context["logical_date"]' in result.text


def test_a_read_in_a_task_nested_in_a_dag_function_is_reported_once() -> None:
    from tests.upgrade.conftest import codes, run

    source = (
        "from airflow.decorators import dag, task\n"
        "from airflow.operators.python import get_current_context\n\n"
        "@dag(schedule_interval=None)\n"
        "def pipeline():\n"
        "    @task\n"
        "    def gate():\n"
        "        context = get_current_context()\n"
        '        return context["execution_date"]\n'
        "    gate()\n\n"
        "pipeline()\n"
    )
    assert codes(run(source, select=("AS701",), fix=False)) == ["AS701"]


def test_next_ds_in_python_on_an_asset_scheduled_dag_is_reported() -> None:
    from tests.upgrade.conftest import run

    source = (
        "from airflow.decorators import dag, task\n"
        "from airflow.datasets import Dataset\n\n"
        '@dag(schedule=Dataset("s3://a") | Dataset("s3://b"))\n'
        "def pipeline():\n"
        "    @task\n"
        "    def show(**context):\n"
        '        return context["next_ds"], context["execution_date"]\n'
        "    show()\n\n"
        "pipeline()\n"
    )
    result = run(source, select=("AS701",))
    assert 'return context["next_ds"], context["logical_date"]' in result.text
    assert any("asset-scheduled" in f.message and not f.fixed for f in result.findings)
