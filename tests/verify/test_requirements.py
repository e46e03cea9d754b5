"""Each side of a verification gets the providers its DAG files import (verify/requirements.py)."""

from __future__ import annotations

from pathlib import Path

from airshift.verify.requirements import auto_requirements, imported_providers

DAG = """from airflow import DAG
from airflow.providers.google.cloud.operators.bigquery import BigQueryInsertJobOperator
from airflow.providers.standard.operators.bash import BashOperator
import airflow.providers.cncf.kubernetes.operators.pod as pod
try:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
except ImportError:
    S3Hook = None
"""


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "dags"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "etl.py").write_text(DAG)
    (folder / "broken.py").write_text("from airflow.providers.http import (\n")  # the snapshot reports it
    (folder / "plain.py").write_text("import os\n")
    return folder


def test_imported_providers_are_the_unguarded_provider_imports(tmp_path: Path) -> None:
    assert imported_providers(_folder(tmp_path)) == {
        "apache-airflow-providers-google",
        "apache-airflow-providers-standard",
        "apache-airflow-providers-cncf-kubernetes",
    }


def test_pinned_and_given_providers_are_not_added_again(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    # standard is in 3.3.2's pins; google is given with a version by fix's requirements file
    assert auto_requirements(folder, "3.3.2", ["apache-airflow-providers-google>=10.0"]) == [
        "apache-airflow-providers-cncf-kubernetes"
    ]
    assert auto_requirements(folder, "3.3", []) == [
        "apache-airflow-providers-cncf-kubernetes",
        "apache-airflow-providers-google",
    ]
    # 2.11.2's pins hold no standard provider: it is added there
    assert "apache-airflow-providers-standard" in auto_requirements(folder, "2.11", [])


def test_airflow_110_gets_the_backport_packages(tmp_path: Path) -> None:
    assert auto_requirements(_folder(tmp_path), "1.10.15", []) == [
        "apache-airflow-backport-providers-cncf-kubernetes",
        "apache-airflow-backport-providers-google",
        "apache-airflow-backport-providers-standard",
    ]


def test_a_folder_without_provider_imports_needs_nothing(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        "from airflow import DAG\nfrom airflow.operators.bash import BashOperator\n"
    )
    assert auto_requirements(tmp_path, "3.3.2", []) == []
