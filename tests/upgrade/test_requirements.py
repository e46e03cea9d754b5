"""Provider requirements: the lowest release that supports the target Airflow and has every name used;
scan and fix agree; an existing lower pin is raised in place with a comment."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from airshift.upgrade.model import Requirement
from airshift.upgrade.moves import provider_floor, with_floor
from airshift.upgrade.requirements import merge
from tests.upgrade.test_cli import cli

FLOORS = Path(__file__).parents[2] / "src" / "airshift" / "upgrade" / "tables" / "provider_floors.json"

AWS_DAG = """\
from airflow import DAG
from airflow.contrib.hooks.aws_athena_hook import AWSAthenaHook
from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook


def hooks():
    return AWSAthenaHook(), AwsBaseHook()


with DAG("aws", schedule_interval=None) as dag:
    pass
"""


def test_floors_come_from_the_airflow_wheels() -> None:
    data = json.loads(FLOORS.read_text())
    assert data["generated_by"] == "scripts/generate_provider_floors.py"
    assert data["sources"]["apache-airflow"]["3.3"] == "3.3.2"
    # apache-airflow 3.x requires amazon>=9.0.0 (9.6.0 with its aiobotocore extra); 2.11's extras pin nothing.
    assert provider_floor("apache-airflow-providers-amazon", (3, 3)) == "9.6.0"
    assert provider_floor("apache-airflow-providers-amazon", (2, 11)) is None
    assert with_floor(Requirement("apache-airflow-providers-amazon", "1.0.0"), (3, 0)).min_version == "9.6.0"
    assert (
        with_floor(Requirement("apache-airflow-providers-amazon", "9.20.0"), (3, 3)).min_version == "9.20.0"
    )
    assert with_floor(Requirement("apache-airflow-providers-amazon", "1.0.0"), (2, 11)).min_version == "1.0.0"


def test_the_floor_script_reads_extras_lower_bounds(tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).parents[2] / "scripts"))
    from generate_provider_floors import floors_from_metadata, metadata

    wheel = tmp_path / "apache_airflow-9.9.9-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(
            "apache_airflow-9.9.9.dist-info/METADATA",
            "Name: apache-airflow\n"
            "Requires-Dist: apache-airflow-providers-amazon>=9.0.0; extra == 'amazon'\n"
            "Requires-Dist: apache-airflow-providers-amazon[aiobotocore]>=9.6.0; extra == 'aiobotocore'\n"
            "Requires-Dist: apache-airflow-providers-hdfs; extra == 'hdfs'\n"
            "Requires-Dist: pendulum>=3.0\n",
        )
    assert floors_from_metadata(metadata(wheel)) == {"apache-airflow-providers-amazon": "9.6.0"}


def test_scan_and_fix_write_the_same_requirement(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "aws.py").write_text(AWS_DAG)
    for target, expected in (("3.3", "apache-airflow-providers-amazon>=9.6.0"), ("2.11", None)):
        scan = json.loads(cli("scan", "dags", "--target", target, "--format", "json", cwd=tmp_path).stdout)
        check = json.loads(
            cli("fix", "dags", "--check", "--target", target, "--format", "json", cwd=tmp_path).stdout
        )
        assert scan["requirements"] == check["requirements"]
        (amazon,) = [r for r in scan["requirements"] if "amazon" in r]
        if expected:
            assert amazon == expected
        else:  # 2.11: the first release with AthenaHook (the contrib hook's new name), not 1.0.0
            assert amazon.startswith("apache-airflow-providers-amazon>=") and not amazon.endswith(">=1.0.0")
    written = cli("fix", "dags", "--target", "3.3", cwd=tmp_path)
    assert written.returncode == 1
    assert "apache-airflow-providers-amazon>=9.6.0" in (dags / "airshift-requirements.txt").read_text()


def test_lower_pin_is_raised_in_place_with_a_comment() -> None:
    existing = "pandas==2.2.0  # analytics\napache-airflow-providers-amazon==1.2.0  # aws\nrequests\n"
    update = merge(existing, [Requirement("apache-airflow-providers-amazon", "9.6.0")])
    lines = update.text.splitlines()
    assert lines[0] == "pandas==2.2.0  # analytics" and lines[2] == "requests"
    assert lines[1].startswith(
        "apache-airflow-providers-amazon>=9.6.0  # aws (raised by airshift fix from ==1.2.0"
    )
    assert merge(update.text, [Requirement("apache-airflow-providers-amazon", "9.6.0")]).text == update.text
