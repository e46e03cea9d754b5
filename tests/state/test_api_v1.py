"""The Airflow 2 target's error reasons: Airflow's title and detail, with every value sent blanked out
(a 400 from /api/v1 quotes validation messages, which may carry the input along)."""

from __future__ import annotations

import json

import httpx

from airshift.state.targets.api_v1 import _safe_reason, _version_tuple


def test_reason_blanks_values_as_sent_quoted_and_json_escaped() -> None:
    secret = "p@ss'w\"rd"
    as_json = json.dumps(secret)
    detail = f"{{'password': ['bad: {secret!r}'], 'extra': ['{secret}'], 'body': {as_json}}}"
    response = httpx.Response(400, json={"title": "Bad Request", "detail": detail, "status": 400})
    reason = _safe_reason(response, [secret])
    assert reason.startswith(" (Bad Request: ") and "***" in reason
    assert "p@ss" not in reason


def test_reason_is_short_and_single_line() -> None:
    response = httpx.Response(400, json={"title": "Bad Request", "detail": "x" * 500 + "\nsecond line"})
    reason = _safe_reason(response, [])
    assert len(reason) <= 203 and "second" not in reason
    assert _safe_reason(httpx.Response(500, text="<html>oops</html>"), ["v"]) == ""


def test_version_tuple() -> None:
    assert _version_tuple("2.11.2") == (2, 11) and _version_tuple("2.7.0rc1") == (2, 7)
    assert _version_tuple("2.6.3") < (2, 7) <= _version_tuple("2.10.5")
