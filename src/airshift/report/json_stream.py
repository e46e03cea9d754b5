"""JSON documents written piece by piece, byte-identical to `json.dumps(document, indent=2)`.

A report on a large estate holds one long list (files, results); building the whole document as one
string doubles its memory and delays the first byte. The document is dumped once with a marker where
the list goes, and the list's items are dumped one at a time into that place."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

PLACEHOLDER = "\x00airshift-streamed-list\x00"  # a string no report contains; json.dumps escapes it


def chunks(document: Any, items: Iterable[Any]) -> Iterator[str]:
    """`json.dumps(document, indent=2)` in pieces, with PLACEHOLDER (one value in document) replaced by
    the list of `items`."""
    text = json.dumps(document, indent=2)
    marker = json.dumps(PLACEHOLDER)
    before, after = text.split(marker)
    line_start = before.rfind("\n") + 1
    indent = " " * (len(before[line_start:]) - len(before[line_start:].lstrip(" ")))
    inner = "\n" + indent + "  "
    first = True
    for item in items:
        if first:
            yield before + "["
            first = False
        else:
            yield ","
        yield inner + json.dumps(item, indent=2).replace("\n", inner)
    if first:
        yield before + "[]" + after
    else:
        yield "\n" + indent + "]" + after
