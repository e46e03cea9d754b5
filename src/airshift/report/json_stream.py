"""JSON documents written piece by piece, byte-identical to `json.dumps(document, indent=2)`.

A report on a large estate holds one long list (files, results); building the whole document as one
string doubles its memory and delays the first byte. The document is dumped once with a marker where
the list goes, and the list's items are dumped one at a time into that place."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from typing import Any

_STRING = json.encoder.encode_basestring_ascii  # the C function json.dumps uses for every string

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
        yield inner + indented(item, inner)
    if first:
        yield before + "[]" + after
    else:
        yield "\n" + indent + "]" + after


def indented(value: Any, newline: str = "\n") -> str:
    """`json.dumps(value, indent=2)` with each line break followed by `newline`'s indentation: the same
    bytes, made by direct recursion instead of the standard library's indenting encoder, which is pure
    Python and generator-based (a JSON report of 100,000 findings spent most of its time there). Values
    the reports do not hold (non-string keys, other types) go to json.dumps itself."""
    if value.__class__ is str:
        return _STRING(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value.__class__ is int:
        return int.__repr__(value)
    if value.__class__ is float and math.isfinite(value):
        return float.__repr__(value)
    deeper = newline + "  "
    if value.__class__ is dict:
        if not value:
            return "{}"
        if all(key.__class__ is str for key in value):
            items = [deeper + _STRING(key) + ": " + indented(item, deeper) for key, item in value.items()]
            return "{" + ",".join(items) + newline + "}"
    elif value.__class__ is list or value.__class__ is tuple:
        if not value:
            return "[]"
        return "[" + ",".join([deeper + indented(item, deeper) for item in value]) + newline + "]"
    return json.dumps(value, indent=2).replace("\n", newline)
