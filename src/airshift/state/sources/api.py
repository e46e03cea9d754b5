"""Read a source over the REST API: an Airflow 2.x webserver (`/api/v1`) or 3.x api-server (`/api/v2`).

Which one is detected from the unauthenticated version endpoints. Airflow 2 takes basic auth (or a
bearer token), Airflow 3 a JWT from `/auth/token` (or a given token).

What the APIs cannot give is made explicit, never filled in:

- connection passwords: write-only in 2.x (never returned), redacted to `***` in 3.x. A connection
  that has (3.x) or may have (2.x) a password stops the read, unless the user allows transferring
  connections without them (`allow_missing_passwords`); each such connection is then named in a note.
- masked values: 3.x masks variables whose key looks sensitive (`password`, `secret`, `token`,
  `api_key`, ...) and sensitive keys inside JSON values; both versions mask sensitive keys of
  connection extras (2.x with `hide_sensitive_var_conn_fields`, the default). An object with a masked
  value is left out and named in a note: `***` is never written as if it were the value.
- run history: not read over the API (finished runs and task instances need the metadata database).

Error messages name the URL and the reason, never a request or response body.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from airshift.errors import AirshiftError
from airshift.state.credentials import ApiAuth
from airshift.state.model import Connection, Kind, PausedState, Pool, SourceState, Variable
from airshift.state.secret import MASK, Secret
from airshift.state.targets.api_v2 import (
    airflow_version_in,
    first_line,
    get_version,
    normalize_base_url,
    request_jwt,
    tls_verify,
)

Api = Literal["v1", "v2"]
PAGE = 100
# What Airflow's secrets masker puts in place of a value (and what it answers when redaction fails).
_MASKS = (MASK, "<redaction-failed>")


def is_api_url(value: str) -> bool:
    return value.strip().lower().startswith(("http://", "https://"))


def source_base_url(raw: str) -> str:
    """The server's base URL (without `/api/v1` or `/api/v2`); credentials in the URL are refused."""
    url = httpx.URL(raw.strip())
    if url.userinfo:
        raise AirshiftError(
            "the source URL holds credentials; give them with --from-user and --from-password-file "
            "(or $AIRSHIFT_FROM_PASSWORD), or --from-token-file (or $AIRSHIFT_FROM_TOKEN)"
        )
    if not url.host:
        raise AirshiftError(f"source {raw!r} is not an http(s) URL of an Airflow webserver or API server")
    return normalize_base_url(str(url.copy_with(query=None, fragment=None)))


def is_masked(value: str | None) -> bool:
    """Whether a value as an API returned it carries the secrets masker's placeholder anywhere
    (the whole value, a JSON leaf, or a pattern replaced inside a string)."""
    return value is not None and any(mask in value for mask in _MASKS)


def masked_keys(extra: str | None) -> list[str]:
    """The top-level keys of a JSON extra whose value is (or contains) a masked placeholder."""
    if not extra:
        return []
    try:
        data = json.loads(extra)
    except ValueError:
        return ["(unstructured extra)"] if is_masked(extra) else []
    if not isinstance(data, dict):
        return ["(extra)"] if is_masked(extra) else []
    return sorted(str(key) for key, value in data.items() if is_masked(json.dumps(value)))


def _is_json(value: str) -> bool:
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


@dataclass
class ApiSource:
    """An open, authenticated connection to a source's REST API."""

    base_url: str
    api: Api
    version: str
    client: httpx.Client
    anonymous: bool = False

    @property
    def airflow(self) -> str:
        return (
            f"Airflow {self.version}" if self.version else ("Airflow 3" if self.api == "v2" else "Airflow 2")
        )

    def close(self) -> None:
        self.client.close()

    def _get(self, path: str, what: str, params: dict[str, Any] | None = None) -> Any:
        try:
            response = self.client.get(f"/api/{self.api}{path}", params=params)
        except httpx.HTTPError as error:
            raise AirshiftError(f"{what}: {_unreachable(self.base_url, error)}") from None
        if response.status_code in (401, 403) and self.anonymous:
            raise AirshiftError(
                f"{what}: the source API server {self.base_url} needs credentials (HTTP {response.status_code}): "
                "--from-user NAME with --from-password-file FILE (or $AIRSHIFT_FROM_PASSWORD), or "
                "--from-token-file FILE (or $AIRSHIFT_FROM_TOKEN)"
            )
        if response.status_code == 401:
            raise AirshiftError(
                f"{what}: the source API server {self.base_url} refused the credentials (HTTP 401)"
                + (
                    "; is basic auth enabled ([api] auth_backends)?"
                    if self.api == "v1"
                    else "; the token may have expired or belong to another server"
                )
            )
        if response.status_code == 403:
            # Airflow 2 answers 403 to a wrong basic-auth password, Airflow 3 to an invalid token.
            raise AirshiftError(
                f"{what}: the source API server {self.base_url} denied access (HTTP 403): "
                + ("wrong user name or password" if self.api == "v1" else "an invalid or expired token")
                + ", or a user without read access to variables, connections, pools or DAGs"
            )
        if response.status_code >= 400:
            raise AirshiftError(
                f"{what}: HTTP {response.status_code} {response.reason_phrase} from the source API server "
                f"{self.base_url}"
            )
        try:
            return response.json()
        except ValueError:
            raise AirshiftError(
                f"{what}: the source API server {self.base_url} answered with something that is not JSON"
            ) from None

    def list_all(self, collection: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a collection, page by page (limit/offset until `total_entries`)."""
        what = f"reading {collection} from the source"
        offset = 0
        while True:
            data = self._get(f"/{collection}", what, {**(params or {}), "limit": PAGE, "offset": offset})
            items = data.get(collection) if isinstance(data, dict) else None
            if not isinstance(items, list):
                raise AirshiftError(f"{what}: {self.base_url} answered without a {collection!r} list")
            yield from (item for item in items if isinstance(item, dict))
            offset += len(items)
            if not items or offset >= int(data.get("total_entries") or 0):
                return

    def get_connection(self, conn_id: str) -> dict[str, Any]:
        data = self._get(f"/connections/{_quote(conn_id)}", f"reading connection {conn_id!r} from the source")
        return data if isinstance(data, dict) else {}


def _quote(part: str) -> str:
    return httpx.URL(f"http://x/{part}").raw_path.decode("ascii").lstrip("/").replace("/", "%2F")


def _unreachable(base: str, error: httpx.HTTPError) -> str:
    reason = first_line(error)
    hint = " (--from-ca-file for a private CA)" if "CERTIFICATE" in reason.upper() else ""
    if isinstance(error, httpx.TimeoutException):
        reason = f"timed out ({type(error).__name__})"
    return f"cannot reach the source API server {base}: {reason}{hint}"


def _probe(
    base: str, api: Api, verify: bool | str, timeout: float, auth: ApiAuth | None = None
) -> tuple[int, str | None]:
    """GET /api/{api}/version: (status, Airflow version if it answered like Airflow). Without
    credentials unless `auth` is given (for deployments that put every path behind authentication)."""
    headers = {}
    basic = None
    if auth is not None and auth.token is not None:
        headers["Authorization"] = f"Bearer {auth.token.reveal()}"
    elif auth is not None and auth.user is not None and auth.password is not None:
        basic = httpx.BasicAuth(auth.user, auth.password.reveal())
    try:
        response = get_version(base, api, auth=basic, headers=headers, verify=verify, timeout=timeout)
    except httpx.HTTPError as error:
        raise AirshiftError(_unreachable(base, error)) from None
    return response.status_code, airflow_version_in(response)


def detect(
    base: str, verify: bool | str = True, timeout: float = 30.0, auth: ApiAuth | None = None
) -> tuple[Api, str]:
    """Which API the server speaks: `/api/v2` (Airflow 3) or `/api/v1` (Airflow 2), and its version.
    The version endpoints are public in both; when one answers 401/403 it is asked again with the
    credentials (a bearer token for /api/v2; basic auth or the token for /api/v1)."""
    statuses = []
    for api in ("v2", "v1"):
        status, version = _probe(base, api, verify, timeout)
        can_retry = auth is not None and (auth.token is not None or (api == "v1" and not auth.anonymous))
        if version is None and status in (401, 403) and can_retry:
            status, version = _probe(base, api, verify, timeout, auth)
        if version is not None:
            return api, version
        statuses.append(status)
    raise AirshiftError(
        f"{base} is not an Airflow webserver or API server: GET /api/v2/version answered HTTP {statuses[0]} "
        f"and GET /api/v1/version HTTP {statuses[1]}, neither with Airflow's version"
    )


def open_source(raw_url: str, auth: ApiAuth, timeout: float = 60.0) -> ApiSource:
    """Detect the API version and authenticate: a JWT from `/auth/token` (3.x) or basic auth (2.x) for a
    user and password, or the given bearer token."""
    base = source_base_url(raw_url)
    api, version = detect(base, auth.verify, auth=auth)
    headers: dict[str, str] = {}
    basic: httpx.BasicAuth | None = None
    if auth.token is not None:
        headers["Authorization"] = f"Bearer {auth.token.reveal()}"
    elif auth.user is not None and auth.password is not None:
        if api == "v2":
            token = request_jwt(base, auth.user, auth.password, verify=auth.verify, role="source")
            headers["Authorization"] = f"Bearer {token.reveal()}"
        else:
            basic = httpx.BasicAuth(auth.user, auth.password.reveal())
    client = httpx.Client(
        base_url=base, headers=headers, auth=basic, verify=tls_verify(auth.verify), timeout=timeout
    )
    return ApiSource(base, api, version, client, anonymous=auth.anonymous)


@dataclass
class _Read:
    state: SourceState
    left_out: list[str]


def read_variables(source: ApiSource, read: _Read) -> None:
    json_keys = []
    for item in source.list_all("variables"):
        key = str(item.get("key"))
        value = item.get("value")
        text = None if value is None else str(value)
        if is_masked(text):
            read.left_out.append(
                f"variable {key!r} left out: its value comes back masked ({MASK}) from the source API "
                + (
                    "(Airflow 3 masks variables whose key looks sensitive, and sensitive keys in JSON values)"
                    if source.api == "v2"
                    else "(hide_sensitive_var_conn_fields)"
                )
            )
            continue
        if source.api == "v2" and text is not None and _is_json(text):
            json_keys.append(key)
        description = item.get("description")
        read.state.variables.append(
            Variable(key=key, value=Secret(text or ""), description=str(description) if description else None)
        )
    if json_keys:
        read.state.notes.append(
            f"{len(json_keys)} variable(s) hold JSON, which the Airflow 3 API returns re-serialized: equal "
            f"JSON, the text may differ in spacing, escapes or number forms ({', '.join(json_keys[:20])}"
            + (", ..." if len(json_keys) > 20 else "")
            + ")"
        )


def read_connections(source: ApiSource, read: _Read, allow_missing_passwords: bool) -> None:
    without_password = []
    for item in source.list_all("connections"):
        conn_id = str(item.get("connection_id"))
        if source.api == "v1":
            # The 2.x collection has neither extra nor password; the single GET has the (redacted) extra.
            item = {**item, **source.get_connection(conn_id)}
            has_password = True  # write-only: whether there is one cannot be known
        else:
            has_password = item.get("password") not in (None, "")
        extra = item.get("extra")
        extra_text = None if extra in (None, "") else str(extra)
        hidden = masked_keys(extra_text)
        if hidden:
            read.left_out.append(
                f"connection {conn_id!r} left out: its extra comes back with masked field(s) "
                f"{', '.join(hidden)} from the source API"
            )
            continue
        port = item.get("port")
        read.state.connections.append(
            Connection(
                conn_id=conn_id,
                conn_type=str(item.get("conn_type") or ""),
                host=item.get("host") or None,
                schema=item.get("schema") or None,
                login=item.get("login") or None,
                password=None,
                port=int(port) if port not in (None, "") else None,
                extra=Secret(extra_text) if extra_text else None,
                description=item.get("description") or None,
            )
        )
        if has_password:
            without_password.append(conn_id)
    if not without_password:
        return
    without_password.sort()
    why = (
        "the Airflow 2 API never returns passwords (write-only), so any of them may have one"
        if source.api == "v1"
        else "the Airflow 3 API returns passwords redacted as ***"
    )
    if not allow_missing_passwords:
        raise AirshiftError(
            f"{len(without_password)} connection(s) would arrive without their password "
            f"({', '.join(repr(c) for c in without_password[:20])}{', ...' if len(without_password) > 20 else ''}): "
            f"{why}. Nothing was written. Transfer them without passwords with --allow-missing-passwords "
            "(then set the passwords on the target), or read the source's metadata database instead "
            "(--from DB_URL with --from-fernet-key-file), or the file `airflow connections export` writes"
        )
    for conn_id in without_password:
        read.state.notes.append(
            f"connection {conn_id!r} transferred without a password (--allow-missing-passwords; {why}): "
            "set it on the target"
        )
    read.state.notes.append(
        "with --on-conflict overwrite, a connection above that already exists on the target is overwritten "
        "without a password; --on-conflict skip leaves it as it is"
    )


def read_pools(source: ApiSource, read: _Read) -> None:
    for item in source.list_all("pools"):
        description = item.get("description")
        read.state.pools.append(
            Pool(
                name=str(item.get("name")),
                slots=int(item.get("slots") or 0),
                description=str(description) if description else None,
                include_deferred=bool(item.get("include_deferred") or False),
            )
        )


def read_paused(source: ApiSource, read: _Read, dag_glob: str | None) -> None:
    for item in source.list_all("dags"):
        dag_id = str(item.get("dag_id"))
        if dag_glob and not fnmatch.fnmatchcase(dag_id, dag_glob):
            continue
        # As from the database: DAGs whose file is gone and 1.10-style SubDAGs are not carried over.
        if item.get("is_active") is False or item.get("is_stale") is True or item.get("is_subdag"):
            continue
        read.state.paused.append(PausedState(dag_id=dag_id, is_paused=bool(item.get("is_paused"))))


def read_api_state(
    source: ApiSource, kinds: tuple[Kind, ...], dag_glob: str | None, allow_missing_passwords: bool = False
) -> SourceState:
    """Variables, connections (without passwords), pools and paused state as the source's API gives
    them. Raises before anything is written when connections would lose their password unasked."""
    read = _Read(SourceState.empty(), [])
    if "connections" in kinds:  # first: a refusal should come before the slower reads
        read_connections(source, read, allow_missing_passwords)
    if "variables" in kinds:
        read_variables(source, read)
    if "pools" in kinds:
        read_pools(source, read)
    if "paused" in kinds:
        read_paused(source, read, dag_glob)
    state = read.state
    state.variables.sort(key=lambda item: item.key)
    state.connections.sort(key=lambda item: item.conn_id)
    state.pools.sort(key=lambda item: item.name)
    state.paused.sort(key=lambda item: item.dag_id)
    state.notes[:0] = [f"source: {source.airflow} REST API (/api/{source.api}) at {source.base_url}"]
    state.notes.extend(read.left_out)
    if read.left_out:
        state.notes.append(
            f"{len(read.left_out)} object(s) left out because the API masks their values: transfer them from "
            "the metadata database URL (--from DB_URL --from-fernet-key-file F) or set them on the target"
        )
    return state
