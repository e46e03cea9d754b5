"""AS901 metadata-database access; AS902 top-level Variable.get."""

from __future__ import annotations

import textwrap

from tests.upgrade.conftest import assert_fix, codes, run


def test_sessions_and_orm_queries_are_reported_on_3x() -> None:
    source = textwrap.dedent(
        """\
        from airflow import settings
        from airflow.models import DagRun, TaskInstance
        from airflow.utils.session import provide_session, create_session

        @provide_session
        def last_run(dag_id, session=None):
            return session.query(DagRun).filter(DagRun.dag_id == dag_id).first()

        def failed(dag_id):
            session = settings.Session()
            with create_session() as other:
                other.query(TaskInstance).all()
            return DagRun.find(dag_id=dag_id)
        """
    )
    result = run(source, select=("AS901",))
    assert result.text == source
    assert sorted(codes(result)) == ["AS901"] * 6
    assert all("/api/v2" in f.message for f in result.findings)
    assert run(source, target="2.11", select=("AS901",)).findings == []


def test_top_level_variable_feeding_only_a_template_becomes_a_template() -> None:
    assert_fix(
        """\
        from airflow.models import Variable
        from airflow.providers.standard.operators.bash import BashOperator

        BUCKET = Variable.get("landing_bucket")
        PREFIX = Variable.get("landing_prefix", default_var="raw")

        a = BashOperator(task_id="a", bash_command=BUCKET)
        b = BashOperator(task_id="b", bash_command=PREFIX)
        """,
        """\
        from airflow.providers.standard.operators.bash import BashOperator


        a = BashOperator(task_id="a", bash_command='{{ var.value.landing_bucket }}')
        b = BashOperator(task_id="b", bash_command="{{ var.value.get('landing_prefix', 'raw') }}")
        """,
        select=("AS902", "AS105"),
    )


def test_top_level_variable_used_in_python_is_only_reported() -> None:
    source = textwrap.dedent(
        """\
        from airflow.sdk import Variable

        LIMIT = int(Variable.get("limit", default="10"))
        """
    )
    result = run(source, select=("AS902",))
    assert result.text == source and codes(result) == ["AS902"]


def test_no_op_variable_get_inside_a_task_is_fine() -> None:
    source = "from airflow.sdk import Variable\n\ndef load():\n    return Variable.get('x')\n"
    assert run(source, select=("AS902",)).findings == []


def test_version_gate_database_access_matters_from_3_0() -> None:
    source = "from airflow.settings import Session\n\ndef f():\n    return Session()\n"
    assert codes(run(source, target="3.0", select=("AS901",))) == ["AS901"]
    assert codes(run(source, target="2.11", select=("AS901",))) == []
