"""Reading the JSON files `airflow variables/pools/connections export` write (2.x and 3.x shapes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airshift.errors import AirshiftError
from airshift.state.sources.files import read_export_files


def _write(folder: Path, name: str, data: object) -> Path:
    path = folder / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_variables_rebuilt_like_airflow_import(tmp_path: Path) -> None:
    path = _write(tmp_path, "v.json", {
        "plain": "text",
        "decoded": {"a": [1, 2]},
        "number": 42,
        "with_description": {"value": "v", "description": "about v"},  # 3.x shape
    })  # fmt: skip
    state = read_export_files([path])
    got = {v.key: (v.value.reveal(), v.description) for v in state.variables}
    assert got["plain"] == ("text", None)
    assert json.loads(got["decoded"][0]) == {"a": [1, 2]}
    assert got["number"] == ("42", None)
    assert got["with_description"] == ("v", "about v")


def test_connections_and_pools_detected_by_shape(tmp_path: Path) -> None:
    conns = _write(tmp_path, "c.json", {
        "db": {"conn_type": "postgres", "host": "h", "login": "u", "password": "pw", "port": 5432,
               "schema": "s", "extra": '{"sslmode": "require"}', "description": None},
    })  # fmt: skip
    pools = _write(tmp_path, "p.json", {"etl": {"slots": 4, "description": "d", "include_deferred": True}})
    state = read_export_files([conns, pools])
    (conn,) = state.connections
    assert (conn.conn_type, conn.host, conn.port) == ("postgres", "h", 5432)
    assert conn.password is not None and conn.password.reveal() == "pw"
    assert "pw" not in repr(conn)
    assert [(p.name, p.slots, p.include_deferred) for p in state.pools] == [("etl", 4, True)]


def test_bad_files_are_clear_errors_without_content(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"secret-value": ', encoding="utf-8")
    with pytest.raises(AirshiftError, match="not valid JSON") as caught:
        read_export_files([broken])
    assert "secret-value" not in str(caught.value)
    with pytest.raises(AirshiftError, match="holds a JSON list"):
        read_export_files([_write(tmp_path, "list.json", [1])])
    port = _write(tmp_path, "port.json", {"c": {"conn_type": "http", "port": "eighty"}})
    with pytest.raises(AirshiftError, match="connection 'c' has a port"):
        read_export_files([port])
    one, two = _write(tmp_path, "a.json", {"k": "v"}), _write(tmp_path, "b.json", {"k2": "v"})
    with pytest.raises(AirshiftError, match="both hold variables"):
        read_export_files([one, two])
