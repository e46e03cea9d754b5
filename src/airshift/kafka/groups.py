"""Consumer-group translation: would a group that switches to the target now skip or re-read records?

For each partition the group committed on the source (the next record it would read), the *exact*
target position is where that record's copy is (found by the comparison). The *translated* position is
what the group's consumers would start at on the target: the group's committed offset there (MM2 with
`sync.group.offsets.enabled`, or a manual reset), else MM2's newest checkpoint. MM2 translates
conservatively (consumers may re-read, never skip), so translated > exact is an error (records skipped)
and translated < exact a warning with the count of records read again.
"""

from __future__ import annotations

from airshift.kafka.model import GroupPartition


def judge(
    group: str,
    topic: str,
    partition: int,
    source_committed: int,
    exact: int | None,
    target_committed: int | None,
    checkpoint: int | None,
) -> GroupPartition:
    if target_committed is not None:
        translated, origin = target_committed, "target commit"
    elif checkpoint is not None:
        translated, origin = checkpoint, "checkpoint"
    else:
        translated, origin = None, "none"
    if translated is None or exact is None:
        return GroupPartition(
            group, topic, partition, source_committed, exact, translated, origin, "untranslated"
        )
    if translated > exact:
        verdict, records = "skip", translated - exact
    elif translated < exact:
        verdict, records = "re-read", exact - translated
    else:
        verdict, records = "ok", 0
    return GroupPartition(
        group, topic, partition, source_committed, exact, translated, origin, verdict, records
    )


def exact_target(
    committed: int,
    points: dict[int, tuple[int, int]],
    last_match: tuple[int, int] | None,
    start: tuple[int, int],
) -> int:
    """The target offset of the record the group reads next, from the comparison's matched points:
    the first record matched at or after the commit; past the last match, counted on from it."""
    if committed in points:
        return points[committed][1]
    if last_match is not None and committed > last_match[0]:
        return last_match[1] + (committed - last_match[0])
    source_start, target_start = start
    return target_start + max(0, committed - source_start)
