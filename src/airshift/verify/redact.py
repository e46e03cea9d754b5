"""Mask values whose key names a secret, before anything leaves the probe's temporary directory.

DAG params, default_args and rendered templates can carry passwords or tokens; snapshots and reports
are files people share, so those values are replaced by a fixed mask."""

from __future__ import annotations

import re
from typing import Any

MASK = "***"
# Key fragments Airflow itself treats as sensitive (secrets_masker), plus a few common spellings.
_SENSITIVE = re.compile(
    r"(password|passwd|passphrase|secret|token|api_?key|apikey|private_key|authorization|"
    r"credential|keyfile_dict|service_account|fernet)",
    re.IGNORECASE,
)


def is_sensitive_key(key: str) -> bool:
    return bool(_SENSITIVE.search(key))


def redact(value: Any) -> Any:
    """A copy of `value` with every dict entry under a sensitive key masked (recursively)."""
    if isinstance(value, dict):
        return {
            key: (MASK if is_sensitive_key(str(key)) and item not in (None, "") else redact(item))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


# `password=...`, `"token": "..."`, `Authorization: Bearer ...` in free text such as log lines.
_SECRET_IN_TEXT = re.compile(
    r"""(?P<key>[\w.-]*(?:password|passwd|secret|token|api_?key|authorization|fernet)[\w.-]*["']?\s*[:=]\s*)"""
    r"""(?P<value>"[^"]*"|'[^']*'|(?:bearer\s+)?[^\s,;"'&]+)""",
    re.IGNORECASE,
)
# user:password@host in connection URIs.
_URI_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<value>[^@\s]+)(?=@)", re.IGNORECASE)


def redact_text(text: str) -> str:
    """Mask secret-looking assignments and URI passwords in free text."""
    text = _SECRET_IN_TEXT.sub(lambda m: m.group("key") + MASK, text)
    return _URI_PASSWORD.sub(lambda m: m.group("head") + MASK, text)


def redact_strings(value: Any) -> Any:
    """A copy of `value` with redact_text applied to every string in it (rendered templates)."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {key: redact_strings(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_strings(item) for item in value]
    return value
