"""A small client for an Airflow 3.x API server (`/api/v2`): JWT auth, paged reads, bulk writes.

Error messages never include request or response bodies: FastAPI's validation errors echo the input,
which would put connection passwords and variable values into the user's terminal.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator
from typing import Any

import httpx

from airshift.errors import AirshiftError
from airshift.redaction import redact
from airshift.state.secret import Secret

PAGE = 100


class ApiV2Client:
    def __init__(
        self, base_url: str, token: Secret, *, verify: bool | str = True, timeout: float = 60.0
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        self._client = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token.reveal()}"},
            verify=tls_verify(verify),
            timeout=timeout,
        )

    @classmethod
    def login(
        cls, base_url: str, username: str, password: Secret, *, verify: bool | str = True
    ) -> ApiV2Client:
        """Exchange a user name and password for a JWT at `/auth/token` (simple or FAB auth manager)."""
        base = normalize_base_url(base_url)
        return cls(base, request_jwt(base, username, password, verify=verify), verify=verify)

    def close(self) -> None:
        self._client.close()

    def _request(self, method: str, path: str, what: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._client.request(method, f"/api/v2{path}", **kwargs)
        except httpx.HTTPError as error:
            raise AirshiftError(f"{what}: cannot reach {self.base_url}: {error}") from None
        if response.status_code in (401, 403):
            raise AirshiftError(
                f"{what}: the target refused the credentials (HTTP {response.status_code}); "
                "variables, connections and pools need the OP or ADMIN role"
            )
        return response

    def _check(self, response: httpx.Response, what: str) -> Any:
        if response.status_code >= 400:
            raise AirshiftError(
                f"{what}: HTTP {response.status_code} from {self.base_url}{_safe_detail(response)}"
            )
        return response.json()

    def list_all(self, collection: str, item_field: str) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            what = f"reading {collection} from the target"
            data = self._check(
                self._request("GET", f"/{collection}", what, params={"limit": PAGE, "offset": offset}), what
            )
            items = data.get(item_field) or []
            yield from items
            offset += len(items)
            if not items or offset >= int(data.get("total_entries", 0)):
                return

    def get_dag(self, dag_id: str) -> dict[str, Any] | None:
        what = f"reading DAG {dag_id!r} from the target"
        response = self._request("GET", f"/dags/{_quote(dag_id)}", what)
        if response.status_code == 404:
            return None
        result: dict[str, Any] = self._check(response, what)
        return result

    def set_paused(self, dag_id: str, is_paused: bool) -> None:
        what = f"setting DAG {dag_id!r} {'paused' if is_paused else 'unpaused'} on the target"
        self._check(
            self._request("PATCH", f"/dags/{_quote(dag_id)}", what, json={"is_paused": is_paused}), what
        )

    def bulk(self, collection: str, actions: list[dict[str, Any]]) -> dict[str, Any]:
        """PATCH /{collection} with bulk actions; returns {action: {success: [...], errors: [...]}}."""
        what = f"writing {collection} to the target"
        result: dict[str, Any] = self._check(
            self._request("PATCH", f"/{collection}", what, json={"actions": actions}), what
        )
        return result


def request_jwt(
    base: str, username: str, password: Secret, *, verify: bool | str = True, role: str = "target"
) -> Secret:
    """A JWT for `username` from an Airflow 3 API server's `/auth/token` (simple or FAB auth manager).
    `role` ("source" or "target") only names the server in messages."""
    try:
        response = httpx.post(
            f"{base}/auth/token",
            json={"username": username, "password": password.reveal()},
            verify=tls_verify(verify),
            timeout=60.0,
        )
    except httpx.HTTPError as error:
        raise AirshiftError(f"cannot reach the {role} API server {base}: {first_line(error)}") from None
    if response.status_code not in (200, 201):
        raise AirshiftError(
            f"login to {base}/auth/token as {username!r} failed: HTTP {response.status_code}"
            + (" (wrong user name or password)" if response.status_code in (401, 403) else "")
        )
    try:
        token = response.json().get("access_token")
    except (ValueError, AttributeError):
        token = None
    if not isinstance(token, str) or not token:
        raise AirshiftError(f"{base}/auth/token answered without an access_token")
    return Secret(token)


def tls_verify(verify: bool | str) -> bool | ssl.SSLContext:
    """httpx's `verify` for True/False or a CA bundle path (httpx deprecates passing the path itself)."""
    if not isinstance(verify, str):
        return verify
    try:
        return ssl.create_default_context(cafile=verify)
    except (OSError, ssl.SSLError) as error:
        raise AirshiftError(f"CA file {verify} cannot be loaded: {first_line(error)}") from None


def airflow_version_in(response: httpx.Response) -> str | None:
    """The version in an Airflow version answer, or None when the answer is not Airflow's: a 200 with a
    JSON object holding both `version` (like 3.3.2) and `git_version`, as Airflow 2 and 3 both send."""
    if response.status_code != 200:
        return None
    try:
        data = response.json()
    except ValueError:
        return None
    if not isinstance(data, dict) or "git_version" not in data:
        return None
    version = data.get("version")
    return version if isinstance(version, str) and re.match(r"^\d+\.\d+", version) else None


def get_version(
    base: str,
    api: str,
    *,
    auth: httpx.BasicAuth | None,
    headers: dict[str, str],
    verify: bool | str,
    timeout: float,
) -> httpx.Response:
    """`GET {base}/api/{api}/version`, how both directions tell Airflow 2 (`v1`) from 3 (`v2`). No
    redirects: a login page answering in Airflow's place must not look like a version."""
    return httpx.get(
        f"{base}/api/{api}/version",
        auth=auth,
        headers=headers,
        verify=tls_verify(verify),
        timeout=timeout,
        follow_redirects=False,
    )


def first_line(error: Exception) -> str:
    """The first line of an exception's message (httpx errors can span lines)."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def normalize_base_url(raw: str) -> str:
    base = raw.strip().rstrip("/")
    for suffix in ("/api/v2", "/api/v1"):
        base = base.removesuffix(suffix)
    if not base.startswith(("http://", "https://")):
        raise AirshiftError(f"target {redact(raw)!r} is not an http(s) URL of an Airflow API server")
    if "@" in base.split("://", 1)[1].split("/", 1)[0]:
        # like the database URLs: a command line ends up in shell history and process lists
        raise AirshiftError(
            "the API URL holds credentials; give them with --to-user and --to-password-file (or "
            "$AIRSHIFT_TO_PASSWORD), or --to-token-file (or $AIRSHIFT_TO_TOKEN)"
        )
    return base


def _quote(part: str) -> str:
    return httpx.URL(f"http://x/{part}").raw_path.decode("ascii").lstrip("/").replace("/", "%2F")


def _safe_detail(response: httpx.Response) -> str:
    """A short reason from an error response, without echoing any submitted value."""
    try:
        body = response.json()
    except ValueError:
        return ""
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, str):
        return f": {detail[:200]}"
    if isinstance(detail, list):
        reasons = []
        for item in detail[:5]:
            if isinstance(item, dict):
                location = ".".join(str(part) for part in item.get("loc", []) if not isinstance(part, int))
                reasons.append(f"{location}: {item.get('msg', '')}")
        return ": " + "; ".join(reasons) if reasons else ""
    return ""


def safe_bulk_error(error: dict[str, Any]) -> str:
    """The reason of one bulk error entry (`{"error": ..., "status_code": ...}`), values stripped."""
    message = str(error.get("error", "error"))
    return message.splitlines()[0][:200]
