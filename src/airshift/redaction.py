"""The one redaction layer: every line airshift prints or logs, and every report or ledger text it
writes, passes through `redact` on its way out.

Two kinds of secrets are masked (with ***):
- values airshift knows are secret: each password, token or key it reads from a file or an environment
  variable is remembered here the moment it is read (`remember`), and so are the values of the
  AIRSHIFT_* variables whose names say they hold one;
- secrets recognisable by their shape, whoever typed them: the password in a URL's user part
  (scheme://user:password@host) and credential query parameters (?token=..., &password=...).

A remembered value is masked where it stands as a whole token, never inside a longer word: a password
"airflow" (the official images' default) masks `airflow` in `--password airflow` or `:airflow@`, but not
the `airflow` inside `source_airflow`, which would corrupt the keys of a JSON report or a module path.

Specific errors already avoid quoting secrets; this layer is the net under all of them (a URL echoed by
an HTTP library, a value inside an exception, a log line from a dependency).
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any, TextIO

MASK = "***"
_SHORTEST = 4  # shorter "secrets" (a test's "x") would mask ordinary text everywhere
_known: set[str] = set()
_known_pattern: re.Pattern[str] | None = None  # one alternation of every remembered value, longest first
_SECRET_ENV = re.compile(r"^AIRSHIFT_\w*(PASSWORD|TOKEN|SECRET|FERNET_KEY|_KEY|DB_URL)$")
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s/:@]*):(?P<secret>[^\s/@]+)@")
_QUERY_SECRET = re.compile(
    r"(?P<head>[?&;](?:password|passwd|pwd|token|access_token|api_key|apikey|secret|client_secret|"
    r"sig|signature)=)(?P<secret>[^&\s#;'\"]+)",
    re.IGNORECASE,
)


def remember(value: str | None) -> None:
    """Mask `value` wherever it appears from now on (and its URL-encoded form)."""
    if value and len(value) >= _SHORTEST:
        from urllib.parse import quote

        global _known_pattern
        _known.add(value)
        _known.add(quote(value, safe=""))
        _known_pattern = re.compile(
            "|".join(_whole_token(secret) for secret in sorted(_known, key=len, reverse=True))
        )


def forget_all() -> None:
    """Forget every remembered value (each command starts afresh; tests call this between commands)."""
    global _known_pattern
    _known.clear()
    _known_pattern = None


def _whole_token(secret: str) -> str:
    """`secret` as a pattern that matches only where no word character continues it on either side: an
    end of the secret that is itself a word character must not touch another one."""
    before = r"(?<![A-Za-z0-9_])" if _is_word(secret[0]) else ""
    after = r"(?![A-Za-z0-9_])" if _is_word(secret[-1]) else ""
    return before + re.escape(secret) + after


def _is_word(character: str) -> bool:
    return character.isascii() and (character.isalnum() or character == "_")


def remember_environment(environ: dict[str, str] | None = None) -> None:
    """Remember the values of AIRSHIFT_* variables that hold secrets (and a password inside a URL one)."""
    for name, value in (os.environ if environ is None else environ).items():
        if _SECRET_ENV.match(name):
            match = _URL_PASSWORD.search(value)
            remember(match.group("secret") if match else value)


# A cheap test without which _QUERY_SECRET cannot match: a report of 100,000 findings is megabytes of
# text, and this pattern (no alternation to try at each position) scans it in a fifth of _QUERY_SECRET's
# time. Every parameter name of _QUERY_SECRET must fit it (tested); a URL password needs "://".
_QUERY_HINT = re.compile(r"[?&;][A-Za-z_]{2,14}=")


def redact(text: str) -> str:
    if not text:
        return text
    if "://" in text:
        text = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}:{MASK}@", text)
    if _QUERY_HINT.search(text):
        text = _QUERY_SECRET.sub(lambda m: m.group("head") + MASK, text)
    if _known_pattern is not None:
        text = _known_pattern.sub(MASK, text)
    return text


class RedactingStream:
    """A text stream that redacts what is written, delegating everything else to the real stream."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(redact(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def install() -> None:
    """Route the process's stdout and stderr through `redact` (the CLI calls this first). Log handlers
    made later (uvicorn's, the root logger's last resort) write to these streams, so logs pass too."""
    remember_environment()
    if not isinstance(sys.stdout, RedactingStream):
        sys.stdout = RedactingStream(sys.stdout)
    if not isinstance(sys.stderr, RedactingStream):
        sys.stderr = RedactingStream(sys.stderr)
