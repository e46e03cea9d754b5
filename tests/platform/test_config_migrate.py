"""`airshift config migrate` on each format: layout kept, secrets only in their own file, idempotent."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from typer.testing import CliRunner

from airshift.cli import app
from airshift.platform.config_migrate import MigrateRequest, masked_diff, migrate_config
from airshift.platform.config_plan import Options

CFG = """\
# Our Airflow 2 settings
[core]
# where DAGs live
dags_folder = /opt/dags
executor = CeleryExecutor
sql_alchemy_conn = postgresql://airflow:pw-in-url-123@db/airflow
log_filename_template = dag_id={{ ti.dag_id }}/run_id={{ ti.run_id }}/task_id={{ ti.task_id }}/{%% if ti.map_index >= 0 %%}map_index={{ ti.map_index }}/{%% endif %%}attempt={{ try_number }}.log

[webserver]
base_url = https://airflow.example.com
secret_key = webserver-secret-456
web_server_port = 8080

[scheduler]
catchup_by_default = True
max_threads = 4

[my_plugin]
colour = blue
"""

ENV = """\
# compose env file
AIRFLOW__CORE__EXECUTOR=CeleryExecutor
export AIRFLOW__WEBSERVER__BASE_URL="https://airflow.example.com"
AIRFLOW__WEBSERVER__SECRET_KEY=webserver-secret-456
AIRFLOW__CORE__SQL_ALCHEMY_CONN_CMD=cat /run/secrets/db
NOT_AIRFLOW=1
"""

HELM = """\
# values for the Airflow 2 deployment
executor: CeleryExecutor
config:
  core:
    dag_concurrency: 32  # per DAG
    load_examples: 'False'
  webserver:
    base_url: https://airflow.example.com
    workers: 4
env:
  - name: AIRFLOW__SCHEDULER__MAX_THREADS
    value: "4"
"""

SECRETS = ("pw-in-url-123", "webserver-secret-456")


def _run(tmp_path: Path, name: str, text: str, **options: object):
    source = tmp_path / name
    source.write_text(text)
    output = tmp_path / ("out-" + name)
    result = migrate_config(MigrateRequest(source=source, output=output, options=Options(**options)))  # type: ignore[arg-type]
    return source, output, result


def _generated(secrets_file: Path) -> list[str]:
    values = []
    for line in secrets_file.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            values.append(line.split("=", 1)[1])
        elif ":" in line and line.startswith("  ") and "-" in line.split(":", 1)[0]:
            values.append(line.split(":", 1)[1].strip())
    return [v for v in values if len(v) > 20]


def test_cfg_keeps_comments_and_order_and_moves_options(tmp_path: Path) -> None:
    _source, output, result = _run(tmp_path, "airflow.cfg", CFG)
    text = output.read_text()
    assert text.startswith("# Our Airflow 2 settings\n[core]\n# where DAGs live\ndags_folder = /opt/dags\n")
    assert "[api]\n" in text and "base_url = https://airflow.example.com" in text
    assert "[database]" in text and "sql_alchemy_conn = postgresql://airflow:pw-in-url-123@db/airflow" in text
    assert "port = 8080" in text
    assert not any(line.startswith("web_server_port") for line in text.splitlines())
    assert "[dag_processor]" in text and "parsing_processes = 4" in text
    assert "catchup_by_default = True" in text
    assert "[my_plugin]\ncolour = blue" in text
    # The 2.x default template is removed (Airflow 3 has its own); `%%` handling kept it matchable.
    assert "removed [core] log_filename_template" in text
    # Generated secrets: only in the mode-600 file, referenced by name.
    assert result.secrets_file is not None
    assert stat.S_IMODE(result.secrets_file.stat().st_mode) == 0o600
    generated = _generated(result.secrets_file)
    assert len(generated) == 1  # jwt_secret; [api] secret_key came from [webserver]
    assert all(value not in text for value in generated)
    assert "AIRFLOW__API_AUTH__JWT_SECRET" in result.secrets_file.read_text()


def test_second_run_changes_nothing(tmp_path: Path) -> None:
    _source, output, first = _run(tmp_path, "airflow.cfg", CFG)
    assert first.secrets_file is not None
    before = first.secrets_file.read_text()
    again = migrate_config(MigrateRequest(source=output, secrets_file=first.secrets_file))
    assert not again.changed
    assert not again.plan.needs_changes
    assert first.secrets_file.read_text() == before  # secrets are reused, never rotated


def test_env_file_renames_variables_in_place(tmp_path: Path) -> None:
    _source, output, result = _run(tmp_path, "airflow.env", ENV)
    lines = output.read_text().splitlines()
    assert lines[0] == "# compose env file"
    assert lines[2] == 'export AIRFLOW__API__BASE_URL="https://airflow.example.com"'
    assert lines[3] == "AIRFLOW__API__SECRET_KEY=webserver-secret-456"
    assert lines[4] == "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD=cat /run/secrets/db"
    assert lines[5] == "NOT_AIRFLOW=1"
    assert "AIRFLOW__CORE__EXECUTION_API_SERVER_URL=https://airflow.example.com/execution/" in lines
    assert (
        result.secrets_file is not None
        and "AIRFLOW__API_AUTH__JWT_SECRET=" in result.secrets_file.read_text()
    )


def test_helm_values_keep_comments_and_reference_secrets_by_name(tmp_path: Path) -> None:
    _source, output, result = _run(tmp_path, "values.yaml", HELM)
    text = output.read_text()
    assert text.startswith("# values for the Airflow 2 deployment\nexecutor: CeleryExecutor\n")
    assert re.search(r"max_active_tasks_per_dag: 32 +# per DAG", text)
    assert "webserver:" not in text
    assert "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES" in text
    assert "jwtSecretName: airflow-jwt-secret" in text
    assert "apiSecretKeySecretName: airflow-api-secret-key" in text
    # The chart sets these itself.
    assert "execution_api_server_url" not in text and "auth_manager" not in text
    assert result.secrets_file is not None
    assert stat.S_IMODE(result.secrets_file.stat().st_mode) == 0o600
    assert "kind: Secret" in result.secrets_file.read_text()
    assert all(value not in text for value in _generated(result.secrets_file))


def test_diff_masks_every_secret(tmp_path: Path) -> None:
    for name, text in (("airflow.cfg", CFG), ("airflow.env", ENV), ("values.yaml", HELM)):
        _source, _output, result = _run(tmp_path, name, text)
        diff = masked_diff(result)
        assert ("+" in diff and "***" in diff) or name == "values.yaml"
        for secret in SECRETS:
            assert secret not in diff


def test_cli_check_diff_and_errors(tmp_path: Path) -> None:
    source = tmp_path / "airflow.cfg"
    source.write_text(CFG)
    runner = CliRunner()
    checked = runner.invoke(app, ["config", "migrate", str(source), "--check", "--diff"])
    assert checked.exit_code == 1, checked.output
    assert source.read_text() == CFG  # --check writes nothing
    assert not list(tmp_path.glob("*secrets*"))
    for secret in SECRETS:
        assert secret not in checked.output
    assert "[webserver] base_url -> [api] base_url" in checked.output

    done = runner.invoke(app, ["config", "migrate", str(source), "-o", str(tmp_path / "new.cfg")])
    assert done.exit_code == 0, done.output
    generated = _generated(tmp_path / "new-secrets.env")
    assert generated and all(value not in done.output for value in generated)
    for secret in SECRETS:
        assert secret not in done.output
    again = runner.invoke(app, ["config", "migrate", str(tmp_path / "new.cfg"), "--check"])
    assert again.exit_code == 0, again.output


def test_bad_input_is_one_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "airflow.cfg"
    broken.write_text("[core]\nexecutor = LocalExecutor\nthis is not an option\n")
    runner = CliRunner()
    result = runner.invoke(app, ["config", "migrate", str(broken)])
    assert result.exit_code != 0
    assert "line 3" in str(result.exception) or "line 3" in result.output
    missing = runner.invoke(app, ["config", "migrate", str(tmp_path / "nope.cfg")])
    assert "no such file" in str(missing.exception) + missing.output
