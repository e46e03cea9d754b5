"""The transfer ledger: which objects this transfer wrote to the target, so a re-run or a run after a
crash skips them instead of duplicating or failing on them.

Each write is recorded as `pending` before the request and `done` after the target confirmed it: an
object left `pending` by a killed run and found on the target with the same visible fields was written
by us. The ledger holds no secret: only kinds, ids, and a slow salted fingerprint (scrypt) of the full
content, which tells "unchanged since we wrote it" apart from "changed" for fields the target redacts.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
from pathlib import Path
from typing import Any

from airshift.errors import AirshiftError

SCHEMA_VERSION = 1


class Ledger:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fresh = not path.exists()
            self._db = sqlite3.connect(path, isolation_level=None, timeout=30)
            if fresh:
                os.chmod(path, 0o600)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS written (target TEXT NOT NULL, kind TEXT NOT NULL, "
                "ident TEXT NOT NULL, fingerprint TEXT NOT NULL, status TEXT NOT NULL, "
                "PRIMARY KEY (target, kind, ident))"
            )
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS progress (target TEXT NOT NULL, stream TEXT NOT NULL, "
                "position TEXT NOT NULL, PRIMARY KEY (target, stream))"
            )
            version = self._meta("schema_version")
            if version is None:
                self._set_meta("schema_version", str(SCHEMA_VERSION))
            elif version != str(SCHEMA_VERSION):
                raise AirshiftError(
                    f"ledger {path} has schema version {version}; this airshift writes {SCHEMA_VERSION}"
                )
            salt = self._meta("salt")
            if salt is None:
                salt = secrets.token_hex(16)
                self._set_meta("salt", salt)
            self._salt = bytes.fromhex(salt)
        except sqlite3.DatabaseError as error:
            raise AirshiftError(f"ledger {path} cannot be used: {error}") from None

    def _meta(self, name: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, name: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, value))

    def fingerprint(self, content: dict[str, Any]) -> str:
        material = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")
        # scrypt, not a fast hash: a stolen ledger must not make guessing weak passwords cheap.
        return hashlib.scrypt(material, salt=self._salt, n=2**12, r=8, p=1, dklen=16).hex()

    def lookup(self, target: str, kind: str, ident: str) -> tuple[str, str] | None:
        row = self._db.execute(
            "SELECT fingerprint, status FROM written WHERE target = ? AND kind = ? AND ident = ?",
            (target, kind, ident),
        ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))

    def mark(self, target: str, kind: str, idents_and_prints: list[tuple[str, str]], status: str) -> None:
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                "INSERT OR REPLACE INTO written (target, kind, ident, fingerprint, status) VALUES (?, ?, ?, ?, ?)",
                [(target, kind, ident, fingerprint, status) for ident, fingerprint in idents_and_prints],
            )

    def position(self, target: str, stream: str) -> str | None:
        row = self._db.execute(
            "SELECT position FROM progress WHERE target = ? AND stream = ?", (target, stream)
        ).fetchone()
        return None if row is None else str(row[0])

    def set_position(self, target: str, stream: str, position: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO progress (target, stream, position) VALUES (?, ?, ?)",
            (target, stream, position),
        )

    def counts(self, target: str) -> dict[str, int]:
        rows = self._db.execute(
            "SELECT kind, COUNT(*) FROM written WHERE target = ? AND status = 'done' GROUP BY kind", (target,)
        ).fetchall()
        return {str(kind): int(count) for kind, count in rows}

    def close(self) -> None:
        self._db.close()
