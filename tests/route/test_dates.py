"""Dates in and out of the router: lenient 1.10 parsing, aware-only 2.x/3.x parsing, both output styles."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from airshift.errors import AirshiftError
from airshift.route.dates import iso_offset, iso_zulu, parse_aware, parse_lenient, read_optional, zone

UTC = timezone.utc


def test_lenient_parsing_localises_naive_values_and_keeps_offsets() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    assert parse_lenient("2026-07-01T12:00:00", berlin).utcoffset() == timedelta(hours=2)
    assert parse_lenient("2026-07-01", UTC) == datetime(2026, 7, 1, tzinfo=UTC)
    assert parse_lenient("2026-07-01T12:00:00Z", berlin) == datetime(2026, 7, 1, 12, tzinfo=UTC)
    for bad in ("yesterday", "", 5):
        with pytest.raises(ValueError):
            parse_lenient(bad, UTC)


def test_aware_parsing_refuses_naive_values() -> None:
    assert parse_aware("2026-01-01T00:00:00+05:30").utcoffset() == timedelta(hours=5, minutes=30)
    with pytest.raises(ValueError, match="naive"):
        parse_aware("2026-01-01T00:00:00")


def test_output_styles_and_owner_values() -> None:
    when = datetime(2026, 1, 1, 1, tzinfo=ZoneInfo("Europe/Berlin"))
    assert iso_offset(when) == "2026-01-01T01:00:00+01:00"
    assert iso_zulu(when) == "2026-01-01T00:00:00Z"
    assert iso_zulu(None) is None and iso_offset(None) is None
    assert read_optional("2026-01-01T00:00:00") == datetime(2026, 1, 1, tzinfo=UTC)
    assert read_optional("garbage") is None and read_optional(None) is None


def test_zone_names() -> None:
    assert zone("utc") is UTC
    assert zone("America/New_York") == ZoneInfo("America/New_York")
    with pytest.raises(AirshiftError, match="IANA"):
        zone("Nowhere/Land")
