"""The JSON report of `airshift verify`: a stable, versioned document for CI and other tools."""

from __future__ import annotations

import json
from typing import Any

from airshift import __version__
from airshift.verify.result import VerifyResult

SCHEMA_VERSION = 1


def document(result: VerifyResult) -> dict[str, Any]:
    body = result.model_dump(mode="json")
    for dag in body["dags"]:
        for difference in dag["differences"]:
            difference["mismatch"] = difference["intended"] is None
    return {
        "schema": SCHEMA_VERSION,
        "tool": "airshift",
        "version": __version__,
        "command": "verify",
        "ok": result.ok,
        "summary": result.summary().model_dump(),
        **body,
    }


def render(result: VerifyResult) -> str:
    return json.dumps(document(result), indent=2, sort_keys=False) + "\n"
