"""scan/fix from the command line: exit codes, formats, --out, --check, cache, bad input, config."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

OLD_DAG = """\
from airflow import DAG
from airflow.operators.bash_operator import BashOperator
from airflow.contrib.operators.ssh_operator import SSHOperator

with DAG("etl", schedule_interval="@daily", catchup=False) as dag:
    a = BashOperator(task_id="a", bash_command="echo", provide_context=True)
    b = SSHOperator(task_id="b", ssh_conn_id="box", command="ls")
"""
CLEAN_DAG = """\
from airflow.sdk import DAG
from airflow.providers.standard.operators.bash import BashOperator

with DAG("clean", schedule=None) as dag:
    BashOperator(task_id="a", bash_command="echo")
"""


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AIRSHIFT_CACHE_DIR": str(cwd / ".cache")}
    return subprocess.run(
        [sys.executable, "-m", "airshift", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    dags = tmp_path / "dags"
    (dags / "sql").mkdir(parents=True)
    (dags / "etl.py").write_text(OLD_DAG)
    (dags / "clean.py").write_text(CLEAN_DAG)
    (dags / "sql" / "load.sql").write_text("select 1 -- {{ ds }}\n")
    (dags / "helpers.py").write_text("def helper():\n    return 1\n")
    return tmp_path


def test_scan_reports_and_exits_1_without_writing(project: Path) -> None:
    before = (project / "dags" / "etl.py").read_bytes()
    result = cli("scan", "dags", cwd=project)
    assert result.returncode == 1, result.stderr
    assert "AS101" in result.stdout and "AS306" in result.stdout
    assert (project / "dags" / "etl.py").read_bytes() == before


def test_scan_of_clean_code_exits_0(project: Path) -> None:
    result = cli("scan", "dags/clean.py", "dags/helpers.py", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr


def test_fix_in_place_then_clean(project: Path) -> None:
    result = cli("fix", "dags", cwd=project)
    assert result.returncode == 1, result.stderr
    text = (project / "dags" / "etl.py").read_text()
    assert "from airflow.providers.ssh.operators.ssh import SSHOperator" in text
    assert "provide_context" not in text
    assert 'schedule=CronDataIntervalTimetable("@daily", timezone="UTC")' in text
    requirements = (project / "dags" / "airshift-requirements.txt").read_text()
    assert "apache-airflow-providers-ssh>=" in requirements
    assert cli("scan", "dags", "--select", "AS1,AS3", cwd=project).returncode == 0


def test_fix_out_writes_a_complete_copy_and_leaves_sources(project: Path) -> None:
    before = {p: p.read_bytes() for p in (project / "dags").rglob("*") if p.is_file()}
    result = cli("fix", "dags", "--out", "migrated", "--diff", cwd=project)
    assert result.returncode == 1, result.stderr
    assert {p: p.read_bytes() for p in (project / "dags").rglob("*") if p.is_file()} == before
    out = project / "migrated"
    assert (out / "sql" / "load.sql").read_text() == "select 1 -- {{ ds }}\n"
    assert (out / "helpers.py").read_text() == "def helper():\n    return 1\n"
    assert "airflow.providers.standard.operators.bash" in (out / "etl.py").read_text()
    assert (out / "airshift-requirements.txt").exists()
    assert "+from airflow.providers.ssh.operators.ssh import SSHOperator" in result.stdout


def test_fix_out_rewrites_template_files_given_a_relative_folder(tmp_path: Path) -> None:
    # The DAG file's only removed name is fixed in the first pass; the template file's rewrite must still
    # be written, under --out, at its place relative to the folder as the user spelled it.
    dags = tmp_path / "dags"
    (dags / "sql").mkdir(parents=True)
    (dags / "load.py").write_text(
        "from datetime import datetime\n"
        "from airflow import DAG\n"
        "from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator\n\n"
        'with DAG("load", start_date=datetime(2024, 1, 1), schedule="@daily") as dag:\n'
        '    SQLExecuteQueryOperator(task_id="q", conn_id="db", sql="sql/q.sql", database="{{ execution_date }}")\n'
    )
    (dags / "sql" / "q.sql").write_text("select '{{ execution_date }}', '{{ tomorrow_ds }}';\n")
    result = cli("fix", "dags", "--out", "out", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert (tmp_path / "out" / "sql" / "q.sql").read_text() == (
        "select '{{ logical_date }}', '{{ macros.ds_add(ds, 1) }}';\n"
    )
    assert (dags / "sql" / "q.sql").read_text() == "select '{{ execution_date }}', '{{ tomorrow_ds }}';\n"


def test_fix_check_writes_nothing_and_exits_1(project: Path) -> None:
    before = (project / "dags" / "etl.py").read_bytes()
    result = cli("fix", "dags", "--check", cwd=project)
    assert result.returncode == 1
    assert (project / "dags" / "etl.py").read_bytes() == before
    assert not (project / "dags" / "airshift-requirements.txt").exists()


def test_bad_files_are_reported_left_identical_and_exit_2(project: Path) -> None:
    dags = project / "dags"
    bad = {
        "py2.py": b'print "hello"\n',
        "broken.py": b"def f(:\n",
        "latin.py": b"x = '\xff'\n",
        "empty.py": b"",
    }
    for name, data in bad.items():
        (dags / name).write_bytes(data)
    os.symlink(dags / "nowhere.py", dags / "dangling.py")
    os.symlink(dags, dags / "loop")
    result = cli("fix", "dags", cwd=project)
    assert result.returncode == 2
    for name, data in bad.items():
        assert (dags / name).read_bytes() == data
    out = result.stdout
    assert "Python 2" in out and "broken.py" in out and "not valid UTF-8" in out
    assert "broken symbolic link" in out and "symbolic link loop" in out
    assert "Traceback" not in out + result.stderr
    assert "airflow.providers.standard" in (dags / "etl.py").read_text()  # the run went on


def test_encoding_crlf_and_bom_survive_a_fix(project: Path) -> None:
    dags = project / "dags"
    latin = b"# -*- coding: latin-1 -*-\r\n# caf\xe9\r\nfrom airflow.operators.bash_operator import BashOperator\r\nBashOperator(task_id='t')\r\n"
    (dags / "latin.py").write_bytes(latin)
    (dags / "bom.py").write_bytes(
        b"\xef\xbb\xbffrom airflow.operators.bash_operator import BashOperator\nBashOperator(task_id='t')\n"
    )
    assert cli("fix", "dags", cwd=project).returncode == 1
    fixed = (dags / "latin.py").read_bytes()
    assert fixed.startswith(b"# -*- coding: latin-1 -*-\r\n# caf\xe9\r\n")
    assert b"from airflow.providers.standard.operators.bash import BashOperator\r\n" in fixed
    assert b"\n" not in fixed.replace(b"\r\n", b"")
    assert (dags / "bom.py").read_bytes().startswith(b"\xef\xbb\xbffrom airflow.providers.standard")


def test_json_sarif_github_formats(project: Path) -> None:
    document = json.loads(cli("scan", "dags", "--format", "json", cwd=project).stdout)
    assert document["schema"] == 1 and document["summary"]["files"] == 3
    etl = next(f for f in document["files"] if f["path"].endswith("etl.py"))
    assert {"AS101", "AS301", "AS306"} <= {f["code"] for f in etl["findings"]}
    sarif = json.loads(cli("scan", "dags", "--format", "sarif", cwd=project).stdout)
    assert sarif["version"] == "2.1.0"
    results = sarif["runs"][0]["results"]
    assert results and all(r["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1 for r in results)
    rule_ids = {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in results} <= rule_ids
    github = cli("scan", "dags", "--format", "github", cwd=project).stdout.splitlines()
    assert github and all(line.startswith(("::error ", "::warning ", "::notice ")) for line in github)
    assert any("file=dags/etl.py,line=2" in line for line in github)


def test_select_and_ignore(project: Path) -> None:
    only = json.loads(cli("scan", "dags", "--format", "json", "--select", "AS301", cwd=project).stdout)
    assert only["summary"]["by_rule"].keys() == {"AS301"}
    without = json.loads(cli("scan", "dags", "--format", "json", "--ignore", "AS1", cwd=project).stdout)
    assert not any(code.startswith("AS1") for code in without["summary"]["by_rule"])
    bad = cli("scan", "dags", "--select", "XX9", cwd=project)
    assert bad.returncode == 2 and "unknown rule code" in bad.stderr


def test_config_from_pyproject(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.airshift]\ntarget = "2.11"\nignore = ["AS306"]\n')
    document = json.loads(cli("scan", "dags", "--format", "json", cwd=project).stdout)
    assert document["target"] == "2.11"
    assert "AS306" not in document["summary"]["by_rule"]
    (project / "pyproject.toml").write_text('[tool.airshift]\ntarget = "4.0"\n')
    bad = cli("scan", "dags", cwd=project)
    assert bad.returncode == 2 and "pyproject.toml" in bad.stderr and "target" in bad.stderr


def test_bad_target_is_a_clear_error(project: Path) -> None:
    result = cli("scan", "dags", "--target", "1.9", cwd=project)
    assert result.returncode == 2
    assert "unsupported target" in result.stderr and "Traceback" not in result.stderr


def test_cache_hit_gives_the_same_report(project: Path) -> None:
    first = json.loads(cli("scan", "dags", "--format", "json", cwd=project).stdout)
    second = json.loads(cli("scan", "dags", "--format", "json", cwd=project).stdout)
    assert first["files"] == second["files"]
    assert any((project / ".cache").rglob("*.jsonl"))
    no_cache = json.loads(cli("scan", "dags", "--format", "json", "--no-cache", cwd=project).stdout)
    assert no_cache["files"] == first["files"]


def test_requirements_file_updated_in_place(project: Path) -> None:
    requirements = project / "requirements.txt"
    requirements.write_text("pandas==2.2.0  # analytics\napache-airflow-providers-ssh==0.9\n")
    assert cli("fix", "dags", "--requirements", "requirements.txt", cwd=project).returncode == 1
    lines = requirements.read_text().splitlines()
    assert lines[0] == "pandas==2.2.0  # analytics"
    assert lines[1].startswith("apache-airflow-providers-ssh>=")
    assert any(line.startswith("apache-airflow-providers-standard") for line in lines)


def test_list_rules_matches_the_docs(project: Path) -> None:
    result = cli("scan", "--list-rules", cwd=project)
    assert result.returncode == 0 and "AS101" in result.stdout and "AS401" in result.stdout


def test_demo_runs_on_the_bundled_examples(project: Path) -> None:
    result = cli("demo", "--out", str(project / "demo-out"), cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "files changed" in result.stdout
    assert list((project / "demo-out").rglob("*.py"))


def test_a_file_that_does_not_compile_counts_as_failed(project: Path) -> None:
    dags = project / "dags"
    source = "from airflow import DAG\nDAG(dag_id='a', dag_id='b')\n"
    (dags / "repeated.py").write_text(source)
    result = cli("fix", "dags", cwd=project)
    assert result.returncode == 2
    assert "repeated.py" in result.stdout and "keyword argument repeated" in result.stdout
    assert (dags / "repeated.py").read_text() == source
    report = json.loads(cli("scan", "dags", "--format", "json", cwd=project).stdout)
    assert report["summary"]["failed"] == 1


NEEDS_A_PERSON = """\
from airflow.sdk import DAG
from airflow.providers.standard.operators.python import PythonOperator
from airflow.settings import Session


def count_runs():
    return Session().execute("select count(*) from dag_run").scalar()


with DAG("needs_a_person", schedule=None) as dag:
    PythonOperator(task_id="count", python_callable=count_runs)
"""


def test_exit_codes_fit_ci_after_a_full_migration(project: Path) -> None:
    dags = project / "dags"
    (dags / "person.py").write_text(NEEDS_A_PERSON)
    check = cli("fix", "dags", "--check", cwd=project)
    assert check.returncode == 1
    assert " fixed " not in check.stdout and "fixable" in check.stdout  # --check never says "fixed"
    assert cli("fix", "dags", cwd=project).returncode == 1  # changes made
    # Fully migrated: only a finding that needs a person (AS901) is left; it is reported, exit 0.
    for args in (("scan", "dags"), ("fix", "dags", "--check"), ("fix", "dags")):
        result = cli(*args, cwd=project)
        assert result.returncode == 0, (args, result.stdout)
        assert "AS901" in result.stdout
    assert cli("scan", "dags", "--strict", cwd=project).returncode == 1
    assert cli("fix", "dags", "--check", "--strict", cwd=project).returncode == 1


def test_pre_commit_hooks_pass_on_a_migrated_folder(project: Path) -> None:
    """Run each hook of .pre-commit-hooks.yaml the way pre-commit does: its entry plus the staged files."""
    hooks: list[dict[str, str]] = []
    for line in (Path(__file__).parents[2] / ".pre-commit-hooks.yaml").read_text().splitlines():
        key, _, value = line.strip().removeprefix("- ").partition(": ")
        if line.startswith("- "):
            hooks.append({})
        if hooks and key in ("id", "entry"):
            hooks[-1][key] = value
    assert {hook["id"] for hook in hooks} == {"airshift-check", "airshift-fix"}
    dags = project / "dags"
    (dags / "person.py").write_text(NEEDS_A_PERSON)
    files = sorted(str(p.relative_to(project)) for p in dags.rglob("*.py"))
    by_id = {hook["id"]: hook["entry"].split() for hook in hooks}
    assert by_id["airshift-check"][0] == "airshift"
    assert cli(*by_id["airshift-check"][1:], *files, cwd=project).returncode == 1  # not migrated yet
    assert cli(*by_id["airshift-fix"][1:], *files, cwd=project).returncode == 1  # rewrites: commit fails
    for hook in hooks:
        result = cli(*hook["entry"].split()[1:], *files, cwd=project)
        assert result.returncode == 0, (hook["id"], result.stdout)


def test_a_file_over_the_size_limit_is_reported_and_copied_as_it_is(project: Path) -> None:
    huge = b"# " + b"x" * (10 * 1024 * 1024) + b"\n"
    (project / "dags" / "huge.py").write_bytes(huge)
    result = cli("fix", "dags", "--out", "migrated", cwd=project)
    assert result.returncode == 2
    assert "dags/huge.py: failed: too large (10.0 MiB; limit 10 MiB)" in result.stdout
    assert (project / "migrated" / "huge.py").read_bytes() == huge
    assert (project / "dags" / "huge.py").read_bytes() == huge
