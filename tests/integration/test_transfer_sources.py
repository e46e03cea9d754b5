"""Read real Airflow 2.11.2 (PostgreSQL) and 1.10.15 (SQLite) metadata DBs, filled through each
Airflow's own CLI, by reflection and Fernet decryption, without importing Airflow."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airshift.errors import AirshiftError
from airshift.state.dburl import parse_db_url
from airshift.state.fernet import Decryptor, load_decryptor
from airshift.state.model import ALL_KINDS, SourceState
from airshift.state.sources.db import MetadataDB, read_state
from airshift.state.sources.files import read_export_files
from airshift.state.targets.history import count_history
from tests.state import shared_sources as shared
from tests.state.airflow_envs import AirflowEnv
from tests.state.source_fixtures import CONNECTIONS, PAUSED, POOLS, VARIABLES, new_key

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def source_211_env() -> AirflowEnv:
    return shared.source_211()


@pytest.fixture(scope="module")
def source_110_env() -> AirflowEnv:
    return shared.source_110()


_key_file = shared.key_file


def _read(url: str, key_file: Path | None) -> SourceState:
    db = MetadataDB(parse_db_url(url, "source"))
    try:
        return read_state(db, load_decryptor(key_file, env={}), ALL_KINDS, None)
    finally:
        db.close()


def _assert_matches_fixture(state: SourceState, with_descriptions: bool) -> None:
    assert {v.key: v.value.reveal() for v in state.variables} == VARIABLES
    if with_descriptions:
        assert {v.key: v.description for v in state.variables if v.key != "early_var"} == {
            k: f"about {k}" for k in VARIABLES if k != "early_var"
        }
    by_id = {c.conn_id: c for c in state.connections}
    for conn_id, (conn_type, host, login, password, port, schema, extra) in CONNECTIONS.items():
        conn = by_id[conn_id]
        assert (conn.conn_type, conn.host, conn.login, conn.port, conn.schema) == (
            conn_type,
            host,
            login,
            port,
            schema,
        )
        assert conn.password is not None and conn.password.reveal() == password
        assert conn.extra is not None and json.loads(conn.extra.reveal()) == extra
    pools = {p.name: (p.slots, p.description) for p in state.pools}
    assert {name: pools[name] for name in POOLS} == POOLS
    assert {p.dag_id: p.is_paused for p in state.paused} == PAUSED


def test_reads_airflow_211_on_postgres(source_211_env: AirflowEnv, tmp_path: Path) -> None:
    url = source_211_env.db_url.replace("+psycopg2", "")
    state = _read(url, _key_file(source_211_env, tmp_path))
    _assert_matches_fixture(state, with_descriptions=True)
    assert "***" in repr(state.connections[0]) and "p@ss" not in repr(state)


def test_reads_airflow_110_on_sqlite(source_110_env: AirflowEnv, tmp_path: Path) -> None:
    state = _read(source_110_env.db_url, _key_file(source_110_env, tmp_path))
    _assert_matches_fixture(state, with_descriptions=False)


def test_reads_airflow_110_on_mariadb(tmp_path: Path) -> None:
    source = shared.source_110_mariadb()
    state = _read(source.db_url, _key_file(source, tmp_path))
    _assert_matches_fixture(state, with_descriptions=False)
    db = MetadataDB(parse_db_url(source.db_url, "source"))
    try:
        assert count_history(db, None, None) == (3, 5)  # the backfill's runs and task instances
        assert count_history(db, "etl_*", None) == (2, 4)
    finally:
        db.close()


def test_missing_rotated_key_names_the_object(source_110_env: AirflowEnv, tmp_path: Path) -> None:
    only_new = tmp_path / "only-new.key"
    only_new.write_text(source_110_env.fernet_keys[0], encoding="utf-8")
    with pytest.raises(AirshiftError, match="variable 'early_var' cannot be decrypted") as caught:
        _read(source_110_env.db_url, only_new)
    assert source_110_env.fernet_keys[0] not in str(caught.value)


def test_no_key_for_encrypted_db_is_a_clear_error(source_110_env: AirflowEnv) -> None:
    with pytest.raises(AirshiftError, match="encrypted but no source Fernet key"):
        _read(source_110_env.db_url, None)


def test_decryptor_rejects_malformed_key_without_echoing_it() -> None:
    with pytest.raises(AirshiftError, match="key #2 is not a valid Fernet key") as caught:
        Decryptor([new_key(), "not-a-key-value"], "keys.txt")
    assert "not-a-key-value" not in str(caught.value)


def test_reads_airflow_110_export_files(source_110_env: AirflowEnv, tmp_path: Path) -> None:
    """The files 1.10's own `variables -e` and `pool -e` write (1.10 has no connections export)."""
    variables, pools = tmp_path / "variables.json", tmp_path / "pools.json"
    source_110_env.cli_batch([["variables", "-e", str(variables)], ["pool", "-e", str(pools)]])
    state = read_export_files([variables, pools])
    # The export decodes JSON values; they are rebuilt as equal JSON, like `variables -i` would.
    got = {v.key: v.value.reveal() for v in state.variables}
    assert {k: json.loads(v) if k == "json_cfg" else v for k, v in got.items()} == {
        k: json.loads(v) if k == "json_cfg" else v for k, v in VARIABLES.items()
    }
    assert {p.name: (p.slots, p.description) for p in state.pools if p.name in POOLS} == POOLS
    assert state.connections == []
