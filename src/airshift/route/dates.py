"""Dates in and out of the router.

Old clients send what their Airflow accepted: 1.10 parses `execution_date` leniently and reads a date
without an offset in Airflow's `[core] default_timezone` (UTC unless changed); 2.x and 3.x demand an
offset. Airflow 3 refuses naive datetimes, so every date the router forwards carries one: a naive 1.10
date is localised in the router's `--naive-timezone` (set it to the old side's default_timezone)."""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from airshift.errors import AirshiftError

UTC = timezone.utc


def zone(name: str) -> tzinfo:
    """A time zone by IANA name ("UTC", "Europe/Berlin"), for `--naive-timezone`."""
    if name.upper() == "UTC":
        return UTC
    try:
        found: tzinfo = ZoneInfo(name)
        return found
    except (ZoneInfoNotFoundError, ValueError):
        raise AirshiftError(f"--naive-timezone {name!r} is not a known IANA time zone") from None


def parse_iso(text: str) -> datetime:
    """An ISO 8601 date or date-time ('Z' accepted, also on Python 3.10); ValueError otherwise."""
    value = text.strip()
    if not value:
        raise ValueError("empty date")
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    return datetime.fromisoformat(value)


def parse_lenient(text: object, naive_zone: tzinfo) -> datetime:
    """A 1.10-style date: ISO text, naive values localised in `naive_zone`; ValueError otherwise."""
    if not isinstance(text, str):
        raise ValueError("not a string")
    parsed = parse_iso(text)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=naive_zone)


def parse_aware(text: object) -> datetime:
    """A date that must carry an offset (2.x and 3.x rules); ValueError for naive or malformed values."""
    if not isinstance(text, str):
        raise ValueError("not a string")
    parsed = parse_iso(text)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError("naive datetime is disallowed")
    return parsed


def read_optional(value: object) -> datetime | None:
    """A date from an owner's JSON answer (None stays None; unparseable text becomes None)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = parse_iso(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def iso_offset(value: datetime | None) -> str | None:
    """'2024-01-01T00:00:00+00:00': how Airflow 1.10 and 2.x write dates."""
    return None if value is None else value.isoformat()


def iso_zulu(value: datetime | None) -> str | None:
    """'2024-01-01T00:00:00Z': how Airflow 3 writes UTC dates."""
    if value is None:
        return None
    text = value.astimezone(UTC).isoformat()
    return text.removesuffix("+00:00") + "Z"


def utcnow() -> datetime:
    return datetime.now(UTC)
