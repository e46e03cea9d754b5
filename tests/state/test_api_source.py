"""API source pieces that need no Airflow: masked-value detection, URL handling, credentials, and the
errors for a server that is unreachable or is not Airflow (a real socket and a real HTTP server)."""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from airshift.errors import AirshiftError
from airshift.state.credentials import resolve_auth
from airshift.state.sources.api import detect, is_api_url, is_masked, masked_keys, source_base_url
from tests.state.airflow_envs import free_port


def test_masked_values_are_detected_anywhere() -> None:
    assert is_masked("***")
    assert is_masked('"***"')  # 3.x: a JSON value under a sensitive key is dumped as a JSON string
    assert is_masked('{"a": 1, "token": "***"}')
    assert is_masked("prefix-***-suffix")  # pattern masking inside a string
    assert is_masked("<redaction-failed>")
    assert not is_masked(None)
    assert not is_masked("")
    assert not is_masked("plain * value ** here")


def test_masked_extra_keys_are_named() -> None:
    assert masked_keys(None) == []
    assert masked_keys('{"sslmode": "require"}') == []
    assert masked_keys('{"api_key": "***", "region": "eu", "nested": {"password": "***"}}') == [
        "api_key",
        "nested",
    ]
    assert masked_keys("not json ***") == ["(unstructured extra)"]
    assert masked_keys('["***"]') == ["(extra)"]


def test_source_url_is_normalized_and_never_carries_credentials() -> None:
    assert (
        is_api_url("https://old-airflow/") and is_api_url("HTTP://x") and not is_api_url("postgresql://x/y")
    )
    assert source_base_url("https://old-airflow/") == "https://old-airflow"
    assert source_base_url("http://127.0.0.1:8080/api/v1/") == "http://127.0.0.1:8080"
    assert source_base_url("https://host/airflow/api/v2") == "https://host/airflow"
    with pytest.raises(AirshiftError) as raised:
        source_base_url("https://admin:hunter2@old-airflow/")
    assert "hunter2" not in str(raised.value) and "--from-password-file" in str(raised.value)


def test_resolve_auth_sides_and_precedence(tmp_path: Path) -> None:
    token_file, password_file = tmp_path / "token", tmp_path / "password"
    token_file.write_text("tok-from-file\n")
    password_file.write_text("pw-from-file\n")

    auth = resolve_auth("from", "admin", password_file, None, None, env={})
    assert auth.user == "admin" and auth.password is not None and auth.password.reveal() == "pw-from-file"
    assert auth.verify is True and "pw-from-file" not in repr(auth)

    auth = resolve_auth("from", "admin", None, token_file, None, env={})
    assert auth.token is not None and auth.token.reveal() == "tok-from-file" and auth.password is None

    env = {"AIRSHIFT_FROM_PASSWORD": "pw-env", "AIRSHIFT_FROM_TOKEN": "tok-env", "AIRSHIFT_TO_PASSWORD": "x"}
    from_env = resolve_auth("from", "admin", None, None, None, env=env)
    assert from_env.password is not None and from_env.password.reveal() == "pw-env"
    token_env = resolve_auth("from", None, None, None, None, env=env)
    assert token_env.token is not None and token_env.token.reveal() == "tok-env"

    # The source may be anonymous (an Airflow 2 without API auth); the target may not.
    assert resolve_auth("from", None, None, None, None, required=False, env={}).anonymous
    with pytest.raises(AirshiftError, match="--to-user NAME with --to-password-file"):
        resolve_auth("to", None, None, None, None, env={})
    with pytest.raises(
        AirshiftError, match=r"--from-user admin needs --from-password-file FILE or \$AIRSHIFT_FROM_PASSWORD"
    ):
        resolve_auth("from", "admin", None, None, None, required=False, env={"AIRSHIFT_TO_PASSWORD": "x"})
    with pytest.raises(AirshiftError, match="--from-password-file needs --from-user"):
        resolve_auth("from", None, password_file, None, None, required=False, env={})

    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    assert resolve_auth("from", None, None, token_file, ca, env={}).verify == str(ca)
    with pytest.raises(AirshiftError, match="--from-ca-file"):
        resolve_auth("from", None, None, token_file, tmp_path / "missing.pem", env={})


def test_unreachable_server_is_one_line() -> None:
    base = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(AirshiftError) as raised:
        detect(base, timeout=5)
    message = str(raised.value)
    assert message.startswith(f"cannot reach the source API server {base}: ") and "\n" not in message


class _NotAirflow(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"version": 3}' if self.path.endswith("/api/v2/version") else b"<html>hello</html>"
        self.send_response(200 if self.path.endswith("/version") else 404)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def not_airflow() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotAirflow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_server_that_is_not_airflow_is_named(not_airflow: str) -> None:
    with pytest.raises(AirshiftError) as raised:
        detect(not_airflow, timeout=5)
    message = str(raised.value)
    assert message.startswith(f"{not_airflow} is not an Airflow webserver or API server")
    assert (
        "HTTP 200" in message and "HTTP 200" in message.split("and", 1)[1]
    )  # answered, but not like Airflow
    assert "<html>" not in message  # no body echo


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key (a private CA of one)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "airshift-test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_tls_is_verified_and_a_private_ca_is_honoured(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotAirflow)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"https://127.0.0.1:{server.server_address[1]}"
    try:
        with pytest.raises(AirshiftError) as unverified:
            detect(base, timeout=5)
        message = str(unverified.value)
        assert "CERTIFICATE_VERIFY_FAILED" in message and "(--from-ca-file for a private CA)" in message
        # With the CA, the TLS handshake succeeds and the server is judged by what it answers.
        with pytest.raises(AirshiftError, match="is not an Airflow webserver or API server"):
            detect(
                base, verify=str(resolve_auth("from", None, None, None, cert, required=False, env={}).verify)
            )
    finally:
        server.shutdown()
        server.server_close()


def test_a_ca_file_that_is_not_a_certificate_is_one_line(tmp_path: Path) -> None:
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate\n")
    with pytest.raises(AirshiftError, match=r"^CA file .*ca\.pem cannot be loaded: "):
        detect("https://127.0.0.1:9", verify=str(bogus), timeout=5)
