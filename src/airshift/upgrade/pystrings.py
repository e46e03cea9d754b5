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


def literal_pieces(source: str, base_offset: int, value: str | None = None) -> list[Piece] | None:
    """Pieces of the string literal(s) in `source` (the exact source text of one ast.Constant).

    With the literal's `value`, the common case (one plain literal) is answered without the tokenizer."""
    if value is not None:
        single = _single_piece(source, base_offset, value)
        if single is not None:
            return [single]
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


def _single_piece(source: str, base_offset: int, value: str) -> Piece | None:
    """The one piece of a literal written as a single plain string with its value verbatim between the
    quotes, else None (the tokenizer decides). When the text between the outer quotes equals the value,
    with no backslash or carriage return in it, it is one token: joining literals puts quotes and
    whitespace between them that no value holds, and escapes are excluded. That token is what the
    tokenizer would give, with the same offsets."""
    prefix_length = 0
    while prefix_length < len(source) and source[prefix_length] in _PREFIX_CHARS:
        prefix_length += 1
    if "b" in source[:prefix_length].lower() or "f" in source[:prefix_length].lower():
        return None
    rest = source[prefix_length:]
    quote = rest[:3] if rest[:3] in ('"""', "'''") else rest[:1]
    if quote not in ('"', "'", '"""', "'''") or len(rest) < 2 * len(quote) or not rest.endswith(quote):
        return None
    body = rest[len(quote) : len(rest) - len(quote)]
    if body != value or "\\" in body or "\r" in body:
        return None
    return Piece(0, base_offset + prefix_length + len(quote), len(body), quote[0])


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


def fstring_map(source: str) -> tuple[str, list[int]] | None:
    """The text an f-string renders, with each replacement field shown as `0`, and for every character
    of that text its offset in `source` (-1 for the stand-ins). Jinja in f-strings is written with doubled
    braces (`{{{{ ds }}}}`), so `{{` in the source is one `{` of the value. None when the literal is not one
    plain f-string (escapes, implicit concatenation, nested quotes in fields): the caller reports instead."""
    prefix_length = 0
    while prefix_length < len(source) and source[prefix_length] in _PREFIX_CHARS:
        prefix_length += 1
    prefix = source[:prefix_length].lower()
    if "f" not in prefix or "b" in prefix or "r" in prefix:
        return None
    rest = source[prefix_length:]
    quote = rest[:3] if rest[:3] in ('"""', "'''") else rest[:1]
    if quote not in ('"', "'", '"""', "'''") or len(rest) < 2 * len(quote) or not rest.endswith(quote):
        return None
    body_start = prefix_length + len(quote)
    body = rest[len(quote) : len(rest) - len(quote)]
    if "\\" in body or "\r" in body or quote in body:
        return None
    text: list[str] = []
    offsets: list[int] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char in "{}" and body[index : index + 2] == char * 2:
            text.append(char)
            offsets.append(body_start + index)
            index += 2
        elif char == "{":
            depth = 0
            while index < len(body):
                if body[index] in "{[(":
                    depth += 1
                elif body[index] in "}])":
                    depth -= 1
                    if depth == 0:
                        break
                elif body[index] in "'\"":
                    return None  # a string inside a field: keep it simple, report instead
                index += 1
            if index >= len(body):
                return None
            text.append("0")
            offsets.append(-1)
            index += 1
        elif char == "}":
            return None
        else:
            text.append(char)
            offsets.append(body_start + index)
            index += 1
    return "".join(text), offsets
