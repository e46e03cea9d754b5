"""The pgoutput decoder on messages built byte by byte from the protocol's description (the integration
tests decode what a real PostgreSQL sends)."""

from __future__ import annotations

import datetime as dt
import struct

import pytest

from airshift.events.capture.pgoutput import (
    Begin,
    Commit,
    DecodeError,
    Decoder,
    Other,
    Relation,
    RowChange,
    lsn_text,
    parse_lsn,
)
from airshift.events.capture.wal import WalStatus, slot_name

EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


def _string(text: str) -> bytes:
    return text.encode() + b"\0"


def _relation(relation_id: int, name: str, columns: list[str]) -> bytes:
    body = struct.pack(">cI", b"R", relation_id) + _string("public") + _string(name) + b"d"
    body += struct.pack(">h", len(columns))
    for column in columns:
        body += b"\0" + _string(column) + struct.pack(">Ii", 25, -1)
    return body


def _tuple(values: list[str | bytes | None]) -> bytes:
    body = struct.pack(">h", len(values))
    for value in values:
        if value is None:
            body += b"n"
        elif value == b"u":
            body += b"u"
        else:
            encoded = value.encode() if isinstance(value, str) else value
            body += b"t" + struct.pack(">i", len(encoded)) + encoded
    return body


def test_a_transaction_decodes_to_begin_relation_changes_commit() -> None:
    decoder = Decoder()
    at = 3_600_000_000  # one hour after PostgreSQL's epoch, in microseconds
    begin = decoder.decode(struct.pack(">cqqI", b"B", 0x16B374D848, at, 7))
    assert begin == Begin(final_lsn=0x16B374D848, committed_at=EPOCH + dt.timedelta(hours=1), xid=7)
    relation = decoder.decode(_relation(42, "task_instance", ["dag_id", "task_id", "state", "note"]))
    assert relation == Relation(42, "public", "task_instance", ("dag_id", "task_id", "state", "note"))
    insert = decoder.decode(struct.pack(">cIc", b"I", 42, b"N") + _tuple(["d", "t", None, "x"]))
    assert insert == RowChange("insert", 42, {"dag_id": "d", "task_id": "t", "state": None, "note": "x"})
    # An update with the old row (REPLICA IDENTITY FULL) and an unchanged TOASTed column in the new one.
    update = decoder.decode(
        struct.pack(">cIc", b"U", 42, b"O")
        + _tuple(["d", "t", None, "x"])
        + b"N"
        + _tuple(["d", "t", "queued", b"u"])
    )
    assert update == RowChange("update", 42, {"dag_id": "d", "task_id": "t", "state": "queued"})
    commit = decoder.decode(struct.pack(">cbqqq", b"C", 0, 0x10, 0x20, at))
    assert commit == Commit(commit_lsn=0x10, end_lsn=0x20, committed_at=EPOCH + dt.timedelta(hours=1))
    assert decoder.decode(b"D" + struct.pack(">I", 42)) == Other("D")


def test_utf8_values_and_broken_messages() -> None:
    decoder = Decoder()
    decoder.decode(_relation(1, "dag_run", ["dag_id"]))
    assert decoder.decode(struct.pack(">cIc", b"I", 1, b"N") + _tuple(["déjà"])).values == {"dag_id": "déjà"}  # type: ignore[union-attr]
    with pytest.raises(DecodeError, match="before its Relation"):
        decoder.decode(struct.pack(">cIc", b"I", 99, b"N") + _tuple(["x"]))
    with pytest.raises(DecodeError, match="ends early"):
        decoder.decode(
            struct.pack(">cIc", b"I", 1, b"N") + struct.pack(">h", 1) + b"t" + struct.pack(">i", 50)
        )
    with pytest.raises(DecodeError, match="columns"):
        decoder.decode(struct.pack(">cIc", b"I", 1, b"N") + _tuple(["a", "b"]))
    with pytest.raises(DecodeError, match="empty"):
        decoder.decode(b"")


def test_lsn_text_round_trip() -> None:
    assert lsn_text(0x16B374D848) == "16/B374D848"
    assert parse_lsn("16/B374D848") == 0x16B374D848
    assert parse_lsn(lsn_text(0)) == 0


def test_slot_names_are_valid_and_distinct_per_database() -> None:
    assert slot_name("airflow") == "airshift_events_airflow"
    odd = slot_name("Airflow-Prod")
    long = slot_name("x" * 80)
    for name in (odd, long):
        assert len(name) <= 63 and name.replace("_", "").isalnum() and name == name.lower()
    assert slot_name("Airflow-Prod") != slot_name("airflow_prod")  # the digest keeps them apart


def test_status_warns_about_retained_wal_and_lost_slots() -> None:
    healthy = WalStatus("logical", "s", True, True, ("dag_run", "task_instance"), 0, 1024, "reserved")
    assert healthy.installed and healthy.warnings == []
    stalled = WalStatus(
        "logical", "s", True, False, ("dag_run", "task_instance"), 5 << 30, 5 << 30, "extended"
    )
    assert "holds back" in stalled.warnings[0] and "relay" in stalled.warnings[0]
    lost = WalStatus("replica", "s", True, False, ("dag_run",), None, None, "lost")
    assert not lost.installed
    assert any("events were lost" in w for w in lost.warnings) and any(
        "wal_level" in w for w in lost.warnings
    )
