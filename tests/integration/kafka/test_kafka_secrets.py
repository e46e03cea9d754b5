"""Secrets planted in client settings (a Confluent Cloud style properties file, the environment) never
appear in `airshift kafka compare`'s output: not in errors, reports (text, JSON, HTML) or --watch."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from kafka_support import (  # type: ignore[import-not-found]
    Mirror,
    airshift,
    brokers_fixture,  # noqa: F401 (fixture)
    create_topic,
    produce,
    sample_messages,
    unique,
)

pytestmark = pytest.mark.integration
SECRET = "cc-api-secret-9fQxW2vLr7"
KEY_PASSWORD = "key-pass-Hk3mN8"


def _assert_clean(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text and KEY_PASSWORD not in text


def test_sasl_ssl_failure_names_the_cluster_without_the_secret(
    brokers: tuple[str, str], tmp_path: Path
) -> None:
    source, target = brokers
    cloud = tmp_path / "cloud.properties"
    cloud.write_text(
        f"bootstrap.servers={source}\nsecurity.protocol=SASL_SSL\nsasl.mechanisms=PLAIN\n"
        f"sasl.username=APIKEY123\nsasl.password={SECRET}\n"
    )
    result = airshift("kafka", "compare", "--source", str(cloud), "--target", target, "--timeout", "3")
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"source Kafka {source} SASL_SSL SASL PLAIN as APIKEY123" in result.stderr
    assert "Traceback" not in result.stderr
    _assert_clean(result.stdout, result.stderr)

    env = {**os.environ, "OLDK_BOOTSTRAP_SERVERS": source, "OLDK_SECURITY_PROTOCOL": "SASL_SSL",
           "OLDK_SASL_MECHANISMS": "PLAIN", "OLDK_SASL_USERNAME": "APIKEY123", "OLDK_SASL_PASSWORD": SECRET}  # fmt: skip
    watched = airshift(
        "kafka", "compare", "--source", "env:OLDK", "--target", target, "--watch", "--timeout", "3",
        "--watch-timeout", "5", env=env,
    )  # fmt: skip
    assert watched.returncode == 2
    assert "(environment OLDK_*)" in watched.stderr or "SASL PLAIN as APIKEY123" in watched.stderr
    _assert_clean(watched.stdout, watched.stderr)


def test_reports_and_watch_never_show_planted_secrets(brokers: tuple[str, str], tmp_path: Path) -> None:
    source, target = brokers
    topic = unique("secret")
    create_topic(source, topic, 1)
    produce(source, topic, sample_messages(1, 12, seed="z"))
    Mirror(source, target).copy(topic, 1)
    # Settings librdkafka accepts on a plaintext cluster, carrying secrets it does not need here.
    source_file = tmp_path / "source.properties"
    source_file.write_text(f"bootstrap.servers={source}\nsasl.username=APIKEY123\nsasl.password={SECRET}\n")
    target_file = tmp_path / "target.toml"
    target_file.write_text(f'bootstrap.servers = "{target}"\nssl.key.password = "${{TARGET_KEY_PASSWORD}}"\n')
    env = {**os.environ, "TARGET_KEY_PASSWORD": KEY_PASSWORD}
    outputs = []
    for fmt in ("text", "json", "html"):
        result = airshift(
            "kafka", "compare", "--source", str(source_file), "--target", str(target_file), "--topics", topic,
            "--format", fmt, env=env,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        outputs += [result.stdout, result.stderr]
    watched = airshift(
        "kafka", "compare", "--source", str(source_file), "--target", str(target_file), "--topics", topic,
        "--watch", "--interval", "0.5", "--watch-timeout", "60", "-o", str(tmp_path / "r.json"), "--format", "json",
        env=env,
    )  # fmt: skip
    assert watched.returncode == 0, watched.stderr
    assert "replication lag" in watched.stderr
    _assert_clean(*outputs, watched.stdout, watched.stderr, (tmp_path / "r.json").read_text())
