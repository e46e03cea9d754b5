"""Reading a Python file exactly as it is (encoding, BOM, line endings) and writing it back atomically.

ast gives positions as (line, UTF-8 byte column); edits work on character offsets of the decoded text.
`LineIndex` converts between the two.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import re
import tempfile
import tokenize
from dataclasses import dataclass
from pathlib import Path

_NEWLINE = re.compile(r"\r\n|\r|\n")


class UnreadableSource(Exception):
    """The file cannot be analysed; the message says why. The file is left untouched."""


@dataclass(frozen=True)
class SourceFile:
    path: Path
    raw: bytes
    text: str
    encoding: str  # as tokenize names it; 'utf-8-sig' keeps a BOM on write

    def encode(self, text: str) -> bytes:
        return text.encode(self.encoding)


def decode_source(path: Path, raw: bytes) -> SourceFile:
    """Decode bytes the way Python would (PEP 263 cookie, BOM), or explain why not."""
    if b"\x00" in raw:
        raise UnreadableSource("binary file (contains NUL bytes)")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as error:
        if "invalid or missing encoding declaration" in str(error.msg):
            raise UnreadableSource(
                "not valid UTF-8 and no coding declaration (PEP 263) says otherwise"
            ) from None
        raise UnreadableSource(f"bad encoding declaration: {error.msg}") from None
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError) as error:
        raise UnreadableSource(f"not valid {encoding}: {error}") from None
    return SourceFile(path=path, raw=raw, text=text, encoding=encoding)


def read_source(path: Path) -> SourceFile:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise UnreadableSource(f"cannot read: {error.strerror or error}") from None
    return decode_source(path, raw)


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomic(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write via a temp file in the same folder and rename. Keeps the permission bits of the file being
    replaced; a new file gets `mode` (e.g. its source's) or the usual umask-based default."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = mode if mode is not None else _default_mode()
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".airshift-tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise


def _line_starts(text: str) -> list[int]:
    """Offsets where lines start. Without a carriage return, the only line break is "\\n", and splitting
    on it (in C) is several times faster than the regex, which is kept for \\r\\n and lone \\r."""
    if "\r" in text:
        return [0, *(match.end() for match in _NEWLINE.finditer(text))]
    lengths = [len(line) + 1 for line in text.split("\n")]
    lengths.pop()  # the last piece has no line break after it
    return [0, *itertools.accumulate(lengths)]


class LineIndex:
    """Maps ast positions (1-based line, UTF-8 byte column) to character offsets and back."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = _line_starts(text)
        # In an ASCII text a UTF-8 byte column is a character column: no per-line decoding needed.
        self.ascii = text.isascii()

    def offset(self, line: int, byte_col: int) -> int:
        start = self.starts[line - 1]
        if self.ascii:
            return start + byte_col
        end = self.starts[line] if line < len(self.starts) else len(self.text)
        segment = self.text[start:end]
        if segment.isascii():
            return start + byte_col
        return start + len(segment.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))

    def line_of(self, offset: int) -> int:
        """1-based line number of a character offset."""
        low, high = 0, len(self.starts) - 1
        while low < high:
            middle = (low + high + 1) // 2
            if self.starts[middle] <= offset:
                low = middle
            else:
                high = middle - 1
        return low + 1

    def line_start(self, line: int) -> int:
        return self.starts[line - 1]

    def line_end(self, line: int) -> int:
        """Offset just past the line's newline (or the end of the text)."""
        return self.starts[line] if line < len(self.starts) else len(self.text)

    def newline(self) -> str:
        """The file's dominant line ending, used for lines that fixes add."""
        match = _NEWLINE.search(self.text)
        return match.group(0) if match else "\n"
