"""`airshift transfer --from http(s)://...`: a real Airflow 3.3.2 api-server (`/api/v2`, JWT) and a real
Airflow 2.11.2 webserver (`/api/v1`, basic auth) read as SOURCES, written into a real Airflow 3.3.2
target and read back through Airflow 3's own models.

What the APIs cannot give must be explicit: passwords stop the run unless --allow-missing-passwords,
masked values (3.x sensitive variable keys, sensitive extra keys) are left out and named, never written
as `***`; history over the API is refused; errors are one line, exit code 2, no secret in any output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import Result
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from airshift.cli import app
from airshift.errors import AirshiftError
from airshift.state.credentials import ApiAuth
from airshift.state.secret import Secret
from airshift.state.sources.api import open_source, read_api_state
from tests.state.airflow2_webserver import Webserver, airflow2_webserver
from tests.state.airflow3_target import Target, airflow3_target
from tests.state.source_fixtures import CONNECTIONS, PAUSED, POOLS, VARIABLES, fill_211

pytestmark = pytest.mark.integration

# What the 3.x source holds beyond the shared fixture values (see seed_airflow3).
NESTED_SECRET = "nested-tok-9f8e7d"
EXTRA_API_KEY = "k-live-5c4b3a2d"
KEY_API_PASSWORD = "key-api-pw-77"
PRETTY_JSON = '{\n  "a": 1,\n  "b": [\n    true\n  ]\n}'
SECRETS = [
    *(password for (_t, _h, _l, password, *_rest) in CONNECTIONS.values()),
    VARIABLES["db_password"],
    NESTED_SECRET,
    EXTRA_API_KEY,
    KEY_API_PASSWORD,
]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with airflow3_target(tmp_path_factory.mktemp("af33-target")) as started:
        yield started


@pytest.fixture(scope="module")
def source3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    with airflow3_target(tmp_path_factory.mktemp("af33-source")) as started:
        seed_airflow3(started)
        yield started


@pytest.fixture(scope="module")
def source2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Webserver]:
    with airflow2_webserver(tmp_path_factory.mktemp("af211-source")) as started:
        # The shared 2.11 fill, through the CLI while the webserver runs. The "rotation" re-inserts the
        # running key: the webserver keeps the key list it started with and must decrypt every value.
        fill_211(started.env, rotated_key=started.env.fernet_keys[0])
        # A sensitive extra key: Airflow 2 masks it too (hide_sensitive_var_conn_fields).
        started.env.cli_batch([["connections", "add", "key_api", "--conn-type", "http", "--conn-host",
                                "k.example.invalid", "--conn-password", KEY_API_PASSWORD, "--conn-extra",
                                json.dumps({"api_key": EXTRA_API_KEY, "region": "eu"})]])  # fmt: skip
        yield started


def jwt(server: Target) -> str:
    response = httpx.post(
        f"{server.base_url}/auth/token",
        json={"username": "admin", "password": server.password_file.read_text().strip()},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def seed_airflow3(source: Target) -> None:
    """Fill the 3.x source through its own REST API: the shared variables (one with a sensitive key),
    a JSON value with a sensitive key inside, pretty-printed JSON, the shared connections (passwords),
    one with a sensitive extra key, one without any secret, the shared pools and paused flags."""
    headers = {"Authorization": f"Bearer {jwt(source)}"}
    with httpx.Client(base_url=f"{source.base_url}/api/v2", headers=headers, timeout=60) as client:

        def post(path: str, body: dict[str, object]) -> None:
            response = client.post(path, json=body)
            assert response.status_code == 201, (path, response.status_code)

        for key, value in VARIABLES.items():
            description = None if key == "early_var" else f"about {key}"
            post("/variables", {"key": key, "value": value, "description": description})
        post("/variables", {"key": "nested_cfg", "value": json.dumps({"url": "u", "token": NESTED_SECRET})})
        post("/variables", {"key": "pretty_json", "value": PRETTY_JSON})
        for conn_id, (conn_type, host, login, password, port, schema, extra) in CONNECTIONS.items():
            post("/connections", {"connection_id": conn_id, "conn_type": conn_type, "host": host, "login": login,
                                  "password": password, "port": port, "schema": schema,
                                  "extra": json.dumps(extra)})  # fmt: skip
        post("/connections", {"connection_id": "key_api", "conn_type": "http", "host": "k.example.invalid",
                              "password": KEY_API_PASSWORD,
                              "extra": json.dumps({"api_key": EXTRA_API_KEY, "region": "eu"})})  # fmt: skip
        post("/connections", {"connection_id": "no_secret", "conn_type": "http", "host": "open.example.invalid",
                              "description": "no password"})  # fmt: skip
        for name, (slots, description) in POOLS.items():
            post(
                "/pools", {"name": name, "slots": slots, "description": description, "include_deferred": True}
            )
        for dag_id, paused in PAUSED.items():
            response = client.patch(f"/dags/{dag_id}", json={"is_paused": paused})
            assert response.status_code == 200, (dag_id, response.status_code)


def run(args: list[str], extra_secrets: list[str]) -> Result:
    result = CliRunner().invoke(app, ["transfer", *args], env={"COLUMNS": "250"})
    text_out = result.output + (str(result.exception) if result.exception else "")
    for secret in [*SECRETS, *extra_secrets]:
        assert secret not in text_out
    return result


def to_target(target: Target, ledger: Path) -> list[str]:
    return ["--to", target.base_url, "--to-user", "admin", "--to-password-file", str(target.password_file),
            "--ledger", str(ledger)]  # fmt: skip


def reset_target(target: Target) -> None:
    """Empty the target's variables, connections and extra pools, and pause its DAGs again."""
    engine = create_engine(target.db_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM variable"))
        connection.execute(text("DELETE FROM connection"))
        connection.execute(text("DELETE FROM slot_pool WHERE pool != 'default_pool'"))
        connection.execute(text("UPDATE dag SET is_paused = true"))
    engine.dispose()


def test_airflow3_api_source_to_airflow3(source3: Target, target: Target, tmp_path: Path) -> None:
    reset_target(target)
    ledger = tmp_path / "ledger.sqlite"
    secrets = [source3.password_file.read_text(), target.password_file.read_text()]
    source_args = ["--from", f"{source3.base_url}/", "--from-user", "admin",
                   "--from-password-file", str(source3.password_file)]  # fmt: skip
    before = target.state()

    refused = run([*source_args, *to_target(target, ledger)], secrets)
    assert isinstance(refused.exception, AirshiftError), refused.output
    message = str(refused.exception)
    assert "2 connection(s) would arrive without their password ('api_http', 'warehouse_db')" in message
    assert "redacted as ***" in message and "--allow-missing-passwords" in message
    assert "--from-fernet-key-file" in message and "connections export" in message
    assert target.state() == before

    done = run([*source_args, *to_target(target, ledger), "--allow-missing-passwords"], secrets)
    assert done.exit_code == 0, done.output
    output = " ".join(done.output.split())
    assert "source: Airflow 3.3.2 REST API (/api/v2)" in output
    assert "variable 'db_password' left out: its value comes back masked (***)" in output
    assert "variable 'nested_cfg' left out" in output
    assert "connection 'key_api' left out: its extra comes back with masked field(s) api_key" in output
    assert "connection 'warehouse_db' transferred without a password" in output
    assert "variable(s) hold JSON, which the Airflow 3 API returns re-serialized" in output

    state = target.state()
    assert isinstance(state["variables"], dict)
    variables = dict(state["variables"])
    expected = {
        key: [value, None if key == "early_var" else f"about {key}"] for key, value in VARIABLES.items()
    }
    del expected["db_password"]  # masked by the source API: not written, not as "***" either
    pretty = variables.pop("pretty_json")
    assert variables == expected
    assert json.loads(pretty[0]) == json.loads(PRETTY_JSON)  # equal JSON, re-serialized by the API

    connections = state["connections"]
    assert isinstance(connections, dict)
    assert set(connections) == {"api_http", "warehouse_db", "no_secret"}
    for conn_id, (conn_type, host, login, _password, port, schema, extra) in CONNECTIONS.items():
        got = connections[conn_id]
        assert got[:6] == [conn_type, host, login, None, port, schema], conn_id
        assert json.loads(got[6]) == extra
    assert connections["no_secret"] == [
        "http",
        "open.example.invalid",
        None,
        None,
        None,
        None,
        None,
        "no password",
    ]
    pools = state["pools"]
    assert isinstance(pools, dict)
    assert {name: tuple(pools[name]) for name in POOLS} == POOLS
    assert state["paused"] == PAUSED
    assert "***" not in json.dumps(state)

    # Again, with a token instead of a user: nothing left to write.
    token_file = tmp_path / "source.token"
    token_file.write_text(jwt(source3))
    again = run(["--from", source3.base_url, "--from-token-file", str(token_file),
                 *to_target(target, ledger), "--allow-missing-passwords"], [*secrets, token_file.read_text()])  # fmt: skip
    assert again.exit_code == 0, again.output
    assert "wrote 0 object(s)" in again.output
    assert target.state() == state

    history = run([*source_args, *to_target(target, ledger), "--to-db", target.db_url], secrets)
    assert isinstance(history.exception, AirshiftError)
    assert "run history is not read over the REST API" in str(history.exception)


def test_airflow2_api_source_to_airflow3(source2: Webserver, target: Target, tmp_path: Path) -> None:
    reset_target(target)
    ledger = tmp_path / "ledger.sqlite"
    secrets = [source2.password_file.read_text(), target.password_file.read_text()]
    source_args = ["--from", source2.base_url, "--from-user", source2.user,
                   "--from-password-file", str(source2.password_file)]  # fmt: skip

    refused = run([*source_args, *to_target(target, ledger), "--what", "connections"], secrets)
    assert isinstance(refused.exception, AirshiftError), refused.output
    assert "the Airflow 2 API never returns passwords (write-only)" in str(refused.exception)
    assert "'api_http'" in str(refused.exception) and "'warehouse_db'" in str(refused.exception)

    # Paused state honours --dags.
    only_etl = run([*source_args, *to_target(target, ledger), "--what", "paused", "--dags", "etl_*",
                    "--dry-run"], secrets)  # fmt: skip
    assert only_etl.exit_code == 0, only_etl.output
    assert "etl_daily" in only_etl.output and "reports_hourly" not in only_etl.output

    done = run([*source_args, *to_target(target, ledger), "--allow-missing-passwords"], secrets)
    assert done.exit_code == 0, done.output
    output = " ".join(done.output.split())
    assert "source: Airflow 2.11.2 REST API (/api/v1)" in output
    assert "connection 'key_api' left out: its extra comes back with masked field(s) api_key" in output
    assert "connection 'warehouse_db' transferred without a password" in output
    state = target.state()
    # Airflow 2's API returns variable values as stored (no masking there), descriptions included.
    assert state["variables"] == {
        key: [value, None if key == "early_var" else f"about {key}"] for key, value in VARIABLES.items()
    }
    connections = state["connections"]
    assert isinstance(connections, dict)
    assert "key_api" not in connections
    for conn_id, (conn_type, host, login, _password, port, schema, extra) in CONNECTIONS.items():
        got = connections[conn_id]
        assert got[:6] == [conn_type, host, login, None, port, schema], conn_id
        assert json.loads(got[6]) == extra
    pools = state["pools"]
    assert isinstance(pools, dict)
    assert {name: tuple(pools[name]) for name in POOLS} == POOLS
    assert state["paused"] == PAUSED
    assert "***" not in json.dumps(state)

    again = run([*source_args, *to_target(target, ledger), "--allow-missing-passwords"], secrets)
    assert again.exit_code == 0, again.output
    assert "wrote 0 object(s)" in again.output


def _clean_env() -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("AIRSHIFT_")}
    env["COLUMNS"] = "250"
    return env


def cli(args: list[str], secrets: list[str]) -> subprocess.CompletedProcess[str]:
    """`python -m airshift transfer ...` as a user runs it: exit code and both streams."""
    completed = subprocess.run(
        [sys.executable, "-m", "airshift", "transfer", *args],
        capture_output=True, text=True, timeout=300, check=False, env=_clean_env(),
    )  # fmt: skip
    both = completed.stdout + completed.stderr
    assert "Traceback" not in both
    for secret in [*SECRETS, *secrets]:
        assert secret not in both
    return completed


def test_cli_errors_are_one_line(source3: Target, source2: Webserver, target: Target, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.password"
    wrong.write_text("not-the-password-31337")
    secrets = [wrong.read_text(), source3.password_file.read_text(), target.password_file.read_text()]
    target_args = to_target(target, tmp_path / "ledger.sqlite")

    bad3 = cli(["--from", source3.base_url, "--from-user", "admin", "--from-password-file", str(wrong),
                *target_args], secrets)  # fmt: skip
    assert bad3.returncode == 2
    assert bad3.stderr.strip() == (
        f"error: login to {source3.base_url}/auth/token as 'admin' failed: HTTP 401 (wrong user name or password)"
    )

    bad2 = cli(["--from", source2.base_url, "--from-user", "admin", "--from-password-file", str(wrong),
                *target_args], secrets)  # fmt: skip
    assert bad2.returncode == 2
    line = bad2.stderr.strip()
    # Airflow 2.11 answers a wrong basic-auth password with 403.
    assert "\n" not in line and source2.base_url in line and "(HTTP 403): wrong user name or password" in line

    bogus = tmp_path / "bogus.token"
    bogus.write_text("bogus-token-value")
    anonymous = cli(["--from", source3.base_url, "--from-token-file", str(bogus), *target_args],
                    [*secrets, "bogus-token-value"])  # fmt: skip
    assert anonymous.returncode == 2
    # Airflow 3 answers an invalid token with 403.
    assert "(HTTP 403): an invalid or expired token" in anonymous.stderr
    assert "\n" not in anonymous.stderr.strip()

    nothing = cli(["--from", source3.base_url, *target_args], secrets)
    assert nothing.returncode == 2
    assert "needs credentials (HTTP 40" in nothing.stderr and "--from-token-file" in nothing.stderr

    closed = cli(["--from", "http://127.0.0.1:9/", *target_args], secrets)
    assert closed.returncode == 2
    assert closed.stderr.strip().startswith("error: cannot reach the source API server http://127.0.0.1:9: ")

    # A web server that is not Airflow: the target's DAG-less neighbour, its /auth path.
    not_airflow = cli(["--from", f"{target.base_url}/auth/login", *target_args], secrets)
    assert not_airflow.returncode == 2
    assert "is not an Airflow webserver or API server" in not_airflow.stderr
    assert "\n" not in not_airflow.stderr.strip()


def test_pages_are_followed(source3: Target, source2: Webserver, tmp_path: Path) -> None:
    """More objects than a page holds (servers cap pages at 100): every one is read, on both APIs."""
    names = [f"page_{number:03d}" for number in range(230)]
    headers = {"Authorization": f"Bearer {jwt(source3)}"}
    entities = [{"key": name, "value": f"value of {name}"} for name in names]
    with httpx.Client(base_url=f"{source3.base_url}/api/v2", headers=headers, timeout=120) as client:
        created = client.patch("/variables", json={"actions": [{"action": "create", "entities": entities}]})
        assert created.status_code == 200 and created.json()["create"]["errors"] == []
        try:
            source = open_source(source3.base_url, ApiAuth(token=Secret(headers["Authorization"][7:])))
            try:
                state = read_api_state(source, ("variables",), None)
            finally:
                source.close()
        finally:
            deleted = client.patch("/variables", json={"actions": [{"action": "delete", "entities": names}]})
            assert deleted.status_code == 200
    read = {v.key: v.value.reveal() for v in state.variables}
    assert {name: read[name] for name in names} == {name: f"value of {name}" for name in names}
    # The fixture variables and pretty_json; db_password and nested_cfg are masked, left out.
    assert set(read) == {*names, *VARIABLES, "pretty_json"} - {"db_password"}

    pools_file = tmp_path / "pools.json"
    pools_file.write_text(json.dumps({name: {"slots": 1, "description": name} for name in names}))
    source2.env.cli_batch([["pools", "import", str(pools_file)]])
    try:
        password = Secret(source2.password_file.read_text().strip())
        source = open_source(source2.base_url, ApiAuth(user=source2.user, password=password))
        try:
            assert (source.api, source.version) == ("v1", "2.11.2")
            pools = read_api_state(source, ("pools",), None).pools
        finally:
            source.close()
    finally:
        source2.env.cli_batch([["pools", "delete", name] for name in names])
    assert [pool.name for pool in pools if pool.name.startswith("page_")] == names
    assert len(pools) == len(names) + len(POOLS) + 1  # + default_pool
