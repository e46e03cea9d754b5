"""The streaming comparison on record sequences built in memory (the algorithm alone; the integration
tests run it against real brokers): each kind of difference is found at its offsets, within a window."""

from __future__ import annotations

from airshift.kafka.diff import compare_sequences
from airshift.kafka.digest import Record, make_record


def _records(items: list[int | str]) -> list[Record]:
    """Record i has key/value/timestamp from i; a str item is record int(item) with another header."""
    return [
        make_record(
            offset,
            f"k{int(i)}".encode(),
            f"v{int(i)}".encode(),
            [("h", b"y" if isinstance(i, str) else b"x")],
            1000 + int(i),
        )
        for offset, i in enumerate(items)
    ]


def _run(target: list[int | str], source: list[int | str] | None = None, window: int = 8):  # type: ignore[no-untyped-def]
    source = source if source is not None else list(range(20))
    return compare_sequences(iter(_records(source)), iter(_records(target)), window=window, watch=[5, 10])


def _found(result) -> list[tuple[str, int | None, int | None]]:  # type: ignore[no-untyped-def]
    return [(f.kind, f.source_offset, f.target_offset) for f in result.findings]


S = list(range(20))


def test_identical_sequences_have_equal_digests() -> None:
    result = _run(list(S))
    assert result.matched == 20 and result.errors == 0 and result.source_digest == result.target_digest
    assert result.points == {5: (5, 5), 10: (10, 10)}


def test_each_difference_is_found() -> None:
    assert _found(_run(S[:5] + S[6:])) == [("missing", 5, None)]
    assert _found(_run([*S[:8], 6, 7, *S[8:]])) == [("duplicate", 6, 8), ("duplicate", 7, 9)]
    assert _found(_run([*S[:3], 4, 3, *S[5:]])) == [("reordered", 4, 3)]
    assert _found(_run([*S[:4], 99, *S[4:]])) == [("extra", None, 4)]
    changed = _run([*S[:7], "7", *S[8:]])
    assert _found(changed) == [("changed", 7, 7)] and changed.findings[0].detail == "headers differ"


def test_tail_lag_and_newer_records() -> None:
    behind = _run(S[:15])
    assert (behind.lag, behind.first_lag_offset, behind.errors) == (5, 15, 0)
    ahead = _run([*S, 30, 31])
    assert (ahead.newer_on_target, ahead.errors) == (2, 0)


def test_group_points_follow_a_missing_record() -> None:
    # Source offset 5 is missing: a group committed at 5 reads next the copy of source 6, at target 5.
    assert _run(S[:5] + S[6:]).points[5] == (6, 5)


def test_a_reorder_wider_than_the_window_is_missing_plus_extra() -> None:
    result = _run(S[10:] + S[:10], window=4)
    assert result.counts["reordered"] == 0 and result.counts["missing"] > 0


def test_memory_stays_bounded_on_a_long_sequence() -> None:
    """Streaming: comparing 20,000 records (one missing) holds at most a window, never the sequence."""
    import tracemalloc

    def stream(skip: int | None = None):  # type: ignore[no-untyped-def]
        for i in range(20_000):
            if i != skip:
                yield make_record(i, b"k%d" % (i % 97), b"v%d" % i + b"x" * 90, [("h", b"x")], 1000 + i)

    tracemalloc.start()
    try:
        result = compare_sequences(stream(), stream(skip=10_000), window=256)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.matched == 19_999 and result.counts["missing"] == 1
    assert peak < 2_000_000, peak  # holding the records would take about 6.5 MB


def test_a_sampled_range_ignores_the_target_past_its_end() -> None:
    records = _records(list(range(30)))
    result = compare_sequences(iter(records[:10]), iter(records), window=8, target_tail="ignore")
    assert (result.matched, result.newer_on_target, result.errors) == (10, 0, 0)
    assert result.source_digest == result.target_digest and result.target_records == 10
