"""Read the JSON files that `airflow variables export`, `airflow pools export` and (2.x+)
`airflow connections export` write.

Which kind a file holds is read from its entries (pools have `slots`, connections `conn_type`), so the
user does not have to say. Variable values are rebuilt the way Airflow's own `variables import` does:
the export decoded JSON values, so a non-string value is stored as JSON text again; 3.x writes
`{"value": ..., "description": ...}` for variables with a description.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from airshift.errors import AirshiftError
from airshift.state.model import Connection, Kind, Pool, SourceState, Variable
from airshift.state.secret import Secret

_CONNECTION_FIELDS = {"conn_type", "description", "host", "login", "password", "port", "schema", "extra"}


def detect_kind(entries: dict[str, Any]) -> Kind:
    values = list(entries.values())
    if values and all(isinstance(value, dict) and "slots" in value for value in values):
        return "pools"
    if values and all(isinstance(value, dict) and "conn_type" in value for value in values):
        return "connections"
    return "variables"


def _load(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise AirshiftError(f"cannot read export file {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise AirshiftError(f"export file {path} is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        # The position only: the message of a JSON error can quote the file's (secret) content.
        raise AirshiftError(
            f"export file {path} is not valid JSON (line {error.lineno}, column {error.colno})"
        ) from None
    if not isinstance(data, dict):
        raise AirshiftError(
            f"export file {path} holds a JSON {type(data).__name__}; an Airflow export is an object"
        )
    return data


def _text(value: Any, path: Path, what: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise AirshiftError(f"{path}: {what} must be text, not a JSON {type(value).__name__}")
    return str(value)


def _variable(key: str, raw: Any) -> Variable:
    description = None
    if isinstance(raw, dict) and "value" in raw:
        raw, description = raw["value"], raw.get("description")
    # Airflow's `variables import` stores non-strings as JSON (Variable.set(serialize_json=True)).
    value = raw if isinstance(raw, str) else json.dumps(raw, indent=2)
    return Variable(key=key, value=Secret(value), description=description)


def _connection(conn_id: str, raw: dict[str, Any], path: Path) -> Connection:
    unknown = sorted(set(raw) - _CONNECTION_FIELDS)
    if unknown:
        raise AirshiftError(f"{path}: connection {conn_id!r} has unknown field(s) {', '.join(unknown)}")
    port = raw.get("port")
    try:
        port_number = int(port) if port not in (None, "") else None
    except (TypeError, ValueError):
        raise AirshiftError(f"{path}: connection {conn_id!r} has a port that is not a number") from None
    extra = raw.get("extra")
    if isinstance(extra, dict):
        extra = json.dumps(extra)
    password = _text(raw.get("password"), path, f"connection {conn_id!r} password")
    extra_text = _text(extra, path, f"connection {conn_id!r} extra")
    return Connection(
        conn_id=conn_id,
        conn_type=_text(raw.get("conn_type"), path, f"connection {conn_id!r} conn_type") or "",
        host=_text(raw.get("host"), path, "host") or None,
        schema=_text(raw.get("schema"), path, "schema") or None,
        login=_text(raw.get("login"), path, "login") or None,
        password=Secret(password) if password else None,
        port=port_number,
        extra=Secret(extra_text) if extra_text else None,
        description=_text(raw.get("description"), path, "description") or None,
    )


def _pool(name: str, raw: dict[str, Any], path: Path) -> Pool:
    try:
        slots = int(raw["slots"])
    except (TypeError, ValueError):
        raise AirshiftError(f"{path}: pool {name!r} has slots that are not a number") from None
    return Pool(
        name=name,
        slots=slots,
        description=_text(raw.get("description"), path, f"pool {name!r} description") or None,
        include_deferred=bool(raw.get("include_deferred") or False),
    )


def read_export_file(path: Path, state: SourceState) -> Kind:
    """Add the objects of one export file to `state`; returns the kind the file held."""
    entries = _load(path)
    kind = detect_kind(entries)
    if kind == "variables":
        state.variables.extend(_variable(str(key), raw) for key, raw in entries.items())
    elif kind == "connections":
        state.connections.extend(_connection(str(key), raw, path) for key, raw in entries.items())
    else:
        state.pools.extend(_pool(str(key), raw, path) for key, raw in entries.items())
    return kind


def read_export_files(paths: list[Path]) -> SourceState:
    state = SourceState.empty()
    seen: dict[Kind, Path] = {}
    for path in paths:
        kind = read_export_file(path, state)
        if kind in seen:
            raise AirshiftError(f"{path} and {seen[kind]} both hold {kind}; give one file per kind")
        seen[kind] = path
    state.variables.sort(key=lambda item: item.key)
    state.connections.sort(key=lambda item: item.conn_id)
    state.pools.sort(key=lambda item: item.name)
    state.notes.append("export files carry no paused state and no run history")
    return state
