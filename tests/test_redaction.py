"""The one redaction layer: secrets planted in every option and variable of every command that takes
credentials never appear in stdout, stderr, or any file the commands write (reports, ledgers, logs)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from airshift import redaction
from tests.state.airflow_envs import free_port

URL_PASSWORD = "urlpw-Qk93xZrT"
FILE_PASSWORD = "filepw-Lm28vBnY"
TOKEN = "token-Hs71pWqE-0123456789abcdefghijkl"
ENV_PASSWORD = "envpw-Tz64cXaU"
CONNECTION_PASSWORD = "connpw-Rb55yNdK"
FERNET_KEY = Fernet.generate_key().decode()
SECRETS = (URL_PASSWORD, FILE_PASSWORD, TOKEN, ENV_PASSWORD, CONNECTION_PASSWORD, FERNET_KEY)


def test_redact_masks_url_passwords_query_secrets_and_remembered_values() -> None:
    redaction.remember("remembered-Pq19")
    text = (
        "postgresql://user:s3cr%40t@db:5432/x https://h/api?token=abc123&page=2 "
        "value remembered-Pq19 and remembered-Pq19"
    )
    assert redaction.redact(text) == (
        "postgresql://user:***@db:5432/x https://h/api?token=***&page=2 value *** and ***"
    )
    assert (
        redaction.redact("http://host:8080/path user@example.com") == "http://host:8080/path user@example.com"
    )
    redaction.remember("abc")  # too short to mask without masking ordinary words
    assert redaction.redact("abc") == "abc"


@pytest.mark.parametrize(
    "parameter",
    ["password", "PASSWD", "pwd", "token", "Access_Token", "api_key", "apikey", "secret", "client_secret",
     "sig", "signature"],
)  # fmt: skip
def test_every_credential_parameter_passes_the_quick_pre_check(parameter: str) -> None:
    """redact skips the pattern when none of its words is in the text; each word the pattern knows must
    get through that check, in a short text and inside megabytes of report."""
    assert redaction.redact(f"GET https://h/x?{parameter}=s3cr3tvalue") == f"GET https://h/x?{parameter}=***"
    bulk = "AS101 line 3: `airflow.operators.bash_operator` moved\n" * 50_000
    assert redaction.redact(f"{bulk}see h/x;{parameter}=s3cr3tvalue\n{bulk}").count("s3cr3tvalue") == 0


def test_the_stream_wrapper_redacts_what_is_written() -> None:
    redaction.remember("streamed-Wx42")
    sink = io.StringIO()
    stream = redaction.RedactingStream(sink)
    stream.write("a streamed-Wx42 b\n")
    stream.writelines(["https://u:pw12@h/\n"])
    assert sink.getvalue() == "a *** b\nhttps://u:***@h/\n"


def test_environment_secrets_are_remembered() -> None:
    redaction.remember_environment(
        {"AIRSHIFT_TO_PASSWORD": "envsecret-Ab12", "AIRSHIFT_EVENTS_DB_URL": "postgresql://u:dbpw-Cd34@h/d",
         "AIRSHIFT_CACHE_DIR": "/tmp/not-a-secret"}
    )  # fmt: skip
    assert redaction.redact("envsecret-Ab12 dbpw-Cd34 /tmp/not-a-secret") == "*** *** /tmp/not-a-secret"


def _commands(folder: Path) -> list[list[str]]:
    closed = f"127.0.0.1:{free_port()}"  # nothing listens: every command fails after reading its secrets
    password_file = folder / "password.txt"
    password_file.write_text(FILE_PASSWORD + "\n")
    token_file = folder / "token.txt"
    token_file.write_text(TOKEN + "\n")
    fernet_file = folder / "fernet.txt"
    fernet_file.write_text(FERNET_KEY + "\n")
    db_file = folder / "db-url.txt"
    db_file.write_text(f"postgresql://postgres:{FILE_PASSWORD}@{closed}/airflow\n")
    export = folder / "connections.json"
    export.write_text(
        json.dumps({"db": {"conn_type": "postgres", "host": "h", "password": CONNECTION_PASSWORD}})
    )
    url_db = f"postgresql://postgres:{URL_PASSWORD}@{closed}/airflow"
    url_api = f"http://admin:{URL_PASSWORD}@{closed}"
    api = f"http://{closed}"
    return [
        # transfer: every URL option with a password in it, every credential file, a token file
        ["transfer", "--from", url_db, "--to", api],
        ["transfer", "--from", str(export), "--to", url_api, "--to-token-file", str(token_file)],
        ["transfer", "--from", url_api, "--to", api, "--to-token-file", str(token_file)],
        ["transfer", "--from", str(export), "--to", f"{api}/?token={URL_PASSWORD}", "--dry-run"],
        [
            "transfer",
            "--from",
            str(export),
            "--to",
            api,
            "--to-user",
            "admin",
            "--to-password-file",
            str(password_file),
            "--dry-run",
        ],
        ["transfer", "--from", str(export), "--to", api, "--to-token-file", str(token_file)],
        [
            "transfer",
            "--from",
            f"postgresql://postgres@{closed}/airflow",
            "--from-db-password-file",
            str(password_file),
            "--from-fernet-key-file",
            str(fernet_file),
            "--to-db",
            url_db,
        ],
        [
            "transfer",
            "--from",
            f"postgresql://postgres@{closed}/airflow",
            "--from-db-password-file",
            str(password_file),
            "--to-db",
            f"postgresql://postgres@{closed}/target",
            "--to-db-password-file",
            str(password_file),
            "--dry-run",
        ],
        [
            "transfer",
            "--from",
            api,
            "--from-user",
            "admin",
            "--from-password-file",
            str(password_file),
            "--to",
            api,
            "--to-token-file",
            str(token_file),
            "--dry-run",
        ],
        ["transfer", "--from", api, "--from-token-file", str(token_file), "--to", api, "--dry-run"],
        # events: database URLs in options and files, log and offset URLs, the API URL and token
        ["events", "status", "--db", url_db],
        ["events", "install", "--db-file", str(db_file)],
        ["events", "relay", "--db-file", str(db_file), "--once", "--log", str(folder / "events.db")],
        ["events", "tail", "--log", url_db],
        ["events", "tail", "--log", str(folder / "missing.db"), "--consumer", "c", "--offsets", url_db],
        ["events", "tail", "--url", url_api, "--token-file", str(token_file)],
        ["events", "tail", "--url", api, "--token-file", str(token_file)],
        ["events", "tail", "--url", api],  # the token from the environment
        ["events", "serve", "--log", str(folder / "absent.db"), "--token-file", str(token_file)],
    ]


def test_secrets_in_every_option_never_reach_any_output(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    env = {
        **os.environ,
        "AIRSHIFT_TO_PASSWORD": ENV_PASSWORD,
        "AIRSHIFT_FROM_PASSWORD": ENV_PASSWORD,
        "AIRSHIFT_TO_DB_PASSWORD": ENV_PASSWORD,
        "AIRSHIFT_FROM_DB_PASSWORD": ENV_PASSWORD,
        "AIRSHIFT_EVENTS_DB_PASSWORD": ENV_PASSWORD,
        "AIRSHIFT_EVENTS_TOKEN": TOKEN,
        "AIRSHIFT_FROM_FERNET_KEY": FERNET_KEY,
        "AIRSHIFT_CACHE_DIR": str(tmp_path / "cache"),
    }
    outputs: list[tuple[str, str]] = []  # (what, its text): the command line itself is not output
    for command in _commands(tmp_path):
        result = subprocess.run(
            [sys.executable, "-m", "airshift", *command],
            cwd=work, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        output = result.stdout + result.stderr
        outputs.append((f"airshift {command[:2]}", output))
        assert result.returncode == 2, f"{command}: {output}"  # each fails, after reading its secrets
        assert "internal error" not in output and "Traceback" not in output, f"{command}: {output}"
    for path in [*work.rglob("*"), *(tmp_path / "cache").rglob("*")]:  # ledgers, logs, reports
        if path.is_file():
            outputs.append((f"file {path}", path.read_bytes().decode("utf-8", errors="replace")))
    leaks = [(secret, what, text[:300]) for what, text in outputs for secret in SECRETS if secret in text]
    assert not leaks, f"secrets printed or written: {leaks}"


def test_a_secret_inside_an_unexpected_error_is_masked(tmp_path: Path) -> None:
    # The net under the specific messages: an error that quotes a URL with a password is masked too.
    script = (
        "import sys\n"
        "import airshift.cli\n"
        "from airshift.cli import app, main\n"
        "airshift.cli.build_app = lambda command=None: app  # main() builds its app lazily: use this one\n"
        "from airshift.errors import AirshiftError\n"
        "@app.command('boom')\n"
        "def boom() -> None:\n"
        f"    print('plain https://u:{URL_PASSWORD}@h/x and {ENV_PASSWORD}')\n"
        f"    raise AirshiftError('failed at postgresql://u:{URL_PASSWORD}@h/db')\n"
        "sys.argv = ['airshift', 'boom']\n"
        "main()\n"
    )
    env = {**os.environ, "AIRSHIFT_TO_PASSWORD": ENV_PASSWORD}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "https://u:***@h/x and ***" in result.stdout
    assert "postgresql://u:***@h/db" in result.stderr
    assert URL_PASSWORD not in result.stdout + result.stderr


def test_a_remembered_word_is_masked_as_a_whole_token_only() -> None:
    # "airflow" is the official images' default password: masking it inside longer names would corrupt
    # report keys (source_airflow) and module paths, and hide nothing more.
    redaction.remember("airflow")
    text = '{"source_airflow": "2.11.2", "password": "airflow"} --password airflow apache-airflow airflow2'
    assert redaction.redact(text) == (
        '{"source_airflow": "2.11.2", "password": "***"} --password *** apache-*** airflow2'
    )
    redaction.remember("p@ss!")  # ends that are not word characters need no boundary
    assert redaction.redact("x=p@ss!y and p@ss!") == "x=***y and ***"


def test_a_json_report_stays_valid_and_keeps_its_keys_when_a_common_word_is_a_secret(tmp_path: Path) -> None:
    from airshift.report import verify_json
    from airshift.verify.result import VerifyResult

    redaction.remember("airflow")
    result = VerifyResult(
        original="dags",
        migrated="out",
        source_airflow="2.11.2",
        target_airflow="3.3.2",
        logical_date="2026-01-01",
    )
    document = json.loads(redaction.redact(verify_json.render(result)))
    assert VerifyResult.model_validate(document).source_airflow == "2.11.2"
