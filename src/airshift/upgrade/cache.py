"""A content-hash cache of per-file results, so an unchanged file is not analysed again.

The key covers the file's bytes, the settings, the selected rules, airshift's version and the moves table,
so any change to those is a miss.

Layout: one folder per context (settings, rules, version), holding 256 shard files named by the first two
hex digits of the key. A shard is lines of `<key>\\t<json>`; writers append whole batches with one
`O_APPEND` write, so concurrent runs and workers never need a lock, and a reader takes the last valid line
of a key. The first layout (one small JSON file per source file) made a warm scan of 5,000 files open
5,000 files and a cold one create and rename 5,000; now a warm estate scan reads 256 files and a pre-commit
run of one file reads one shard. Damage is only ever a miss: a line cut short by a crash is invalid JSON
and skipped (every batch starts on a new line, so it cannot spoil the next one), and a shard that grew past
MAX_SHARD_BYTES (old versions of edited files pile up, since keys are content hashes) is emptied by the
next writer.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from airshift import __version__

KEY_LENGTH = 64  # a sha256 hex digest
MAX_SHARD_BYTES = 2 * 1024 * 1024  # x 256 shards: at most 512 MiB per context


def default_cache_dir() -> Path:
    base = os.environ.get("AIRSHIFT_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "airshift", "upgrade"
    )
    return Path(base)


class ResultCache:
    def __init__(self, folder: Path | None, context_key: str) -> None:
        self.folder = folder
        self.context = hashlib.sha256(f"{__version__}|{context_key}".encode()).hexdigest()

    def key(self, raw: bytes) -> str:
        return hashlib.sha256(self.context.encode() + raw).hexdigest()

    def _shard(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / f"v2-{self.context[:16]}" / f"{key[:2]}.jsonl"

    def get(self, key: str) -> dict[str, Any] | None:
        return self.lookup([key]).get(key)

    def lookup(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The cached entries of `keys` that are present and intact, reading each shard once."""
        if self.folder is None:
            return {}
        wanted: dict[str, set[str]] = defaultdict(set)
        for key in keys:
            wanted[key[:2]].add(key)
        found: dict[str, dict[str, Any]] = {}
        for prefix, shard_keys in wanted.items():
            try:
                text = self._shard(prefix).read_bytes().decode("utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            latest: dict[str, str] = {}
            for line in text.split("\n"):
                if len(line) > KEY_LENGTH and line[KEY_LENGTH] == "\t" and line[:KEY_LENGTH] in shard_keys:
                    latest[line[:KEY_LENGTH]] = line  # later lines win; an invalid one: see below
            for key, line in latest.items():
                try:
                    entry = json.loads(line[KEY_LENGTH + 1 :])
                except ValueError:
                    entry = self._last_valid(text, key)
                if isinstance(entry, dict):
                    found[key] = entry
        return found

    @staticmethod
    def _last_valid(text: str, key: str) -> Any:
        """The last line of `key` that parses (its newest line was cut short)."""
        for line in reversed(text.split("\n")):
            if line.startswith(key + "\t"):
                try:
                    return json.loads(line[KEY_LENGTH + 1 :])
                except ValueError:
                    continue
        return None

    def put(self, key: str, value: dict[str, Any]) -> None:
        self.put_many({key: value})

    def put_many(self, entries: dict[str, dict[str, Any]]) -> None:
        """Append the entries, one write per shard. Without fsync, which cost a cold scan seconds: a batch
        lost or cut short by a crash is only a miss next time."""
        if self.folder is None or not entries:
            return
        batches: dict[str, list[str]] = defaultdict(list)
        for key, value in entries.items():
            batches[key[:2]].append(f"{key}\t{json.dumps(value, separators=(',', ':'))}")
        try:
            self._shard("00").parent.mkdir(parents=True, exist_ok=True)
        except OSError:  # a cache that cannot be written only costs time
            return
        for prefix, lines in batches.items():
            data = ("\n" + "\n".join(lines) + "\n").encode("utf-8")
            try:
                fd = os.open(self._shard(prefix), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            except OSError:
                continue
            try:
                if os.fstat(fd).st_size > MAX_SHARD_BYTES:
                    os.ftruncate(fd, 0)
                os.write(fd, data)
            except OSError:
                pass
            finally:
                os.close(fd)
