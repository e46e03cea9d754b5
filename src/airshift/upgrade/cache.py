"""A content-hash cache of per-file results, so an unchanged file is not analysed again.

The key covers the file's bytes, the settings, the selected rules, airshift's version and the moves table,
so any change to those is a miss. Entries are small JSON files written atomically; a damaged entry is a miss.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from airshift import __version__


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

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        if self.folder is None:
            return None
        try:
            data: dict[str, Any] = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data

    def put(self, key: str, value: dict[str, Any]) -> None:
        """Write by rename, so a reader never sees half an entry; without fsync, which cost a cold scan of
        5,000 files seconds: an entry lost or cut short by a crash is invalid JSON, hence only a miss."""
        if self.folder is None:
            return
        path = self._path(key)
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temp.write_bytes(json.dumps(value).encode("utf-8"))
            os.replace(temp, path)
        except OSError:  # a cache that cannot be written only costs time
            with contextlib.suppress(OSError):
                temp.unlink()
