"""The result cache: appended shards that concurrent writers share without a lock; damage is only a miss."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from airshift.upgrade import cache as cache_module
from airshift.upgrade.cache import ResultCache


def _shards(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_entries_round_trip_in_one_shard_file_per_key_prefix(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, "context")
    key = cache.key(b"print(1)\n")
    assert cache.get(key) is None
    cache.put(key, {"status": "unchanged", "problems": []})
    assert cache.get(key) == {"status": "unchanged", "problems": []}
    assert [p.name for p in _shards(tmp_path)] == [f"{key[:2]}.jsonl"]


def test_a_batch_lookup_reads_each_shard_once_and_the_last_entry_of_a_key_wins(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, "context")
    keys = [cache.key(f"x = {n}\n".encode()) for n in range(600)]
    cache.put_many({key: {"n": n} for n, key in enumerate(keys)})
    cache.put(keys[0], {"n": "newer"})
    found = cache.lookup([*keys, cache.key(b"never written")])
    assert len(found) == 600
    assert found[keys[0]] == {"n": "newer"}
    assert found[keys[599]] == {"n": 599}
    assert len(_shards(tmp_path)) <= 256


def test_another_context_does_not_see_the_entries(tmp_path: Path) -> None:
    first = ResultCache(tmp_path, "target 3.3")
    first.put(first.key(b"x = 1\n"), {"n": 1})
    other = ResultCache(tmp_path, "target 2.11")
    assert other.get(other.key(b"x = 1\n")) is None


def test_a_cut_short_entry_is_a_miss_and_does_not_spoil_the_next_batch(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, "context")
    key = cache.key(b"x = 1\n")
    cache.put(key, {"status": "changed", "problems": [{"code": "AS101"}]})
    shard = _shards(tmp_path)[0]
    whole = shard.read_bytes()
    for cut in (0, 1, len(whole) // 2, len(whole) - 2):
        shard.write_bytes(whole[:cut])
        assert cache.get(key) is None
    # A crash left half a line; the next writer's batch starts on a new line and is read back whole.
    shard.write_bytes(whole[: len(whole) // 2])
    cache.put(key, {"status": "unchanged"})
    assert cache.get(key) == {"status": "unchanged"}


def test_an_older_intact_line_is_used_when_the_newest_is_cut_short(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, "context")
    key = cache.key(b"x = 2\n")
    cache.put(key, {"n": "old"})
    cache.put(key, {"n": "new"})
    shard = _shards(tmp_path)[0]
    shard.write_bytes(shard.read_bytes()[:-5])
    assert cache.get(key) == {"n": "old"}


def test_a_shard_past_its_size_limit_is_emptied_by_the_next_writer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "MAX_SHARD_BYTES", 1000)
    cache = ResultCache(tmp_path, "context")
    key = cache.key(b"x = 3\n")
    cache.put(key, {"padding": "x" * 2000})
    shard = _shards(tmp_path)[0]
    assert shard.stat().st_size > 2000
    cache.put(key, {"n": 1})
    assert shard.stat().st_size < 200
    assert cache.get(key) == {"n": 1}


def _write_many(args: tuple[str, int]) -> None:
    folder, worker = args
    cache = ResultCache(Path(folder), "context")
    for batch in range(20):
        cache.put_many(
            {cache.key(f"{worker}-{batch}-{n}".encode()): {"w": worker, "n": n} for n in range(50)}
        )


def test_concurrent_writers_lose_no_entry(tmp_path: Path) -> None:
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        pool.map(_write_many, [(str(tmp_path), worker) for worker in range(4)])
    cache = ResultCache(tmp_path, "context")
    keys = [cache.key(f"{w}-{b}-{n}".encode()) for w in range(4) for b in range(20) for n in range(50)]
    assert len(cache.lookup(keys)) == 4 * 20 * 50


def test_an_unwritable_cache_only_costs_time(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    cache = ResultCache(blocker, "context")
    key = cache.key(b"y = 2\n")
    cache.put(key, {"status": "unchanged"})  # no exception
    assert cache.get(key) is None
