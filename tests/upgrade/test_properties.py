"""Property-based tests of the upgrader (hypothesis): for generated DAG-like files (old imports, DAG
arguments, operators, templates, context access, compat blocks, in random combinations and nestings),
the engine never crashes, never produces text that does not compile, and a second run changes nothing.
The example count is bounded so the test takes a few tens of seconds."""

from __future__ import annotations

import textwrap

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from airshift.upgrade.context import Settings
from airshift.upgrade.engine import SyntaxProblem, analyse
from airshift.upgrade.moves import load_table
from airshift.upgrade.registry import Selection
from airshift.upgrade.versions import TARGETS, parse_target

IMPORTS = [
    "from airflow import DAG",
    "from airflow.models import DAG",
    "from airflow.operators.bash_operator import BashOperator",
    "from airflow.operators.python_operator import PythonOperator",
    "from airflow.operators.dummy_operator import DummyOperator",
    "from airflow.operators import BashOperator",
    "from airflow.contrib.operators.ssh_operator import SSHOperator",
    "from airflow.contrib.operators.bigquery_operator import BigQueryOperator",
    "from airflow.utils.dates import days_ago",
    "from airflow.models import Variable",
    "import airflow.contrib.operators.bigquery_operator as bq",
    "from airflow.operators.subdag_operator import SubDagOperator",
    "from airflow.utils.trigger_rule import TriggerRule",
    "import datetime",
    "import os",
    "try:\n    from airflow.operators.bash import BashOperator\nexcept ImportError:\n"
    "    from airflow.operators.bash_operator import BashOperator",
]
NAMES = st.sampled_from(["etl", "load", "t1", "report_daily", "x", "dag", "task", "ti", "ds"])
TEMPLATES = st.sampled_from(
    [
        "echo {{ ds }}",
        "echo {{ execution_date }}",
        "echo {{ prev_execution_date_success }} {{ next_ds }}",
        "{{ ti.xcom_pull(task_ids='a') }}",
        "{% if execution_date %}x{% endif %}",
        "{{ macros.ds_add(ds, 1) }} {{ tomorrow_ds }}",
        "plain text",
        "{{ unclosed",
    ]
)
DAG_ARGUMENTS = st.lists(
    st.sampled_from(
        [
            "schedule_interval='@daily'",
            "schedule_interval=None",
            "schedule_interval='0 3 * * *'",
            "schedule_interval=datetime.timedelta(hours=1)",
            "catchup=False",
            "catchup=True",
            "start_date=days_ago(2)",
            "start_date=datetime.datetime(2024, 1, 1)",
            "default_args={'owner': 'me', 'retries': 1, 'provide_context': True}",
            "concurrency=4",
            "max_active_runs=1",
            "tags=['a']",
            "timetable=None",
        ]
    ),
    max_size=5,
    unique=True,
)


@st.composite
def operator_call(draw: st.DrawFn) -> str:
    kind = draw(
        st.sampled_from(
            ["BashOperator", "PythonOperator", "DummyOperator", "SSHOperator", "bq.BigQueryOperator"]
        )
    )
    arguments = [f"task_id={draw(NAMES)!r}"]
    extras = draw(
        st.lists(
            st.sampled_from(
                [
                    f"bash_command={draw(TEMPLATES)!r}",
                    "provide_context=True",
                    "python_callable=work",
                    "op_kwargs={'day': '{{ ds }}'}",
                    "trigger_rule='none_failed_or_skipped'",
                    "trigger_rule=TriggerRule.DUMMY",
                    "ssh_conn_id='box'",
                    "command='ls'",
                    "sql='select 1'",
                    "bql='select 1'",
                    "use_legacy_sql=False",
                    "dag=dag",
                    "task_concurrency=2",
                    "pool='p'",
                    "execution_timeout=datetime.timedelta(minutes=5)",
                ]
            ),
            max_size=4,
            unique=True,
        )
    )
    return f"{draw(NAMES)} = {kind}({', '.join(arguments + extras)})"


CALLABLES = st.sampled_from(
    [
        "def work(**context):\n    return context['execution_date']",
        "def work(ds, **kwargs):\n    ti = kwargs['ti']\n    return ti.xcom_pull(task_ids='a')",
        "def work(*args, **kwargs):\n    return kwargs.get('next_execution_date')",
        "def work(execution_date=None, **_):\n    return execution_date",
        "def work(**context):\n    value = Variable.get('k')\n    return context['task_instance'].try_number",
        "work = lambda **kw: kw['prev_ds']",
    ]
)


@st.composite
def dag_file(draw: st.DrawFn) -> str:
    imports = draw(st.lists(st.sampled_from(IMPORTS), max_size=8, unique=True))
    parts = [*imports, "", draw(CALLABLES), ""]
    dag_call = f"DAG({draw(NAMES)!r}, {', '.join(draw(DAG_ARGUMENTS))})"
    operators = draw(st.lists(operator_call(), min_size=1, max_size=4))
    if draw(st.booleans()):
        parts.append(f"with {dag_call} as dag:")
        parts += [textwrap.indent(op, "    ") for op in operators]
        if len(operators) > 1 and draw(st.booleans()):
            parts.append("    " + " >> ".join(op.split(" = ")[0] for op in operators))
    else:
        parts.append(f"dag = {dag_call}")
        parts += operators
    if draw(st.booleans()):
        parts.append("if __name__ == '__main__':\n    dag.cli()")
    return "\n".join(parts) + draw(st.sampled_from(["\n", "", "\n\n"]))


def _analyse(text: str, target: str) -> str:
    selection = Selection()
    options = Settings(target=parse_target(target), today="2026-11-22")
    return analyse(text, selection.rules(), load_table(), options, selection, fix=True).text


@given(source=dag_file(), target=st.sampled_from(TARGETS))
@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,  # the same files on every run: a failure reproduces
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    phases=[Phase.explicit, Phase.generate, Phase.shrink],
)
def test_fix_never_crashes_always_compiles_and_is_idempotent(source: str, target: str) -> None:
    try:
        compile(source, "<generated>", "exec")
    except SyntaxError:
        return  # generated text that is not Python: the engine reports it (covered elsewhere)
    try:
        fixed = _analyse(source, target)
    except SyntaxProblem as problem:  # pragma: no cover - a compiling file must parse
        raise AssertionError(f"the engine refused compiling code: {problem}") from None
    compile(fixed, "<fixed>", "exec")  # never a file that does not compile
    assert _analyse(fixed, target) == fixed, "a second run changed the fixed text"
