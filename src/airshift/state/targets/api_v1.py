"""An Airflow 2.x webserver as a transfer target: its stable REST API `/api/v1`.

No bulk endpoints there: one request per object (POST to create, PATCH to update). Authentication is
basic auth (the webserver must list `airflow.api.auth.backend.basic_auth` in `[api] auth_backends`) or
a bearer token for deployments whose auth backend takes one.

What the target's objects look like through `/api/v1`, for planning:

- variables: listed with their values (2.x does not redact variables in the API);
- connections: the list has neither password nor extra; the single GET has the extra (sensitive keys
  redacted) and never the password (write-only): the password is `HIDDEN`, so only the ledger can say
  whether it is the one airshift wrote;
- pools: listed whole (`include_deferred` from 2.7).

Error messages name the object, the status and Airflow's reason with every value of the request
blanked out: a 400 from 2.x quotes the validation messages, which must not carry a password along.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import httpx

from airshift.errors import AirshiftError
from airshift.state.model import Connection, Pool, StateObject, Variable
from airshift.state.plan import PlanItem
from airshift.state.secret import MASK, Secret
from airshift.state.targets.api import HIDDEN, request_body
from airshift.state.targets.api_v2 import (
    airflow_version_in,
    first_line,
    get_version,
    normalize_base_url,
    tls_verify,
)

PAGE = 100
_SINGULAR = {"variables": "variable", "connections": "connection", "pools": "pool"}


def airflow2_version(
    base_url: str,
    *,
    user: str | None = None,
    password: Secret | None = None,
    token: Secret | None = None,
    verify: bool | str = True,
    timeout: float = 30.0,
) -> str | None:
    """The Airflow version when `base_url` is an Airflow 2.x webserver (`GET /api/v1/version`), else None.
    Asked without credentials first (the endpoint is public in Airflow 2), then with them, for
    deployments that put every path behind authentication."""
    base = normalize_base_url(base_url)
    attempts: list[tuple[httpx.BasicAuth | None, dict[str, str]]] = [(None, {})]
    if token is not None or (user and password is not None):
        attempts.append((_basic(user, password) if token is None else None, _bearer(token)))
    for auth, headers in attempts:
        try:
            response = get_version(base, "v1", auth=auth, headers=headers, verify=verify, timeout=timeout)
        except httpx.HTTPError as error:
            raise AirshiftError(f"cannot reach the target {base}: {first_line(error)}") from None
        if response.status_code in (401, 403):
            continue
        version = airflow_version_in(response)
        return version if version is not None and version.startswith("2.") else None
    return None


def _basic(user: str | None, password: Secret | None) -> httpx.BasicAuth | None:
    return httpx.BasicAuth(user, password.reveal()) if user and password is not None else None


def _bearer(token: Secret | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token.reveal()}"} if token is not None else {}


def _version_tuple(version: str) -> tuple[int, ...]:
    parts = []
    for part in version.split(".")[:2]:
        digits = "".join(char for char in part if char.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


class ApiV1Target:
    """Reads and writes a 2.x webserver's variables, connections, pools and paused flags."""

    def __init__(
        self,
        base_url: str,
        version: str,
        *,
        user: str | None = None,
        password: Secret | None = None,
        token: Secret | None = None,
        verify: bool | str = True,
        timeout: float = 60.0,
    ) -> None:
        if token is None and (not user or password is None):
            raise AirshiftError("an Airflow 2 target needs --to-user with a password, or a token")
        self.base_url = normalize_base_url(base_url)
        self.version = version
        self.description = f"Airflow {version} webserver (/api/v1)"
        self._client = httpx.Client(
            base_url=self.base_url,
            auth=_basic(user, password) if token is None else None,
            headers=_bearer(token),
            verify=tls_verify(verify),
            timeout=timeout,
        )
        # `include_deferred` exists on pools from 2.7; older servers refuse unknown fields.
        self._pools_defer = _version_tuple(version) >= (2, 7)

    def close(self) -> None:
        self._client.close()

    # -- HTTP ---------------------------------------------------------------------------------------

    def _request(
        self, method: str, path: str, what: str, hide: Iterable[str] = (), **kwargs: Any
    ) -> httpx.Response:
        try:
            response = self._client.request(method, f"/api/v1{path}", **kwargs)
        except httpx.HTTPError as error:
            raise AirshiftError(f"{what}: cannot reach {self.base_url}: {first_line(error)}") from None
        if response.status_code == 401:
            raise AirshiftError(
                f"{what}: the target refused the credentials (HTTP 401): wrong user name or password, or basic "
                "auth not enabled (the webserver needs [api] auth_backends = "
                "airflow.api.auth.backend.basic_auth for a user and password)"
            )
        if response.status_code == 403:
            raise AirshiftError(
                f"{what}: the target denied access (HTTP 403): wrong user name or password, basic auth not "
                "enabled ([api] auth_backends = airflow.api.auth.backend.basic_auth), or the user lacks the "
                "Op or Admin role"
            )
        if response.status_code >= 400 and response.status_code != 404:
            raise AirshiftError(
                f"{what}: HTTP {response.status_code} from {self.base_url}{_safe_reason(response, hide)}"
            )
        return response

    @staticmethod
    def _json(response: httpx.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise AirshiftError(f"{what}: the target answered with something that is not JSON") from None

    def _list(self, collection: str) -> Iterator[dict[str, Any]]:
        what = f"reading {collection} from the target"
        offset = 0
        while True:
            response = self._request("GET", f"/{collection}", what, params={"limit": PAGE, "offset": offset})
            if response.status_code == 404:
                raise AirshiftError(f"{what}: {self.base_url}/api/v1/{collection} does not exist (HTTP 404)")
            data = self._json(response, what)
            items = data.get(collection) if isinstance(data, dict) else None
            if not isinstance(items, list):
                raise AirshiftError(f"{what}: the target answered without a {collection!r} list")
            yield from (item for item in items if isinstance(item, dict))
            offset += len(items)
            if not items or offset >= int(data.get("total_entries") or 0):
                return

    # -- planning reads -----------------------------------------------------------------------------

    def existing(self, kind: str, wanted: set[str]) -> dict[str, dict[str, Any]]:
        """The target's objects of `kind` by id, in the planner's field names."""
        if kind == "variables":
            variables = {str(item["key"]): item for item in self._list("variables")}
            for key in wanted & {key for key, item in variables.items() if "value" not in item}:
                # The documented list has no values (2.11 sends them anyway): ask one by one.
                what = f"reading variable {key!r} from the target"
                response = self._request("GET", f"/variables/{_quote(key)}", what)
                single = self._json(response, what) if response.status_code != 404 else {}
                variables[key] = {**variables[key], **(single if isinstance(single, dict) else {})}
            return variables
        if kind == "pools":
            return {str(item["name"]): item for item in self._list("pools")}
        found: dict[str, dict[str, Any]] = {}
        for item in self._list("connections"):
            conn_id = str(item["connection_id"])
            if conn_id not in wanted:
                continue
            # Only the single GET has the extra (redacted); no GET ever has the password.
            what = f"reading connection {conn_id!r} from the target"
            response = self._request("GET", f"/connections/{_quote(conn_id)}", what)
            single = self._json(response, what) if response.status_code != 404 else {}
            found[conn_id] = {**item, **(single if isinstance(single, dict) else {}), "password": HIDDEN}
        return found

    def get_dag(self, dag_id: str) -> dict[str, Any] | None:
        what = f"reading DAG {dag_id!r} from the target"
        response = self._request("GET", f"/dags/{_quote(dag_id)}", what)
        if response.status_code == 404:
            return None
        result: dict[str, Any] = self._json(response, what)
        return result

    # -- writes -------------------------------------------------------------------------------------

    def set_paused(self, dag_id: str, is_paused: bool) -> None:
        what = f"setting DAG {dag_id!r} {'paused' if is_paused else 'unpaused'} on the target"
        response = self._request(
            "PATCH",
            f"/dags/{_quote(dag_id)}",
            what,
            params={"update_mask": "is_paused"},
            json={"is_paused": is_paused},
        )
        if response.status_code == 404:
            raise AirshiftError(f"{what}: the target has no DAG {dag_id!r} (HTTP 404)")

    def write(self, kind: str, items: list[PlanItem]) -> None:
        """Create or update each object; every object is tried, the failures are reported together."""
        errors = []
        for item in items:
            try:
                self._write_one(kind, item.obj, item.action)
            except AirshiftError as error:
                errors.append(str(error))
        if errors:
            raise AirshiftError(
                f"the target refused {len(errors)} of {len(items)} {kind}: "
                + "; ".join(errors[:5])
                + ("; ..." if len(errors) > 5 else "")
            )

    def _write_one(self, kind: str, obj: StateObject, action: str) -> None:
        body = self._body(obj, action)
        hide = _values(obj)
        name = f"{_SINGULAR[kind]} {obj.ident!r}"
        what = f"{'creating' if action == 'create' else 'updating'} {name}"
        if isinstance(obj, Variable):
            # POST replaces a variable whole (Variable.set): an update leaves no stale description.
            response = self._request("POST", "/variables", what, hide, json=body)
        elif action == "create":
            response = self._request("POST", f"/{kind}", what, hide, json=body)
        else:
            # PATCH without update_mask sets every field sent, and every field is sent.
            response = self._request("PATCH", f"/{kind}/{_quote(obj.ident)}", what, hide, json=body)
        if response.status_code == 404:
            raise AirshiftError(f"{what}: HTTP 404 (it is no longer on the target)")

    def _body(self, obj: StateObject, action: str) -> dict[str, Any]:
        body = request_body(obj)
        if isinstance(obj, Variable) and body.get("description") is None:
            body.pop("description")  # 2.x validates description as a string, not null
        if isinstance(obj, Connection) and body.get("password") is None:
            # The spec has no null password. A PATCH leaves out what it is not sent, so an overwrite
            # empties a password the source does not have instead.
            if action == "create":
                body.pop("password")
            else:
                body["password"] = ""
        if isinstance(obj, Pool) and not self._pools_defer:
            body.pop("include_deferred")
        return body


def _values(obj: StateObject) -> list[str]:
    """The secret values in `obj`'s request body, to blank out of any error reason."""
    if isinstance(obj, Variable):
        return [obj.value.reveal()]
    if isinstance(obj, Connection):
        return [secret.reveal() for secret in (obj.password, obj.extra) if secret is not None]
    return []


def _quote(part: str) -> str:
    return httpx.URL(f"http://x/{part}").raw_path.decode("ascii").lstrip("/").replace("/", "%2F")


def _safe_reason(response: httpx.Response, hide: Iterable[str]) -> str:
    """Airflow's title and detail for an error, with the request's values blanked and cut short."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    parts = [str(body[name]) for name in ("title", "detail") if isinstance(body.get(name), str)]
    reason = ": ".join(dict.fromkeys(part.strip() for part in parts if part.strip()))
    # The value as sent, and as Python's repr or JSON would quote it inside a validation message.
    forms = {form for value in hide if value for form in (value, repr(value)[1:-1], json.dumps(value)[1:-1])}
    for form in sorted((form for form in forms if form), key=len, reverse=True):
        reason = reason.replace(form, MASK)
    return f" ({reason.splitlines()[0][:200]})" if reason else ""
