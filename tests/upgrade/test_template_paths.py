"""Template files found as Airflow finds them (upgrade/template_paths.py and the AS602/AS604 rule): the DAG
folder and its subfolders, template_searchpath idioms, deploy paths mapped with --path-map (or reported),
include/import/extends followed, every operator's template_ext, and --out pointing at the output."""

from __future__ import annotations

import ast
import os
import textwrap
from pathlib import Path

import pytest

from airshift.cli.upgrade import parse_path_map
from airshift.errors import AirshiftError
from airshift.upgrade.context import FileContext, Settings
from airshift.upgrade.discovery import discover
from airshift.upgrade.moves import load_table
from airshift.upgrade.registry import Selection
from airshift.upgrade.runner import RunOptions, RunResult, run
from airshift.upgrade.template_paths import evaluate, map_path, referenced_templates

HEADER = """\
import os
from pathlib import Path
from airflow import DAG
from airflow.operators.bash_operator import BashOperator
from airflow.operators.postgres_operator import PostgresOperator
from datetime import datetime
"""


def _dag(searchpath: str | None, tasks: str, prelude: str = "") -> str:
    argument = f", template_searchpath={searchpath}" if searchpath else ""
    body = textwrap.indent(textwrap.dedent(tasks).strip(), "    ")
    return (
        HEADER
        + textwrap.dedent(prelude)
        + f'\nwith DAG("etl", start_date=datetime(2024, 1, 1), schedule_interval="@daily"{argument}) as dag:\n'
        + body
        + "\n"
    )


def _fix(
    folder: Path, out: Path | None = None, path_map: tuple[tuple[str, str], ...] = (), write: bool = True
) -> RunResult:
    found = discover([folder])
    settings = Settings(today="2026-11-22", path_map=path_map, adopt_new_defaults=True)
    if out is not None:
        settings.relocate = ((str(folder.resolve()), str(out)),)
    options = RunOptions(settings=settings, selection=Selection(), fix=True, write=write, out_dir=out, jobs=1)
    return run(found, options)


def _codes(result: RunResult, code: str) -> list[str]:
    return [p.message for report in result.files for p in report.problems if p.code == code]


def _write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


OLD_SQL = "select * from t where day = '{{ execution_date }}'\n"
NEW_SQL = "select * from t where day = '{{ logical_date | ts }}'\n"  # 1.10 source: the ISO text is kept


@pytest.mark.parametrize(
    "searchpath",
    [
        None,  # the DAG folder is always searched
        "[os.path.dirname(os.path.abspath(__file__))]",
        "[os.path.dirname(__file__)]",
        "[os.path.abspath(os.path.dirname(__file__))]",
        "[str(Path(__file__).parent)]",
        "[str(Path(__file__).resolve().parent)]",
    ],
)
def test_subfolder_templates_of_the_dag_folder_are_found_whatever_the_idiom(
    tmp_path: Path, searchpath: str | None
) -> None:
    # The DAG file itself mentions no removed variable: only its template files do.
    _write(
        tmp_path,
        {
            "etl.py": _dag(
                searchpath,
                'BashOperator(task_id="run", bash_command="scripts/run.sh")\n'
                'PostgresOperator(task_id="load", sql="queries/daily.sql")',
            ),
            "scripts/run.sh": "echo {{ execution_date }}\n",
            "queries/daily.sql": OLD_SQL,
        },
    )
    result = _fix(tmp_path)
    assert (tmp_path / "scripts/run.sh").read_text() == "echo {{ logical_date | ts }}\n"
    assert (tmp_path / "queries/daily.sql").read_text() == NEW_SQL
    again = _fix(tmp_path)  # idempotent
    assert not [r for r in again.files if r.status == "changed"]
    assert _codes(result, "AS604") == []


@pytest.mark.parametrize(
    ("prelude", "searchpath"),
    [
        ("", '["sql"]'),  # relative: next to the DAG file
        ("SQL = os.path.join(os.path.dirname(__file__), 'sql')\n", "[SQL]"),
        ("", "[Path(__file__).parent / 'sql']"),
        ("", "str(Path(__file__).parent.joinpath('sql'))"),
        ("HERE = os.path.dirname(os.path.abspath(__file__))\n", "[f'{HERE}/sql']"),
        ("PATHS = [os.path.dirname(__file__) + '/sql']\n", "PATHS"),
    ],
)
def test_search_path_entries_are_followed(tmp_path: Path, prelude: str, searchpath: str) -> None:
    _write(
        tmp_path,
        {
            "etl.py": _dag(searchpath, 'PostgresOperator(task_id="load", sql="daily.sql")', prelude),
            "sql/daily.sql": OLD_SQL,
        },
    )
    _fix(tmp_path)
    assert (tmp_path / "sql/daily.sql").read_text() == NEW_SQL


def test_deploy_paths_are_mapped_with_path_map_or_reported(tmp_path: Path) -> None:
    files = {
        "etl.py": _dag(
            '["/usr/local/airflow/dags/sql"]', 'PostgresOperator(task_id="load", sql="daily.sql")'
        ),
        "sql/daily.sql": OLD_SQL,
    }
    _write(tmp_path, files)
    unmapped = _fix(tmp_path, write=False)
    messages = _codes(unmapped, "AS604")
    assert any(
        "/usr/local/airflow/dags/sql is not on this machine" in m
        and "--path-map /usr/local/airflow/dags=" in m
        for m in messages
    )
    assert any("template file daily.sql is not in the folders airshift can see" in m for m in messages)
    assert (tmp_path / "sql/daily.sql").read_text() == OLD_SQL
    mapped = _fix(tmp_path, path_map=(("/usr/local/airflow/dags", str(tmp_path)),))
    assert _codes(mapped, "AS604") == []
    assert (tmp_path / "sql/daily.sql").read_text() == NEW_SQL
    assert "/usr/local/airflow/dags/sql" in (tmp_path / "etl.py").read_text()  # the deploy path stays


def test_includes_imports_and_extends_inside_template_files_are_followed(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "etl.py": _dag(
                None,
                'PostgresOperator(task_id="load", sql="sql/main.sql")\n'
                'BashOperator(task_id="inline", bash_command="{% include \'sql/inline.sql\' %}")',
            ),
            "sql/main.sql": "{% extends 'sql/base.sql' %}{% block q %}{% include 'sql/part.sql' %}{% endblock %}\n",
            "sql/base.sql": "-- {{ next_ds }}\n{% block q %}{% endblock %}\n",
            "sql/part.sql": "{% import 'sql/macros.sql' as m %}{{ m.day(execution_date) }}\n",
            "sql/macros.sql": "{% macro day(d) %}{{ d }} {{ yesterday_ds }}{% endmacro %}\n",
            "sql/inline.sql": "{{ tomorrow_ds }}\n",
        },
    )
    _fix(tmp_path)
    assert (
        tmp_path / "sql/base.sql"
    ).read_text() == "-- {{ data_interval_end | ds }}\n{% block q %}{% endblock %}\n"
    assert "m.day(logical_date)" in (tmp_path / "sql/part.sql").read_text()
    assert "macros.ds_add(ds, -1)" in (tmp_path / "sql/macros.sql").read_text()
    assert (tmp_path / "sql/inline.sql").read_text() == "{{ macros.ds_add(ds, 1) }}\n"
    assert (
        (tmp_path / "sql/main.sql").read_text().startswith("{% extends 'sql/base.sql' %}")
    )  # nothing to change


def test_a_file_with_no_template_extension_of_its_operator_is_not_read(tmp_path: Path) -> None:
    # BashOperator's template_ext is .sh/.bash: a .sql name there is plain text, and Airflow renders it as such.
    _write(
        tmp_path,
        {"etl.py": _dag(None, 'BashOperator(task_id="run", bash_command="cat q.sql")'), "q.sql": OLD_SQL},
    )
    result = _fix(tmp_path)
    assert (tmp_path / "q.sql").read_text() == OLD_SQL
    assert not [r for r in result.files if r.path.endswith(".sql")]


def test_with_out_the_migrated_templates_are_written_there_and_absolute_paths_follow(tmp_path: Path) -> None:
    source = tmp_path / "dags"
    source.mkdir()
    absolute = str(source.resolve() / "sql")
    _write(
        source,
        {
            "etl.py": _dag(
                f'["{absolute}", "/opt/other"]', 'PostgresOperator(task_id="load", sql="daily.sql")'
            ),
            "sql/daily.sql": OLD_SQL,
        },
    )
    out = tmp_path / "out"
    result = _fix(source, out=out)
    assert (source / "sql/daily.sql").read_text() == OLD_SQL  # sources untouched
    assert (out / "sql/daily.sql").read_text() == NEW_SQL
    migrated = (out / "etl.py").read_text()
    assert f'"{out / "sql"}"' in migrated and absolute not in migrated
    assert '"/opt/other"' in migrated  # not a path into the sources: left as it is (and reported)
    assert any("/opt/other is not on this machine" in m for m in _codes(result, "AS604"))
    # a second run on the output, in place, changes nothing
    again = _fix(out)
    assert not [r for r in again.files if r.status == "changed"]


def test_no_op_cases(tmp_path: Path) -> None:
    """A non-Airflow file, a template file already migrated, a name no folder has."""
    _write(
        tmp_path,
        {
            "tool.py": "open('x.sql')\nSQL = 'q.sql'\n",
            "etl.py": _dag(
                None,
                'PostgresOperator(task_id="a", sql="ok.sql")\nPostgresOperator(task_id="b", sql="gone.sql")',
            ),
            "ok.sql": NEW_SQL,
            "q.sql": OLD_SQL,
        },
    )
    result = _fix(tmp_path)
    assert not [r for r in result.files if r.path.endswith(".sql")]
    assert (tmp_path / "q.sql").read_text() == OLD_SQL
    assert _codes(result, "AS604") == []  # the search path is complete: gone.sql is simply not a file


def _ctx(source: str, path: str) -> FileContext:
    tree = ast.parse(source)
    return FileContext(source, tree, Settings(), load_table(), "2", path=path)


def test_evaluate_and_helpers(tmp_path: Path) -> None:
    dag_file = str(tmp_path / "dags" / "etl.py")
    source = "import os\nfrom os.path import join as j\nfrom pathlib import Path as P\nBASE = os.path.dirname(__file__)\n"
    ctx = _ctx(source, dag_file)
    folder = os.path.dirname(os.path.abspath(dag_file))

    def value(text: str) -> str | None:
        return evaluate(ctx, ast.parse(text, mode="eval").body)

    assert value("j(BASE, 'sql')") == os.path.join(folder, "sql")
    assert value("P(__file__).parent.parent / 'x'") == os.path.join(os.path.dirname(folder), "x")
    assert value("os.environ['SQL_HOME']") is None
    assert value("Variable.get('sql')") is None
    assert map_path("/usr/local/airflow/dags/sql", (("/usr/local/airflow/dags", "/src"),)) == "/src/sql"
    assert map_path("/usr/local/airflow/dagsx", (("/usr/local/airflow/dags", "/src"),)) is None
    assert referenced_templates("{% include 'a.sql' %}{% from 'm.sql' import x %}{% include name %}") == [
        "a.sql",
        "m.sql",
    ]
    assert referenced_templates("{% include 'a.sql'") == []  # not Jinja: Airflow fails on it too


def test_path_map_option_is_checked(tmp_path: Path) -> None:
    assert parse_path_map([f"/usr/local/airflow/dags={tmp_path}"]) == (
        ("/usr/local/airflow/dags", str(tmp_path.resolve())),
    )
    for bad, message in [
        ("nomapping", "DEPLOY_FOLDER=LOCAL_FOLDER"),
        ("relative=.", "absolute"),
        (f"/x={tmp_path}/nope", "not a folder"),
    ]:
        with pytest.raises(AirshiftError, match=message):
            parse_path_map([bad])


def test_taskflow_dag_decorator_search_path_is_followed(tmp_path: Path) -> None:
    source = (
        "import os\nimport pendulum\nfrom airflow.decorators import dag\n"
        "from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator\n\n"
        "@dag(start_date=pendulum.datetime(2024, 1, 1), schedule='@daily',\n"
        "     template_searchpath=[os.path.join(os.path.dirname(__file__), 'sql')])\n"
        "def etl():\n    SQLExecuteQueryOperator(task_id='load', conn_id='db', sql='daily.sql')\n\netl()\n"
    )
    _write(tmp_path, {"etl.py": source, "sql/daily.sql": OLD_SQL})
    _fix(tmp_path)
    assert "logical_date" in (tmp_path / "sql/daily.sql").read_text()


def test_the_result_cache_sees_a_changed_template_file_that_had_no_finding(tmp_path: Path) -> None:
    """A DAG file's cached result is reused only while every template file it read is unchanged."""
    dags = tmp_path / "dags"
    _write(dags, {"etl.py": _dag(None, 'PostgresOperator(task_id="load", sql="q.sql")'), "q.sql": NEW_SQL})

    def scan() -> RunResult:
        settings = Settings(today="2026-11-22", adopt_new_defaults=True)
        options = RunOptions(
            settings=settings,
            selection=Selection(),
            fix=False,
            write=False,
            cache_dir=tmp_path / "cache",
            jobs=1,
        )
        return run(discover([dags]), options)

    first = scan()
    assert not [r for r in first.files if r.path.endswith(".sql")]  # read and fine: no report line
    assert all(r.cached for r in scan().files)
    (dags / "q.sql").write_text(OLD_SQL)
    after = scan()
    assert not [r for r in after.files if r.path.endswith("etl.py") and r.cached]
    assert any(r.path.endswith("q.sql") and r.problems for r in after.files)
