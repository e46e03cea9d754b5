"""WAL capture writes a run's logical date exactly as the trigger capture does: the text PostgreSQL's
`to_jsonb` gives, checked against the real local PostgreSQL for fractions with trailing zeros (where
`datetime.isoformat` would pad to six digits), whole seconds and other offsets."""

from __future__ import annotations

import psycopg
import pytest

from airshift.events.capture.wal import _json_like_timestamp

pytestmark = pytest.mark.integration
PG = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"

MOMENTS = [
    "2026-12-04 08:37:17.934250+00",
    "2026-12-04 08:37:17.100000+00",
    "2026-12-04 08:37:17.000001+00",
    "2026-12-04 08:37:17+00",
    "2026-12-04 00:00:00+00",
    "1999-01-01 23:59:59.5+00",
]


@pytest.mark.parametrize("timezone", ["UTC", "Asia/Kolkata", "America/St_Johns"])
def test_wal_logical_date_text_equals_to_jsonb(timezone: str) -> None:
    with psycopg.connect(PG, autocommit=True) as connection:
        connection.execute(f"SET TIME ZONE '{timezone}'")  # type: ignore[arg-type]
        for moment in MOMENTS:
            row = connection.execute(
                "SELECT %s::timestamptz::text, to_jsonb(%s::timestamptz) #>> '{}'", (moment, moment)
            ).fetchone()
            assert row is not None
            pgoutput_text, trigger_text = row
            assert _json_like_timestamp(pgoutput_text) == trigger_text


def test_text_it_does_not_recognise_is_kept() -> None:
    assert _json_like_timestamp("not a time") == "not a time"
    assert _json_like_timestamp(None) is None
