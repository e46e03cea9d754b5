"""The result cache: entries written by rename (never half-read), damaged entries are misses."""

from __future__ import annotations

from pathlib import Path

from airshift.upgrade.cache import ResultCache


def test_entries_round_trip_and_leave_no_temporary_files(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, "context")
    key = cache.key(b"print(1)\n")
    assert cache.get(key) is None
    cache.put(key, {"status": "unchanged", "problems": []})
    assert cache.get(key) == {"status": "unchanged", "problems": []}
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [f"{key}.json"]


def test_a_cut_short_entry_is_a_miss(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, "context")
    key = cache.key(b"x = 1\n")
    cache.put(key, {"status": "changed", "problems": [{"code": "AS101"}]})
    entry = next(tmp_path.rglob("*.json"))
    whole = entry.read_bytes()
    for cut in (0, 1, len(whole) // 2, len(whole) - 1):
        entry.write_bytes(whole[:cut])
        assert cache.get(key) is None
    entry.write_bytes(whole)
    assert cache.get(key) is not None


def test_an_unwritable_cache_only_costs_time(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    cache = ResultCache(blocker, "context")
    key = cache.key(b"y = 2\n")
    cache.put(key, {"status": "unchanged"})  # no exception
    assert cache.get(key) is None
