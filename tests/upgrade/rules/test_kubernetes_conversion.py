"""AS990 (opt-in): PythonOperator tasks and @task functions become @task.kubernetes; functions that cannot
run in a pod keep their task and get a finding that names the cause."""

from __future__ import annotations

import ast
import textwrap

import pytest

from airshift.upgrade.kubernetes import KubernetesConversion, Resources
from tests.upgrade.conftest import run

CONVERSION = KubernetesConversion(
    "registry.example/etl:1.4",
    "jobs",
    (("load", Resources((("cpu", "500m"), ("memory", "256Mi")), (("memory", "512Mi"),))),),
)
SELECT = ("AS990",)


def convert(source: str, target: str = "3.3", conversion: KubernetesConversion | None = CONVERSION):
    return run(textwrap.dedent(source), target=target, select=SELECT, kubernetes=conversion)


def messages(analysis) -> list[str]:  # type: ignore[no-untyped-def]
    return [f.message for f in analysis.findings if f.code == "AS990"]


OPERATOR = """\
from datetime import datetime
from airflow import DAG
from airflow.operators.python import PythonOperator


def load(day, table, scale=1):
    import math
    return {"day": day, "rows": math.floor(10 * scale), "table": table}


with DAG("etl", start_date=datetime(2024, 1, 1), schedule="@daily") as dag:
    loaded = PythonOperator(
        task_id="load",
        python_callable=load,
        op_args=["{{ ds }}"],
        op_kwargs={"table": "sales", "scale": 2},
        retries=3,
    )
"""


def test_fix_a_self_contained_python_operator_becomes_a_kubernetes_task() -> None:
    result = convert(OPERATOR)
    assert (
        'loaded = task.kubernetes(task_id="load", retries=3, image="registry.example/etl:1.4", namespace="jobs", '
        'do_xcom_push=True, container_resources=k8s.V1ResourceRequirements(requests={"cpu": "500m", "memory": '
        '"256Mi"}, limits={"memory": "512Mi"}))(load)("{{ ds }}", table="sales", scale=2)'
    ) in result.text
    assert "from airflow.sdk import task" in result.text
    assert "from kubernetes.client import models as k8s" in result.text
    ast.parse(result.text)
    assert {r.distribution for f in result.findings for r in f.requirements} == {
        "apache-airflow-providers-cncf-kubernetes"
    }
    again = convert(result.text)
    assert again.text == result.text and not any(f.fixed for f in again.findings)


def test_taskflow_functions_keep_their_options_and_get_no_resources_unless_asked() -> None:
    source = """\
    from airflow.decorators import dag, task
    import pendulum

    @dag(start_date=pendulum.datetime(2024, 1, 1), schedule=None)
    def pipeline():
        @task(retries=2)
        def square(n: int) -> int:
            return n * n

        @task
        def total(values):
            return sum(values)

        total([square(2), square(3)])

    pipeline()
    """
    result = convert(source, conversion=KubernetesConversion("img:1"))
    assert '@task.kubernetes(retries=2, image="img:1", do_xcom_push=True)\n' in result.text
    assert '@task.kubernetes(image="img:1", do_xcom_push=True)\n    def total' in result.text
    assert result.text.count("import") == 2  # the file's own `task` import serves
    assert "k8s" not in result.text


@pytest.mark.parametrize(
    ("function", "call", "cause"),
    [
        ("def f(x):\n    return x * LIMIT\n", "op_args=[1]", "names from outside the function (LIMIT)"),
        ("def f(x):\n    return json.dumps(x)\n", "op_args=[1]", "names from outside the function (json)"),
        (
            "def f(x):\n    with open('/tmp/x', 'w') as h:\n        h.write(x)\n",
            "op_args=['a']",
            "writes local files (open(..., 'w'))",
        ),
        (
            "def f(x):\n    import pathlib\n    pathlib.Path('/tmp/x').write_text(x)\n",
            "op_args=['a']",
            "writes local files (.write_text())",
        ),
        ("def f(**context):\n    return context['ds']\n", "", "needs the Airflow context (**context"),
        ("def f(ti):\n    return ti.task_id\n", "", "needs the Airflow context (parameter `ti`"),
        (
            "def f():\n    from airflow.operators.python import get_current_context\n    return get_current_context()\n",
            "",
            "needs the Airflow context",
        ),
        ("def f(x):\n    return x\n", "op_args=[lambda: 1]", "op_args holds a lambda"),
        (
            "def f(x):\n    return x\n",
            "op_kwargs={'x': helper}",
            "op_kwargs holds `helper`, a function of this DAG file",
        ),
        ("def f(x):\n    return x\n", "op_args=[1], provide_context=True", "provide_context=True"),
        ("def f(x):\n    return x\n", "op_args=[1], templates_dict={'a': '{{ ds }}'}", "templates_dict"),
    ],
)
def test_functions_that_cannot_run_in_a_pod_are_reported_with_the_cause(
    function: str, call: str, cause: str
) -> None:
    source = (
        "import json\nfrom airflow import DAG\nfrom airflow.operators.python import PythonOperator\n"
        f"LIMIT = 3\n\ndef helper():\n    return 1\n\n{function}\n"
        f"dag = DAG('d', schedule=None)\nt = PythonOperator(task_id='t', python_callable=f, dag=dag, {call})\n"
    )
    result = convert(source)
    assert result.text == source  # left as it was
    found = messages(result)
    assert len(found) == 1 and "task t (f) stays a Python task" in found[0] and cause in found[0], found


def test_no_op_cases() -> None:
    # not asked for: nothing happens
    assert convert(OPERATOR, conversion=None).findings == []
    # not Airflow; a callable from elsewhere; `task` bound to something else
    plain = "def load():\n    return 1\nPythonOperator(task_id='x', python_callable=load)\n"
    assert convert(plain).text == plain and messages(convert(plain)) == []
    imported = OPERATOR.replace("python_callable=load", "python_callable=other.load").replace(
        "from datetime", "import other\nfrom datetime"
    )
    result = convert(imported)
    assert "PythonOperator(" in result.text and "not a function defined in this file" in messages(result)[0]
    shadowed = OPERATOR + "task = 'mine'\n"
    assert convert(shadowed).text == shadowed


def test_version_gate_picks_the_decorator_module_of_the_target() -> None:
    on_211 = convert(OPERATOR, target="2.11")
    assert "from airflow.decorators import task" in on_211.text and "airflow.sdk" not in on_211.text
    assert "from airflow.sdk import task" in convert(OPERATOR, target="3.0").text


def test_a_taskflow_function_closing_over_its_dag_function_stays() -> None:
    source = """\
    from airflow.decorators import dag, task

    @dag(schedule=None)
    def pipeline():
        factor = 3

        @task
        def scale(n):
            return n * factor

        scale(2)

    pipeline()
    """
    result = convert(source)
    assert result.text == textwrap.dedent(source)
    assert (
        "task scale (scale) stays a Python task: it uses names from outside the function (factor)"
        in (messages(result)[0])
    )
