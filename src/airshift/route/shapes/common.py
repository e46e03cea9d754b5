"""Helpers several shapes share: JSON bodies, conf values, default run ids."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any


class BodyError(ValueError):
    """A body the caller's Airflow would refuse; the message never quotes submitted values."""


def json_body(raw: bytes) -> Any:
    """The decoded JSON body; an empty body is an empty object (1.10's `get_json(force=True)` on curl -X POST)."""
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BodyError("the request body is not valid JSON") from None


def json_object(raw: bytes) -> dict[str, Any]:
    body = json_body(raw)
    if not isinstance(body, dict):
        raise BodyError("the request body must be a JSON object")
    return body


def conf_value(value: Any, *, allow_string: bool) -> dict[str, Any]:
    """A run conf: a JSON object, None (empty), or (1.10 and 2.x) a string holding a JSON object."""
    if value is None:
        return {}
    if isinstance(value, str) and allow_string:
        try:
            value = json.loads(value)
        except ValueError:
            raise BodyError("conf is a string but not JSON") from None
    if not isinstance(value, dict):
        raise BodyError("Dag Run conf must be a dictionary object, other types are not supported")
    return value


def manual_run_id(when: datetime) -> str:
    """The run id Airflow gives a manual run: `manual__<ISO date>`."""
    return f"manual__{when.isoformat()}"
