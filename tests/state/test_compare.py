"""Deciding whether a target object (as the Airflow 3 API returns it, secrets redacted) equals a source
object: True, False, or unknown when redaction hides the answer."""

from __future__ import annotations

import json

from airshift.state.model import Connection, PausedState, Pool, Variable
from airshift.state.secret import Secret
from airshift.state.targets.api import HIDDEN, compare


def test_variable_values_and_redacted_json() -> None:
    var = Variable("cfg", Secret(json.dumps({"user": "u", "password": "pw"})), "about")
    redacted = {"key": "cfg", "value": json.dumps({"user": "u", "password": "***"}), "description": "about"}
    assert compare(var, redacted) is None
    changed = {**redacted, "value": json.dumps({"user": "other", "password": "***"})}
    assert compare(var, changed) is False
    assert compare(var, {**redacted, "description": "new"}) is False
    plain = Variable("url", Secret("https://x"))
    assert compare(plain, {"key": "url", "value": "https://x", "description": None}) is True
    secret = Variable("api_password", Secret("pw"))
    assert compare(secret, {"key": "api_password", "value": "***", "description": None}) is None


def test_connection_visible_fields_decide_first() -> None:
    conn = Connection("db", "postgres", host="h", login="u", password=Secret("pw"), port=5432)
    seen = {"connection_id": "db", "conn_type": "postgres", "host": "h", "login": "u", "schema": None,
            "port": 5432, "password": "***", "extra": None, "description": None}  # fmt: skip
    assert compare(conn, seen) is None
    assert compare(conn, {**seen, "host": "other"}) is False
    assert compare(conn, {**seen, "password": None}) is False
    no_secret = Connection("db", "postgres", host="h", login="u", port=5432)
    assert compare(no_secret, {**seen, "password": None}) is True


def test_airflow2_connection_password_is_never_returned() -> None:
    """Airflow 2's API never returns a password (write-only): with or without one on either side, only
    the ledger can tell; visible fields and the (redacted) extra still prove a difference."""
    seen = {"connection_id": "db", "conn_type": "postgres", "host": "h", "login": "u", "schema": None,
            "port": 5432, "password": HIDDEN, "extra": '{"a": 1}', "description": None}  # fmt: skip
    with_password = Connection("db", "postgres", host="h", login="u", password=Secret("pw"), port=5432,
                               extra=Secret('{"a": 1}'))  # fmt: skip
    assert compare(with_password, seen) is None
    assert (
        compare(Connection("db", "postgres", host="h", login="u", port=5432, extra=Secret('{"a": 1}')), seen)
        is None
    )
    assert compare(with_password, {**seen, "extra": '{"a": 2}'}) is False
    assert compare(with_password, {**seen, "login": "v"}) is False


def test_pools_and_paused() -> None:
    pool = Pool("etl", 4, "d")
    assert compare(pool, {"name": "etl", "slots": 4, "description": "d", "include_deferred": False}) is True
    assert compare(pool, {"name": "etl", "slots": 5, "description": "d", "include_deferred": False}) is False
    assert compare(PausedState("x", True), {"is_paused": True}) is True
