"""Secrets the target needs and the source never had, generated once and kept in their own file.

The file is mode 600 and is never printed. Running the migration again reuses the secrets already in
it, so every API server and worker keeps agreeing on them."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from airshift.platform.config_env import env_name
from airshift.platform.config_helm import SECRET_VALUE_NAMES
from airshift.platform.config_tables import Key
from airshift.platform.files import read_text, write_private

_ENV_LINE = re.compile(r"^(?:export\s+)?(?P<name>[A-Z0-9_]+)=(?P<value>.*)$")
_K8S_VALUE = re.compile(r"^\s{2,}(?P<key>[a-z-]+):\s*(?P<value>\S.*)$")


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _existing_env(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    found = {}
    for line in read_text(path, "secrets file").splitlines():
        match = _ENV_LINE.match(line.strip())
        if match:
            found[match["name"]] = match["value"].strip().strip("'\"")
    return found


def read_env_names(path: Path) -> set[str]:
    """The variable names an existing secrets file sets (values are not returned)."""
    return set(_existing_env(path))


def write_env_secrets(path: Path, keys: list[Key]) -> None:
    """`AIRFLOW__API_AUTH__JWT_SECRET=...` lines: compose `env_file`, systemd `EnvironmentFile`."""
    values = _existing_env(path)
    for key in keys:
        values.setdefault(env_name(key), new_secret())
    body = "".join(f"{name}={value}\n" for name, value in sorted(values.items()))
    write_private(path, "# Written by airshift config migrate. Keep private (mode 600).\n" + body)


def write_kubernetes_secrets(path: Path, keys: list[Key], release: str) -> dict[str, str]:
    """Kubernetes Secret manifests the chart reads by name; returns chart value -> Secret name."""
    existing: dict[str, str] = {}
    if path.exists():
        for line in read_text(path, "secrets file").splitlines():
            match = _K8S_VALUE.match(line)
            if match:
                existing[match["key"]] = match["value"].strip().strip("'\"")
    names: dict[str, str] = {}
    documents = []
    for key in keys:
        value_name, _inline, data_key = SECRET_VALUE_NAMES[key]
        secret_name = f"{release}-{data_key}"
        names[value_name] = secret_name
        value = existing.get(data_key) or new_secret()
        documents.append(
            "apiVersion: v1\nkind: Secret\ntype: Opaque\n"
            f"metadata:\n  name: {secret_name}\nstringData:\n  {data_key}: {value}\n"
        )
    header = "# Written by airshift config migrate. Keep private (mode 600); apply with kubectl apply -f.\n"
    write_private(path, header + "---\n".join(documents))
    return names
