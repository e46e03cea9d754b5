"""A small HTTP client for the EventStream API (httpx): a consumer source, an artifact publisher.

The token comes from a file or the environment, never from the command line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx

from airshift.errors import AirshiftError
from airshift.events.model import Event, NewEvent
from airshift.events.stores import EventFilter
from airshift.redaction import remember

TOKEN_ENV = "AIRSHIFT_EVENTS_TOKEN"


def read_token(token_file: Path | None) -> str:
    """The API token from `token_file`, else $AIRSHIFT_EVENTS_TOKEN."""
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise AirshiftError(f"cannot read the token file {token_file}: {error.strerror}") from None
        if not token:
            raise AirshiftError(f"the token file {token_file} is empty")
        remember(token)
        return token
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise AirshiftError(f"no API token: pass --token-file FILE or set ${TOKEN_ENV}")
    remember(token)
    return token


class EventsClient:
    def __init__(self, base_url: str, token: str, timeout: float = 30.0, wait: float = 0.0) -> None:
        self.base_url = base_url.rstrip("/")
        if "@" in self.base_url.split("://", 1)[-1].split("/", 1)[0]:
            raise AirshiftError(
                f"the EventStream URL holds credentials; give the token with --token-file or ${TOKEN_ENV}"
            )
        self.wait = wait  # long-poll seconds used by read() when nothing is new
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout + wait,
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise AirshiftError(f"EventStream API {self.base_url}{path}: {error}") from None
        if response.status_code == 401:
            raise AirshiftError(f"EventStream API {self.base_url}: the token was refused")
        if response.status_code >= 400:
            raise AirshiftError(
                f"EventStream API {self.base_url}{path}: HTTP {response.status_code} {response.text[:300]}"
            )
        return response.json()

    def read(self, after: int, limit: int, where: EventFilter | None = None) -> list[Event]:
        params: dict[str, Any] = {"after": after, "limit": min(limit, 1000), "wait": self.wait}
        if where is not None:
            params.update({k: v for k, v in vars(where).items() if v is not None})
        page = self._call("GET", "/events", params=params)
        return [Event.model_validate(item) for item in page["events"]]

    def last_offset(self) -> int:
        return int(self._call("GET", "/events", params={"after": 0, "limit": 1})["last_offset"])

    def run_status(self, dag_id: str, run_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/runs/{dag_id}/{run_id}")
        return result

    def publish_artifact(self, artifact: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/artifacts", json=artifact)
        return result

    def supplement(self, event: NewEvent, detail: dict[str, Any], append: bool) -> dict[str, Any]:
        body = {"event": event.model_dump(), "detail": detail, "append": append}
        result: dict[str, Any] = self._call("POST", "/supplements", json=body)
        return result

    def close(self) -> None:
        self._http.close()
