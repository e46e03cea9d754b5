"""Where the characters of a Python string literal's value sit in the source, so a template change can
become a precise source edit.

A literal maps character for character onto its source when its body has no backslash escapes (raw
strings map too, except an escaped quote). Implicitly concatenated literals ("a" "b") are a sequence of
such pieces. Anything else (escapes, f-strings, bytes) gives None and the caller reports instead of editing.
"""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass

_PREFIX_CHARS = set("rRuUbBfF")


@dataclass(frozen=True)
class Piece:
    value_start: int  # offset in the concatenated value
    source_start: int  # offset in the file text of the same character
    length: int
    quote: str  # the quote character of this piece (' or ")


def literal_pieces(source: str, base_offset: int) -> list[Piece] | None:
    """Pieces of the string literal(s) in `source` (the exact source text of one ast.Constant)."""
    # Parentheses make the line breaks between concatenated pieces plain whitespace to the tokenizer.
    wrapped = "(" + source + ")"
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(wrapped).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None
    base_offset -= 1  # offsets below are in `wrapped`
    lines = wrapped.splitlines(keepends=True)
    line_starts = [0]
    for line in lines:
        line_starts.append(line_starts[-1] + len(line))
    pieces: list[Piece] = []
    value_offset = 0
    for token in tokens:
        if token.type in (
            tokenize.NL,
            tokenize.NEWLINE,
            tokenize.ENDMARKER,
            tokenize.COMMENT,
            tokenize.INDENT,
            tokenize.DEDENT,
        ):
            continue
        if token.type == tokenize.OP and token.string in "()":
            continue
        if token.type != tokenize.STRING:
            return None
        text = token.string
        prefix_length = 0
        while prefix_length < len(text) and text[prefix_length] in _PREFIX_CHARS:
            prefix_length += 1
        prefix = text[:prefix_length].lower()
        if "b" in prefix or "f" in prefix:
            return None
        body_with_quotes = text[prefix_length:]
        quote = body_with_quotes[:3] if body_with_quotes[:3] in ('"""', "'''") else body_with_quotes[0]
        body = body_with_quotes[len(quote) : len(body_with_quotes) - len(quote)]
        if "\\" in body:
            return None
        if "\r" in body:
            return None  # a literal newline inside a triple-quoted string is normalised to \n in the value
        start = line_starts[token.start[0] - 1] + token.start[1]
        pieces.append(
            Piece(value_offset, base_offset + start + prefix_length + len(quote), len(body), quote[0])
        )
        value_offset += len(body)
    return pieces or None


def source_offset(pieces: list[Piece], value_start: int, length: int) -> int | None:
    """The source offset of value[value_start:value_start+length] when it lies within one piece."""
    for piece in pieces:
        if piece.value_start <= value_start and value_start + length <= piece.value_start + piece.length:
            return piece.source_start + (value_start - piece.value_start)
    return None


def quote_at(pieces: list[Piece], value_start: int) -> str:
    for piece in pieces:
        if piece.value_start <= value_start < piece.value_start + max(piece.length, 1):
            return piece.quote
    return pieces[0].quote
