"""API credentials (target and API source) from files or environment variables, never from the command line."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from airshift.errors import AirshiftError
from airshift.state.secret import Secret
from airshift.state.targets.api import TargetApi, V2BulkTarget
from airshift.state.targets.api_v1 import ApiV1Target, airflow2_version
from airshift.state.targets.api_v2 import ApiV2Client

Side = Literal["to", "from"]
PASSWORD_ENV = "AIRSHIFT_TO_PASSWORD"
TOKEN_ENV = "AIRSHIFT_TO_TOKEN"
FROM_PASSWORD_ENV = "AIRSHIFT_FROM_PASSWORD"
FROM_TOKEN_ENV = "AIRSHIFT_FROM_TOKEN"
_ENV: dict[Side, tuple[str, str]] = {
    "to": (PASSWORD_ENV, TOKEN_ENV),
    "from": (FROM_PASSWORD_ENV, FROM_TOKEN_ENV),
}


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


@dataclass(frozen=True)
class ApiAuth:
    """How to authenticate to an Airflow API server: a bearer token, a user and password, or nothing.
    `verify` is httpx's TLS setting: True (system CAs) or the path of a CA bundle."""

    user: str | None = None
    password: Secret | None = None
    token: Secret | None = None
    verify: bool | str = True

    @property
    def anonymous(self) -> bool:
        return self.token is None and self.password is None


def resolve_auth(
    side: Side,
    user: str | None,
    password_file: Path | None,
    token_file: Path | None,
    ca_file: Path | None = None,
    *,
    required: bool = True,
    env: dict[str, str] | None = None,
) -> ApiAuth:
    """The credentials given with `--{side}-user/-password-file/-token-file/-ca-file` or the
    `$AIRSHIFT_{SIDE}_PASSWORD` / `$AIRSHIFT_{SIDE}_TOKEN` variables. A token file wins, then a user
    (with a password file or variable), then a token variable; none is an error when `required`."""
    environ = os.environ if env is None else env
    password_env, token_env = _ENV[side]
    role = "target" if side == "to" else "source"
    if ca_file is not None and not ca_file.is_file():
        raise AirshiftError(f"--{side}-ca-file {ca_file} is not a file")
    verify: bool | str = str(ca_file) if ca_file is not None else True
    if token_file is not None:
        return ApiAuth(token=read_secret_file(token_file, "token"), verify=verify)
    if user:
        if password_file is not None:
            password = read_secret_file(password_file, "password")
        elif environ.get(password_env):
            password = Secret(environ[password_env])
        else:
            raise AirshiftError(f"--{side}-user {user} needs --{side}-password-file FILE or ${password_env}")
        return ApiAuth(user=user, password=password, verify=verify)
    if password_file is not None:
        raise AirshiftError(f"--{side}-password-file needs --{side}-user NAME")
    if environ.get(token_env):
        return ApiAuth(token=Secret(environ[token_env]), verify=verify)
    if required:
        raise AirshiftError(
            f"the {role} needs credentials: --{side}-user NAME with --{side}-password-file FILE "
            f"(or ${password_env}), or --{side}-token-file FILE (or ${token_env})"
        )
    return ApiAuth(verify=verify)


def connect_target(
    base_url: str,
    user: str | None,
    password_file: Path | None,
    token_file: Path | None,
    ca_file: Path | None = None,
) -> TargetApi:
    """Connect to the target with a token (file/env) or a user and password (file/env): an Airflow 2.x
    webserver (it answers `GET /api/v1/version` with a 2.x version) through `/api/v1` with basic auth or
    the token; otherwise an Airflow 3.x API server through `/api/v2` with a JWT."""
    auth = resolve_auth("to", user, password_file, token_file, ca_file)
    version = airflow2_version(
        base_url, user=auth.user, password=auth.password, token=auth.token, verify=auth.verify
    )
    if version is not None:
        return ApiV1Target(
            base_url, version, user=auth.user, password=auth.password, token=auth.token, verify=auth.verify
        )
    _require_airflow3(base_url, auth)
    if auth.token is not None:
        return V2BulkTarget(ApiV2Client(base_url, auth.token, verify=auth.verify))
    assert auth.user is not None and auth.password is not None  # resolve_auth(required=True)
    return V2BulkTarget(ApiV2Client.login(base_url, auth.user, auth.password, verify=auth.verify))


KNOWN_AIRFLOW3 = ("3.0", "3.1", "3.2", "3.3")


def _require_airflow3(base_url: str, auth: ApiAuth) -> None:
    """Not an Airflow 2 webserver: the server must answer `GET /api/v2/version` with an Airflow 3
    version airshift knows (a server that merely answers 404 on /api/v1 is not an Airflow 3)."""
    from airshift.state.sources.api import detect
    from airshift.state.targets.api_v2 import normalize_base_url

    base = normalize_base_url(base_url)
    api, version = detect(base, auth.verify, auth=auth)
    release = ".".join(version.split(".")[:2])
    if api != "v2" or release not in KNOWN_AIRFLOW3:
        raise AirshiftError(
            f"target {base} runs Airflow {version}; airshift writes to Airflow {', '.join(KNOWN_AIRFLOW3)} "
            "(through /api/v2) or 2.x (through /api/v1)"
        )
