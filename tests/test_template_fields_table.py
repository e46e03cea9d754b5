"""Known facts of the generated template-fields table (src/airshift/upgrade/tables/template_fields.json).

The table is produced by scripts/generate_template_fields.py from real wheels; these tests read only the
committed JSON. Each fact below was checked against the class source of the release named in `origin`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

TABLE = (
    Path(__file__).resolve().parent.parent
    / "src"
    / "airshift"
    / "upgrade"
    / "tables"
    / "template_fields.json"
)


@cache
def classes() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(TABLE.read_text())["classes"]
    return data


@pytest.mark.parametrize(
    ("name", "fields", "extensions"),
    [
        ("airflow.operators.bash_operator.BashOperator", {"bash_command", "env"}, {".sh", ".bash"}),
        ("airflow.operators.bash.BashOperator", {"bash_command", "env", "cwd"}, {".sh", ".bash"}),
        ("airflow.providers.standard.operators.bash.BashOperator", {"bash_command", "env", "cwd"}, {".sh"}),
        (
            "airflow.operators.python_operator.PythonOperator",
            {"templates_dict", "op_args", "op_kwargs"},
            set(),
        ),
        (
            "airflow.contrib.operators.bigquery_operator.BigQueryOperator",
            {"sql", "destination_dataset_table"},
            {".sql"},
        ),
        (
            "airflow.providers.common.sql.operators.sql.SQLExecuteQueryOperator",
            {"sql", "parameters"},
            {".sql"},
        ),
        ("airflow.operators.email.EmailOperator", {"to", "subject", "html_content"}, {".html"}),
    ],
)
def test_known_operators_have_their_templated_fields(
    name: str, fields: set[str], extensions: set[str]
) -> None:
    entry = classes()[name]
    assert fields <= set(entry["fields"])
    assert extensions <= set(entry["ext"])


def test_inherited_fields_are_resolved_through_base_classes() -> None:
    # BranchPythonOperator declares no template_fields of its own: it inherits PythonOperator's.
    for module in ("airflow.operators.python_operator", "airflow.providers.standard.operators.python"):
        branch = classes()[f"{module}.BranchPythonOperator"]
        assert set(branch["fields"]) == set(classes()[f"{module}.PythonOperator"]["fields"])


def test_every_entry_is_well_formed() -> None:
    assert len(classes()) > 1000
    for name, entry in classes().items():
        assert isinstance(entry["fields"], list) and isinstance(entry["ext"], list), name
        # Recorded as the class spells them: Airflow matches with str.endswith, so "yaml" (without a dot,
        # as SparkKubernetesOperator has it) is as valid as ".sql".
        assert all(isinstance(ext, str) and ext for ext in entry["ext"]), name
        assert entry["origin"], name
