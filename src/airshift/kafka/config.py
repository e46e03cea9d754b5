"""Kafka client settings (librdkafka properties) from a file or the environment, secrets kept masked.

What `--source` / `--target` accept:
- a properties file (`key=value` lines, librdkafka names; `#` comments), e.g. Confluent Cloud's
  `security.protocol=SASL_SSL`, `sasl.mechanisms=PLAIN`, `sasl.username=<API key>`,
  `sasl.password=<API secret>`; a Java client's `sasl.jaas.config=...PlainLoginModule required
  username='...' password='...';` is translated to the librdkafka pair;
- a TOML file with the same keys (`bootstrap.servers = "..."` or nested tables), optionally under `[kafka]`;
- `env:PREFIX`: every environment variable `PREFIX_<KEY>`, KEY lower-cased with `_` -> `.`
  (`KAFKA_BOOTSTRAP_SERVERS`, `KAFKA_SASL_PASSWORD`, ...);
- `HOST:PORT[,HOST:PORT...]`: a plaintext cluster without credentials.
In files, a value `${NAME}` is read from the environment variable NAME, so a secret can stay out of it.
Secrets never come from the command line; they are held as `Secret` and masked in every message.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airshift.errors import AirshiftError
from airshift.state.secret import MASK, Secret

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

_BOOTSTRAP_ONLY = re.compile(r"^[A-Za-z0-9_.\-\[\]:]+:\d+(,[A-Za-z0-9_.\-\[\]:]+:\d+)*$")
_SECRET_KEY = re.compile(r"(password|secret|\.pem$|^ssl\.key\.|token|sasl\.jaas\.config)", re.IGNORECASE)
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_JAAS_PLAIN = re.compile(r"""username\s*=\s*(['"])(.*?)\1.*?password\s*=\s*(['"])(.*?)\3""", re.DOTALL)


def is_secret_key(key: str) -> bool:
    """librdkafka settings whose value must never be shown (passwords, keys, tokens, JAAS lines)."""
    return bool(_SECRET_KEY.search(key)) and key not in ("ssl.key.location", "ssl.keystore.location")


@dataclass(frozen=True)
class ClientConfig:
    """One cluster's client settings: `origin` names where they came from (for messages)."""

    origin: str
    settings: dict[str, str]
    secrets: dict[str, Secret] = field(default_factory=dict)

    @property
    def bootstrap(self) -> str:
        return self.settings.get("bootstrap.servers", "")

    def librdkafka(self, **extra: Any) -> dict[str, Any]:
        """The dict for confluent-kafka's clients (the only place secrets are revealed)."""
        return {**self.settings, **{k: v.reveal() for k, v in self.secrets.items()}, **extra}

    def describe(self) -> str:
        """A one-line, secret-free description: servers, protocol, SASL mechanism and user."""
        parts = [self.bootstrap]
        protocol = self.settings.get("security.protocol", "PLAINTEXT")
        parts.append(protocol)
        mechanism = self.settings.get("sasl.mechanisms") or self.settings.get("sasl.mechanism")
        if mechanism:
            user = self.settings.get("sasl.username")
            parts.append(f"SASL {mechanism}" + (f" as {user}" if user else ""))
        return " ".join(parts)

    def redact(self, text: str) -> str:
        """`text` with every secret value (and any URL credential) replaced by the mask: for messages
        built from client library errors, which may quote settings."""
        for secret in self.secrets.values():
            value = secret.reveal()
            if value:
                text = text.replace(value, MASK)
        return re.sub(r"(://[^:/@\s]+:)[^@/\s]+@", rf"\1{MASK}@", text)


def load_client_config(spec: str, what: str, env: Mapping[str, str] | None = None) -> ClientConfig:
    """Read `spec` (see the module docstring); `what` names the option in messages (`--source`)."""
    environ = os.environ if env is None else env
    if not spec.strip():
        raise AirshiftError(f"{what} is empty: give a properties/TOML file, env:PREFIX or HOST:PORT")
    if spec.startswith("env:"):
        return _from_environment(spec[4:], what, environ)
    path = Path(spec).expanduser()
    if path.is_file():
        raw = _read_toml(path, what) if path.suffix.lower() == ".toml" else _read_properties(path, what)
        return _build(raw, f"{what} {path}", environ)
    if path.exists():
        raise AirshiftError(f"{what} {spec}: not a file")
    if _BOOTSTRAP_ONLY.match(spec):
        return ClientConfig(f"{what} {spec}", {"bootstrap.servers": spec})
    raise AirshiftError(
        f"{what} {spec}: no such file (give a properties or TOML file, env:PREFIX, or HOST:PORT)"
    )


def _read_properties(path: Path, what: str) -> dict[str, str]:
    text = _read_text(path, what)
    raw: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "!")):
            continue
        match = re.match(r"^([^=:\s]+)\s*[=:]\s*(.*)$", stripped)
        if match is None:
            raise AirshiftError(f"{what} {path} line {number}: expected key=value")
        raw[match.group(1)] = match.group(2).strip()
    return raw


def _read_toml(path: Path, what: str) -> dict[str, str]:
    try:
        data = tomllib.loads(_read_text(path, what))
    except tomllib.TOMLDecodeError as error:
        raise AirshiftError(f"{what} {path}: not valid TOML ({error})") from None
    if isinstance(data.get("kafka"), dict):
        data = data["kafka"]
    raw: dict[str, str] = {}

    def flatten(prefix: str, table: dict[str, Any]) -> None:
        for key, value in table.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict):
                flatten(f"{name}.", value)
            elif isinstance(value, bool):
                raw[name] = "true" if value else "false"
            elif isinstance(value, (str, int, float)):
                raw[name] = str(value)
            else:
                raise AirshiftError(f"{what} {path}: {name} must be a string, number or boolean")

    flatten("", data)
    return raw


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise AirshiftError(f"cannot read {what} {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise AirshiftError(f"{what} {path} is not UTF-8 text") from None


def _from_environment(prefix: str, what: str, environ: Mapping[str, str]) -> ClientConfig:
    prefix = prefix.rstrip("_")
    if not prefix:
        raise AirshiftError(f"{what} env:PREFIX needs a prefix, e.g. env:KAFKA")
    start = f"{prefix}_"
    raw = {
        name[len(start) :].lower().replace("_", "."): value
        for name, value in environ.items()
        if name.startswith(start) and len(name) > len(start)
    }
    origin = f"{what} (environment {start}*)"
    if "bootstrap.servers" not in raw:
        raise AirshiftError(f"{origin}: ${start}BOOTSTRAP_SERVERS is not set")
    return _build(raw, origin, {}, substitute=False)


def _build(
    raw: dict[str, str], origin: str, environ: Mapping[str, str], *, substitute: bool = True
) -> ClientConfig:
    values: dict[str, str] = {}
    for key, value in raw.items():
        if substitute:
            value = _substitute(value, key, origin, environ)
        values[key] = value
    jaas = values.pop("sasl.jaas.config", None)
    if jaas is not None:
        # A Java client's Confluent Cloud file: PlainLoginModule username/password -> librdkafka's pair.
        match = _JAAS_PLAIN.search(jaas)
        if match is None or "PlainLoginModule" not in jaas:
            raise AirshiftError(
                f"{origin}: sasl.jaas.config is only understood for PlainLoginModule with "
                "username and password; set sasl.username and sasl.password instead"
            )
        values.setdefault("sasl.username", match.group(2))
        values.setdefault("sasl.password", match.group(4))
    if "sasl.mechanism" in values:  # the Java spelling
        values.setdefault("sasl.mechanisms", values.pop("sasl.mechanism"))
    if not values.get("bootstrap.servers"):
        raise AirshiftError(f"{origin}: bootstrap.servers is not set")
    settings = {k: v for k, v in values.items() if not is_secret_key(k)}
    secrets = {k: Secret(v) for k, v in values.items() if is_secret_key(k)}
    return ClientConfig(origin, settings, secrets)


def _substitute(value: str, key: str, origin: str, environ: Mapping[str, str]) -> str:
    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise AirshiftError(f"{origin}: {key} refers to ${{{name}}}, which is not set")
        return environ[name]

    return _ENV_REF.sub(lookup, value)
