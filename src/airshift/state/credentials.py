"""Target credentials from files or environment variables, never from the command line."""

from __future__ import annotations

import os
from pathlib import Path

from airshift.errors import AirshiftError
from airshift.state.api_v2 import ApiV2Client
from airshift.state.secret import Secret

PASSWORD_ENV = "AIRSHIFT_TO_PASSWORD"
TOKEN_ENV = "AIRSHIFT_TO_TOKEN"


def read_secret_file(path: Path, what: str) -> Secret:
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise AirshiftError(f"cannot read {what} file {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise AirshiftError(f"{what} file {path} is not UTF-8 text") from None
    if not value:
        raise AirshiftError(f"{what} file {path} is empty")
    return Secret(value)


def connect_target(
    base_url: str,
    user: str | None,
    password_file: Path | None,
    token_file: Path | None,
    ca_file: Path | None = None,
) -> ApiV2Client:
    """Log in to the target API server with a token (file/env) or a user and password (file/env)."""
    verify: bool | str = str(ca_file) if ca_file is not None else True
    if token_file is not None:
        return ApiV2Client(base_url, read_secret_file(token_file, "token"), verify=verify)
    if user:
        if password_file is not None:
            password = read_secret_file(password_file, "password")
        elif os.environ.get(PASSWORD_ENV):
            password = Secret(os.environ[PASSWORD_ENV])
        else:
            raise AirshiftError(f"--to-user {user} needs --to-password-file FILE or ${PASSWORD_ENV}")
        return ApiV2Client.login(base_url, user, password, verify=verify)
    if os.environ.get(TOKEN_ENV):
        return ApiV2Client(base_url, Secret(os.environ[TOKEN_ENV]), verify=verify)
    raise AirshiftError(
        f"the target needs credentials: --to-user NAME with --to-password-file FILE (or ${PASSWORD_ENV}), "
        f"or --to-token-file FILE (or ${TOKEN_ENV})"
    )
