"""Client settings from properties files, TOML files, the environment and HOST:PORT; secrets masked."""

from __future__ import annotations

from pathlib import Path

import pytest

from airshift.errors import AirshiftError
from airshift.kafka.config import load_client_config

SECRET = "cc-secret-Zq9VfT3xLw"


def test_confluent_cloud_properties_file(tmp_path: Path) -> None:
    path = tmp_path / "cloud.properties"
    path.write_text(
        "# Confluent Cloud\nbootstrap.servers=pkc-1.eu-west-1.aws.confluent.cloud:9092\n"
        "security.protocol=SASL_SSL\nsasl.mechanisms=PLAIN\nsasl.username=ABCDKEY\n"
        f"sasl.password={SECRET}\nsession.timeout.ms=45000\n"
    )
    config = load_client_config(str(path), "--source")
    assert config.librdkafka()["sasl.password"] == SECRET
    assert "sasl.password" not in config.settings
    assert config.describe() == "pkc-1.eu-west-1.aws.confluent.cloud:9092 SASL_SSL SASL PLAIN as ABCDKEY"
    assert SECRET not in repr(config) and SECRET not in str(config)
    assert config.redact(f"auth failed for {SECRET}") == "auth failed for ***"


def test_java_jaas_line_and_env_reference(tmp_path: Path) -> None:
    path = tmp_path / "java.properties"
    path.write_text(
        "bootstrap.servers=b:9092\nsecurity.protocol=SASL_SSL\nsasl.mechanism=PLAIN\n"
        "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required "
        "username='KEY1' password='${CC_SECRET}';\n"
    )
    config = load_client_config(str(path), "--target", env={"CC_SECRET": SECRET})
    settings = config.librdkafka()
    assert (settings["sasl.username"], settings["sasl.password"], settings["sasl.mechanisms"]) == (
        "KEY1", SECRET, "PLAIN",
    )  # fmt: skip
    assert "sasl.jaas.config" not in settings
    with pytest.raises(
        AirshiftError, match=r"--target .*java.properties: sasl.jaas.config refers to \$\{CC_SECRET\}"
    ):
        load_client_config(str(path), "--target", env={})


def test_toml_nested_and_kafka_table(tmp_path: Path) -> None:
    path = tmp_path / "target.toml"
    path.write_text(
        '[kafka]\nbootstrap.servers = "k1:9093,k2:9093"\nsecurity.protocol = "SSL"\n'
        'ssl.ca.location = "/etc/ca.pem"\nssl.key.password = "${KEYPASS}"\nenable.ssl.certificate.verification = true\n'
    )
    config = load_client_config(str(path), "--target", env={"KEYPASS": SECRET})
    assert config.settings["bootstrap.servers"] == "k1:9093,k2:9093"
    assert config.settings["enable.ssl.certificate.verification"] == "true"
    assert config.librdkafka()["ssl.key.password"] == SECRET and "ssl.key.password" not in config.settings


def test_environment_and_bootstrap_only() -> None:
    env = {"NEWK_BOOTSTRAP_SERVERS": "n:9092", "NEWK_SASL_PASSWORD": SECRET, "NEWK_SASL_USERNAME": "u"}
    config = load_client_config("env:NEWK", "--target", env=env)
    assert config.librdkafka() == {
        "bootstrap.servers": "n:9092",
        "sasl.password": SECRET,
        "sasl.username": "u",
    }
    assert load_client_config("127.0.0.1:9092", "--source").settings == {
        "bootstrap.servers": "127.0.0.1:9092"
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nonsense line\n", "line 1: expected key=value"),
        ("security.protocol=SSL\n", "bootstrap.servers is not set"),
    ],
)
def test_bad_files_are_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.properties"
    path.write_text(text)
    with pytest.raises(AirshiftError, match=message):
        load_client_config(str(path), "--source")


def test_bad_specs() -> None:
    with pytest.raises(AirshiftError, match=r"--source nope\.properties: no such file"):
        load_client_config("nope.properties", "--source")
    with pytest.raises(AirshiftError, match=r"\$EMPTY_BOOTSTRAP_SERVERS is not set"):
        load_client_config("env:EMPTY", "--source", env={})
