"""`airshift config migrate` on configuration real Airflow 1.10.15 and 2.11.2 write, proven in real 3.3.2.

Each source runtime writes its own airflow.cfg (the full file Airflow creates on first use, with a real
Fernet key and webserver secret); values are changed as a team would have them; the file is also turned
into an env file and into Helm `config:` values. Each migrated result is loaded by real Airflow 3.3.2:
the moved values read back under their new names, and `airflow config lint` reports nothing but the
default changes airshift keeps on purpose (with --adopt-new-defaults: nothing at all). No output of
airshift contains a secret of the source or a generated one."""

from __future__ import annotations

import configparser
import json
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from airshift.cli import app
from airshift.platform.config_helm import yaml_round_trip
from airshift.verify.runtimes import Runtime

pytestmark = pytest.mark.integration

BASE_URL = "https://airflow.example.com"
BROKER_PASSWORD = "broker-pw-7731"
RESULT_PASSWORD = "result-pw-9917"
# Options airshift keeps explicit on purpose; lint notes them as "Changed default value".
KEPT_ON_PURPOSE = {
    "catchup_by_default",
    "create_cron_data_intervals",
    "create_delta_data_intervals",
    "executor",
}

# Changes per source, written with the names that release uses: (section, option, value).
CHANGES = {
    "1.10.15": [
        ("core", "executor", "CeleryExecutor"),
        ("core", "dag_concurrency", "24"),
        ("webserver", "base_url", BASE_URL),
        ("scheduler", "max_threads", "6"),
        ("celery", "worker_concurrency", "12"),
        ("celery", "broker_url", f"redis://:{BROKER_PASSWORD}@redis:6379/0"),
        ("celery", "result_backend", f"db+postgresql://airflow:{RESULT_PASSWORD}@db/airflow"),
        ("core", "logging_level", "WARNING"),
    ],
    "2.11.2": [
        ("core", "executor", "CeleryExecutor"),
        ("core", "max_active_tasks_per_dag", "24"),
        ("webserver", "base_url", BASE_URL),
        ("scheduler", "parsing_processes", "6"),
        ("celery", "worker_concurrency", "12"),
        ("celery", "broker_url", f"redis://:{BROKER_PASSWORD}@redis:6379/0"),
        ("celery", "result_backend", f"db+postgresql://airflow:{RESULT_PASSWORD}@db/airflow"),
        ("logging", "logging_level", "WARNING"),
    ],
}
# What Airflow 3.3.2 must read back after migration.
EXPECTED = {
    ("api", "base_url"): BASE_URL,
    ("core", "executor"): "CeleryExecutor",
    ("core", "max_active_tasks_per_dag"): "24",
    ("dag_processor", "parsing_processes"): "6",
    ("celery", "worker_concurrency"): "12",
    ("logging", "logging_level"): "WARNING",
    ("scheduler", "catchup_by_default"): "True",
    ("core", "execution_api_server_url"): BASE_URL + "/execution/",
}

PROBE = r"""
import json, sys
from airflow.configuration import conf
keys = json.loads(sys.argv[1])
values = {f"{s}.{o}": conf.get(s, o, fallback=None) for s, o in keys}
print("VALUES " + json.dumps(values), flush=True)
from airflow.cli import cli_parser
args = cli_parser.get_parser().parse_args(["config", "lint"])
args.func(args)
"""


def _write_default_cfg(runtime: Runtime, home: Path) -> Path:
    """Let the real release write its airflow.cfg (1.10: any command; 2.x: any but `version`)."""
    env = runtime.env()
    env.pop("AIRFLOW_CONFIG", None)
    env["AIRFLOW_HOME"] = str(home)
    command = ["version"] if runtime.airflow_major == 1 else ["config", "get-value", "core", "executor"]
    subprocess.run(
        [str(runtime.bin_dir / "airflow"), *command], env=env, capture_output=True, check=True, timeout=600
    )
    path = home / "airflow.cfg"
    assert path.exists(), f"Airflow {runtime.airflow_version} wrote no airflow.cfg"
    return path


def _set_options(text: str, changes: list[tuple[str, str, str]]) -> str:
    """Set values in the written file the way a person edits it: replace the line, or add one."""
    lines = text.splitlines()
    for section, option, value in changes:
        if f"[{section}]" not in lines:  # e.g. [celery] when the celery provider is not installed
            lines += ["", f"[{section}]"]
        start = lines.index(f"[{section}]")
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
        for index in range(start + 1, end):
            if re.match(rf"^#?\s*{option}\s*=", lines[index]):
                lines[index] = f"{option} = {value}"
                break
        else:
            lines.insert(start + 1, f"{option} = {value}")
    return "\n".join(lines) + "\n"


def _as_env(cfg_text: str) -> str:
    parser = configparser.RawConfigParser()
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(cfg_text)
    lines = ["# the same settings as environment variables"]
    for section in parser.sections():
        for option, value in parser.items(section):
            if "\n" not in value:
                lines.append(f"AIRFLOW__{section.upper()}__{option.upper()}={value.replace('%%', '%')}")
    return "\n".join(lines) + "\n"


def _as_helm(cfg_text: str) -> str:
    parser = configparser.RawConfigParser()
    parser.read_string(cfg_text)
    config = {s: dict(parser.items(s)) for s in parser.sections() if parser.items(s)}
    import io

    buffer = io.StringIO()
    yaml_round_trip().dump({"executor": "CeleryExecutor", "config": config}, buffer)
    return "# Helm values of the old deployment\n" + buffer.getvalue()


@dataclass
class Source:
    version: str
    written: str  # the file as the release wrote it
    cfg: str  # the real file with the changes
    secrets: list[str]  # values that must never be printed


@pytest.fixture(scope="module")
def sources(
    runtime_110: Runtime, runtime_211: Runtime, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Source]:
    found = {}
    for runtime in (runtime_110, runtime_211):
        home = tmp_path_factory.mktemp(f"home-{runtime.airflow_version}")
        written = _write_default_cfg(runtime, home).read_text()
        parser = configparser.RawConfigParser()
        parser.read_string(written)
        secrets = [BROKER_PASSWORD, RESULT_PASSWORD, parser.get("core", "fernet_key")]
        if parser.has_option("webserver", "secret_key"):
            secrets.append(parser.get("webserver", "secret_key"))
        assert all(len(s) > 8 for s in secrets)
        found[runtime.airflow_version] = Source(
            runtime.airflow_version, written, _set_options(written, CHANGES[runtime.airflow_version]), secrets
        )
    return found


def _env_lines(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, value = line.removeprefix("export ").split("=", 1)
            found[name.strip()] = value.strip().strip("'\"")
    return found


def _helm_to_airflow(values_path: Path, secrets_path: Path, home: Path) -> tuple[Path, dict[str, str]]:
    """What the chart does with the values: `config:` rendered into airflow.cfg, `env:` items and the
    referenced Secrets as environment variables."""
    data = yaml_round_trip().load(values_path.read_text())
    lines = []
    for section, options in data["config"].items():
        lines.append(f"[{section}]")
        for option, value in options.items():
            lines.append(f"{option} = {value}")
    cfg = home / "rendered-airflow.cfg"
    cfg.write_text("\n".join(lines) + "\n")
    env = {item["name"]: str(item["value"]) for item in data.get("env") or []}
    env["AIRFLOW__CORE__EXECUTOR"] = str(data["executor"])
    manifests = yaml_round_trip().load_all(secrets_path.read_text())
    by_name = {doc["metadata"]["name"]: doc["stringData"] for doc in manifests}
    # [api] secret_key either came from the source's [webserver] secret_key (then it is in `config:`)
    # or was generated into a Secret; the JWT secret is always generated.
    if "apiSecretKeySecretName" in data:
        env["AIRFLOW__API__SECRET_KEY"] = by_name[data["apiSecretKeySecretName"]]["api-secret-key"]
    env["AIRFLOW__API_AUTH__JWT_SECRET"] = by_name[data["jwtSecretName"]]["jwt-secret"]
    return cfg, env


@dataclass
class Case:
    name: str
    version: str
    fmt: str
    adopt: bool = False


CASES = [
    Case("110-cfg", "1.10.15", "cfg"),
    Case("110-env", "1.10.15", "env"),
    Case("110-helm", "1.10.15", "helm"),
    Case("211-cfg", "2.11.2", "cfg"),
    Case("211-env", "2.11.2", "env"),
    Case("211-helm", "2.11.2", "helm"),
]


def _migrate(case: Case, source: Source, folder: Path) -> tuple[Path, Path, str]:
    """Run the CLI as a user would (with --diff); return output, secrets file and everything printed."""
    text = {"cfg": source.cfg, "env": _as_env(source.cfg), "helm": _as_helm(source.cfg)}[case.fmt]
    name = {"cfg": "airflow.cfg", "env": "airflow.env", "helm": "values.yaml"}[case.fmt]
    original = folder / name
    original.write_text(text)
    output = folder / ("migrated-" + name)
    arguments = ["config", "migrate", str(original), "-o", str(output), "--diff"]
    if case.adopt:
        arguments.append("--adopt-new-defaults")
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    secrets = sorted(folder.glob("*secrets*"))
    assert len(secrets) == 1, secrets
    assert (secrets[0].stat().st_mode & 0o777) == 0o600
    return output, secrets[0], result.output


def _probe(runtime: Runtime, home: Path, cfg: Path, extra_env: dict[str, str]) -> tuple[dict[str, str], str]:
    env = {k: v for k, v in runtime.env().items() if not k.startswith("AIRFLOW")}
    env.update({"AIRFLOW_HOME": str(home), "AIRFLOW_CONFIG": str(cfg), **extra_env})
    keys = [list(key) for key in EXPECTED] + [["api_auth", "jwt_secret"], ["api", "secret_key"]]
    done = subprocess.run(
        [str(runtime.python), "-c", PROBE, json.dumps(keys)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    values_line = next(line for line in done.stdout.splitlines() if line.startswith("VALUES "))
    return json.loads(values_line.removeprefix("VALUES ")), done.stdout.split(values_line, 1)[1]


def _lint_issues(lint_output: str) -> list[str]:
    return [line.strip()[2:] for line in lint_output.splitlines() if line.strip().startswith("- ")]


def test_migrated_configuration_loads_and_lints_clean_in_airflow_33(
    sources: dict[str, Source], runtime_33: Runtime, tmp_path: Path
) -> None:
    # Migrations run in this process one after another (CliRunner swaps sys.stdout, so not in
    # threads); the Airflow 3.3.2 probes, separate processes, run two at a time.
    prepared = []
    for case in CASES:
        source = sources[case.version]
        folder = tmp_path / case.name
        folder.mkdir()
        output, secrets_file, printed = _migrate(case, source, folder)
        if case.fmt == "helm":
            cfg, env = _helm_to_airflow(output, secrets_file, folder)
            names = ("AIRFLOW__API__SECRET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET")
            generated = [value for name, value in env.items() if name in names]
        else:
            secret_env = _env_lines(secrets_file)
            generated = list(secret_env.values())
            if case.fmt == "cfg":
                cfg, env = output, secret_env
            else:
                cfg = folder / "empty.cfg"
                cfg.write_text("")
                env = {**_env_lines(output), **secret_env}
        for secret in [*source.secrets, *generated]:
            assert secret not in printed, f"{case.name}: a secret reached the output"
        prepared.append((case, folder, cfg, env, generated))

    def check(item: tuple[Case, Path, Path, dict[str, str], list[str]]) -> None:
        case, folder, cfg, env, generated = item
        values, lint = _probe(runtime_33, folder, cfg, env)
        for (section, option), expected in EXPECTED.items():
            if case.fmt == "helm" and option == "execution_api_server_url":
                continue  # the chart sets it to its api-server Service; migrate leaves it to the chart
            assert (values[f"{section}.{option}"] or "").lower() == expected.lower(), (
                case.name,
                section,
                option,
            )
        assert values["api_auth.jwt_secret"] in generated
        assert values["api.secret_key"]
        issues = _lint_issues(lint)
        unexpected = [
            i for i in issues if not any(f"`{name}`" in i.split(" in ")[0] for name in KEPT_ON_PURPOSE)
        ]
        assert not unexpected, (case.name, unexpected)
        assert all(issue.startswith("Changed default value") for issue in issues), (case.name, issues)

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(check, prepared))


def test_adopting_new_defaults_lints_with_no_issue_at_all(
    sources: dict[str, Source], runtime_33: Runtime, tmp_path: Path
) -> None:
    """The file 2.11.2 writes, untouched but for the base URL (SequentialExecutor, catchup True)."""
    written = sources["2.11.2"].written
    source = Source("2.11.2", written, _set_options(written, [("webserver", "base_url", BASE_URL)]), [])
    folder = tmp_path / "adopt"
    folder.mkdir()
    output, secrets_file, _printed = _migrate(Case("211-adopt", "2.11.2", "cfg", adopt=True), source, folder)
    values, lint = _probe(runtime_33, folder, output, _env_lines(secrets_file))
    assert values["scheduler.catchup_by_default"] == "False"
    assert values["core.executor"] == "LocalExecutor"
    assert _lint_issues(lint) == [], lint
    assert "No issues found" in lint
