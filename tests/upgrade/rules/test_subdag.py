"""AS501: a SubDagOperator whose sub-DAG comes from a standard factory becomes a TaskGroup.

Factories are found by the project pre-pass (they often live in another module), so these tests go through
the runner on a real folder, with only AS501 and the unused-import cleanup selected.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from airshift.upgrade.context import Settings
from airshift.upgrade.discovery import discover
from airshift.upgrade.registry import Selection
from airshift.upgrade.runner import RunOptions, run
from airshift.upgrade.versions import parse_target
from tests.upgrade.conftest import TODAY

FACTORY_DAG = """\
from datetime import datetime

from airflow import DAG
from airflow.operators.bash_operator import BashOperator
from airflow.operators.subdag_operator import SubDagOperator

DEFAULTS = {"owner": "data", "retries": 2}


def build_section(parent_id, child_id, args):
    sub = DAG("%s.%s" % (parent_id, child_id), default_args=args, schedule_interval="@daily")
    first = BashOperator(task_id="first", bash_command="echo 1", dag=sub)
    second = BashOperator(task_id="second", bash_command="echo 2", dag=sub)
    first >> second
    return sub


dag = DAG("parent", default_args=DEFAULTS, start_date=datetime(2024, 1, 1), schedule_interval="@daily")
start = BashOperator(task_id="start", bash_command="echo start", dag=dag)
section = SubDagOperator(task_id="section", subdag=build_section("parent", "section", DEFAULTS), dag=dag)
start >> section
"""


def migrate(tmp_path: Path, files: dict[str, str], target: str = "3.3") -> dict[str, str]:
    source, out = tmp_path / "dags", tmp_path / "out"
    for name, text in files.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(textwrap.dedent(text))
    options = RunOptions(
        settings=Settings(target=parse_target(target), today=TODAY, adopt_new_defaults=True),
        selection=Selection(("AS501", "AS101", "AS105")),
        fix=True,
        write=True,
        out_dir=out,
    )
    run(discover([source]), options)
    migrated = {name: (out / name).read_text() for name in files}
    # idempotent: the migrated folder needs no further AS501 change
    again = run(
        discover([out]),
        RunOptions(settings=options.settings, selection=Selection(("AS501",)), fix=True, write=False),
    )
    assert not [p for f in again.files for p in f.problems if p.fixable]
    return migrated


def test_fix_factory_built_subdag_becomes_a_task_group_with_its_defaults_and_dependencies(
    tmp_path: Path,
) -> None:
    migrated = migrate(tmp_path, {"parent.py": FACTORY_DAG})
    assert migrated["parent.py"] == textwrap.dedent(
        """\
        from datetime import datetime

        from airflow import DAG
        from airflow.providers.standard.operators.bash import BashOperator
        from airflow.sdk import TaskGroup

        DEFAULTS = {"owner": "data", "retries": 2}


        def build_section(parent_id, child_id, args, parent_dag=None):
            sub = TaskGroup(group_id=child_id, default_args=args, dag=parent_dag)
            first = BashOperator(task_id="first", bash_command="echo 1", task_group=sub, dag=sub.dag)
            second = BashOperator(task_id="second", bash_command="echo 2", task_group=sub, dag=sub.dag)
            first >> second
            return sub


        dag = DAG("parent", default_args=DEFAULTS, start_date=datetime(2024, 1, 1), schedule_interval="@daily")
        start = BashOperator(task_id="start", bash_command="echo start", dag=dag)
        section = build_section("parent", "section", DEFAULTS, parent_dag=dag)
        start >> section
        """
    )


def test_a_factory_in_a_helper_module_is_converted_there(tmp_path: Path) -> None:
    factory, _, rest = FACTORY_DAG.partition("\n\ndag = ")
    helper = factory.replace("from airflow.operators.subdag_operator import SubDagOperator\n", "")
    parent = (
        "from datetime import datetime\n\nfrom airflow import DAG\n"
        "from airflow.operators.bash_operator import BashOperator\n"
        "from airflow.operators.subdag_operator import SubDagOperator\n"
        "from common.factories import DEFAULTS, build_section\n\ndag = " + rest
    )
    migrated = migrate(
        tmp_path, {"common/__init__.py": "", "common/factories.py": helper, "parent.py": parent}
    )
    assert (
        "sub = TaskGroup(group_id=child_id, default_args=args, dag=parent_dag)"
        in migrated["common/factories.py"]
    )
    assert 'section = build_section("parent", "section", DEFAULTS, parent_dag=dag)' in migrated["parent.py"]
    assert "SubDagOperator" not in migrated["parent.py"]


def test_target_2_11_imports_task_group_from_its_2x_home(tmp_path: Path) -> None:
    migrated = migrate(tmp_path, {"parent.py": FACTORY_DAG}, target="2.11")
    assert "from airflow.utils.task_group import TaskGroup" in migrated["parent.py"]
    assert "SubDagOperator(" not in migrated["parent.py"]


def test_a_subdag_not_built_by_a_standard_factory_is_reported_and_left(tmp_path: Path) -> None:
    source = textwrap.dedent(
        """\
        from airflow import DAG
        from airflow.operators.subdag_operator import SubDagOperator

        dag = DAG("parent", schedule_interval=None)
        child = DAG("parent.section", schedule_interval=None)
        section = SubDagOperator(task_id="section", subdag=child, dag=dag)
        """
    )
    (tmp_path / "dags").mkdir()
    (tmp_path / "dags" / "parent.py").write_text(source)
    options = RunOptions(
        settings=Settings(target=parse_target("3.3"), today=TODAY),
        selection=Selection(("AS501",)),
        fix=True,
        write=False,
    )
    result = run(discover([tmp_path / "dags"]), options)
    problems = [p for f in result.files for p in f.problems]
    assert [p.code for p in problems] == ["AS501"] and not problems[0].fixed
    assert (tmp_path / "dags" / "parent.py").read_text() == source


def test_subdag_inside_with_dag_without_dag_argument_gets_the_enclosing_dag(tmp_path: Path) -> None:
    """The official 1.10 pattern: no dag= on the SubDagOperator, the `with DAG(...) as dag:` block gives it.
    The TaskGroup must get that DAG explicitly (TaskGroup(dag=None) fails on 3.3.2)."""
    source = FACTORY_DAG.replace(
        'dag = DAG("parent", default_args=DEFAULTS, start_date=datetime(2024, 1, 1), schedule_interval="@daily")\n'
        'start = BashOperator(task_id="start", bash_command="echo start", dag=dag)\n'
        'section = SubDagOperator(task_id="section", subdag=build_section("parent", "section", DEFAULTS), dag=dag)\n'
        "start >> section\n",
        'with DAG("parent", default_args=DEFAULTS, start_date=datetime(2024, 1, 1), schedule_interval="@daily") as main:\n'
        '    start = BashOperator(task_id="start", bash_command="echo start")\n'
        '    section = SubDagOperator(task_id="section", subdag=build_section("parent", "section", DEFAULTS))\n'
        "    start >> section\n",
    )
    assert "as main:" in source
    migrated = migrate(tmp_path, {"parent.py": source})["parent.py"]
    assert 'section = build_section("parent", "section", DEFAULTS, parent_dag=main)' in migrated


def test_no_op_cases(tmp_path: Path) -> None:
    source = "from mylib import SubDagOperator\nSubDagOperator(task_id='s')\n"  # not Airflow's SubDagOperator
    assert migrate(tmp_path, {"dag.py": source})["dag.py"] == source
