"""The streaming comparison of a source partition's record sequence with its copy on the target.

Both sides are read as streams into bounded windows (`window` records each, fingerprints only), so a
topic of any size is compared in constant memory. Equal heads match. At a mismatch the windows decide:
- the target's head is a record already matched (and not still ahead in the source): a **duplicate**;
- the source's head is nowhere in the target's window: **missing** (unless the target's head is the same
  record with some parts changed: **changed**, naming the parts: key, value, headers, timestamp);
- the target's head is nowhere in the source's window: **extra**;
- both are further on in the other window: **reordered** (the nearer one is taken out of place).
When the target ends first, the source's remaining records are **lag** (not replicated yet); when the
source ends first, the target's remaining records are newer than the source (produced to the target after
a switch) or duplicates. A reorder wider than the window shows as a missing and an extra record.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from airshift.kafka.digest import Record, SequenceDigest

WINDOW = 4096
KINDS = ("missing", "extra", "duplicate", "reordered", "changed")
MAX_LISTED = 50  # findings listed per kind and partition; all are counted


@dataclass(frozen=True)
class Finding:
    kind: str
    source_offset: int | None
    target_offset: int | None
    detail: str = ""


@dataclass
class DiffResult:
    matched: int = 0
    lag: int = 0  # source records after the target's end
    first_lag_offset: int | None = None
    newer_on_target: int = 0  # target records after the source's end
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    findings: list[Finding] = field(default_factory=list)
    # For each watched source offset: the (source, target) offsets of the first record matched at or
    # after it, in the order matched (group translation and offset-sync checks use it).
    points: dict[int, tuple[int, int]] = field(default_factory=dict)
    last_match: tuple[int, int] | None = None
    source_digest: str = ""
    target_digest: str = ""
    source_records: int = 0
    target_records: int = 0

    @property
    def errors(self) -> int:
        return sum(self.counts.values())

    def add(self, finding: Finding) -> None:
        self.counts[finding.kind] += 1
        if self.counts[finding.kind] <= MAX_LISTED:
            self.findings.append(finding)


class _Entry:
    __slots__ = ("done", "record", "seq")

    def __init__(self, record: Record, seq: int) -> None:
        self.record, self.seq, self.done = record, seq, False


class _Side:
    """One side's window: records in order plus an index by fingerprint (skipping consumed ones)."""

    def __init__(self, records: Iterator[Record]) -> None:
        self.records = records
        self.buffer: deque[_Entry] = deque()
        # fingerprint -> its entry, or a list of entries when it occurs more than once (rare)
        self.index: dict[bytes, _Entry | list[_Entry]] = {}
        self.seq = 0
        self.exhausted = False
        # The digest covers records as they leave the window, in this side's order.
        self.digest = SequenceDigest()
        self._update = self.digest.update

    def fill(self, window: int) -> None:
        while not self.exhausted and len(self.buffer) < window:
            record = next(self.records, None)
            if record is None:
                self.exhausted = True
                return
            self.push(record)

    def push(self, record: Record) -> None:
        entry = _Entry(record, self.seq)
        self.seq += 1
        self.buffer.append(entry)
        existing = self.index.get(record.fingerprint)
        if existing is None:
            self.index[record.fingerprint] = entry
        elif isinstance(existing, list):
            existing.append(entry)
        else:
            self.index[record.fingerprint] = [existing, entry]

    def head(self) -> _Entry | None:
        while self.buffer and self.buffer[0].done:
            self._digest(self.buffer.popleft().record)
        return self.buffer[0] if self.buffer else None

    def pop(self) -> Record:
        entry = self.buffer.popleft()
        self._unindex(entry)
        self._digest(entry.record)
        return entry.record

    def _digest(self, record: Record) -> None:
        self._update(record.fingerprint)

    def take(self, entry: _Entry) -> None:
        """Consume an entry out of order (it stays in the buffer, marked done, until it reaches the head)."""
        entry.done = True
        self._unindex(entry)

    def find(self, fingerprint: bytes) -> _Entry | None:
        entries = self.index.get(fingerprint)
        return entries[0] if isinstance(entries, list) else entries

    def distance(self, entry: _Entry) -> int:
        return entry.seq - self.buffer[0].seq

    def _unindex(self, entry: _Entry) -> None:
        fingerprint = entry.record.fingerprint
        entries = self.index[fingerprint]
        if not isinstance(entries, list):
            del self.index[fingerprint]
            return
        entries.remove(entry)
        if len(entries) == 1:
            self.index[fingerprint] = entries[0]


class _Recent:
    """Fingerprints of the last `size` matched records -> their source offset (duplicate detection)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.offsets: dict[bytes, int] = {}
        self.order: deque[tuple[bytes, int]] = deque()

    def add(self, fingerprint: bytes, offset: int) -> None:
        self.offsets[fingerprint] = offset
        self.order.append((fingerprint, offset))
        if len(self.order) > self.size:
            old, old_offset = self.order.popleft()
            if self.offsets.get(old) == old_offset:
                del self.offsets[old]


def _is_changed(source: Record, target: Record) -> bool:
    """The same record with some parts changed: at least two of its four parts still agree."""
    return len(source.differing_parts(target)) <= 2


def compare_sequences(
    source: Iterator[Record],
    target: Iterator[Record],
    *,
    window: int = WINDOW,
    watch: list[int] | None = None,
    target_tail: Literal["newer", "ignore"] = "newer",
) -> DiffResult:
    """Compare two record sequences (see the module docstring). `watch`: source offsets whose target
    position is wanted (sorted); `target_tail="ignore"` leaves target records after the source's end
    uncounted (sampled ranges read a little past their end on the target)."""
    result = DiffResult()
    src, tgt = _Side(source), _Side(target)
    recent = _Recent(window)
    points = sorted(set(watch or ()))
    next_point = 0

    def matched(s: Record, t: Record) -> None:
        nonlocal next_point
        result.matched += 1
        result.last_match = (s.offset, t.offset)
        recent.add(s.fingerprint, s.offset)
        while next_point < len(points) and s.offset >= points[next_point]:
            result.points[points[next_point]] = (s.offset, t.offset)
            next_point += 1

    after = "the start"
    while True:
        if not src.buffer and not tgt.buffer and not src.exhausted and not tgt.exhausted:
            # Lockstep: while both sides agree record for record (the common case), nothing is buffered.
            src_update, tgt_update = src.digest.update, tgt.digest.update
            target_next = tgt.records.__next__
            for s in src.records:
                try:
                    t = target_next()
                except StopIteration:
                    tgt.exhausted = True
                    src.push(s)
                    break
                if s.fingerprint != t.fingerprint:
                    src.push(s)
                    tgt.push(t)
                    break
                src_update(s.fingerprint)
                tgt_update(t.fingerprint)
                matched(s, t)
            else:
                src.exhausted = True
            if src.buffer or tgt.buffer:
                after = f"source offset {result.last_match[0]}" if result.last_match else after
        s_entry, t_entry = src.head(), tgt.head()
        if (
            s_entry is not None
            and t_entry is not None
            and s_entry.record.fingerprint == t_entry.record.fingerprint
        ):
            # Agreeing heads need no lookahead: the windows drain and lockstep resumes.
            s, t = src.pop(), tgt.pop()
            matched(s, t)
            after = f"source offset {s.offset}"
            continue
        src.fill(window)
        tgt.fill(window)
        s_entry, t_entry = src.head(), tgt.head()
        if s_entry is None and t_entry is None:
            break
        if t_entry is None:
            record = src.pop()
            result.lag += 1
            if result.first_lag_offset is None:
                result.first_lag_offset = record.offset
            continue
        if s_entry is None:
            if target_tail == "ignore":
                break  # a sampled range: what follows on the target belongs to no compared record
            record = tgt.pop()
            original = recent.offsets.get(record.fingerprint)
            if original is not None:
                result.add(Finding("duplicate", original, record.offset, "after the source's end"))
            elif target_tail == "newer":
                result.newer_on_target += 1
            continue
        s, t = s_entry.record, t_entry.record
        if s.fingerprint == t.fingerprint:
            src.pop()
            tgt.pop()
            matched(s, t)
            after = f"source offset {s.offset}"
            continue
        in_target = tgt.find(s.fingerprint)
        in_source = src.find(t.fingerprint)
        if in_source is None and t.fingerprint in recent.offsets:
            tgt.pop()
            result.add(
                Finding(
                    "duplicate",
                    recent.offsets[t.fingerprint],
                    t.offset,
                    f"copy of source offset {recent.offsets[t.fingerprint]}",
                )
            )
        elif in_target is None and in_source is None:
            src.pop()
            if _is_changed(s, t):
                tgt.pop()
                parts = ", ".join(s.differing_parts(t))
                result.add(Finding("changed", s.offset, t.offset, f"{parts} differ"))
                after = f"source offset {s.offset}"
            else:
                result.add(Finding("missing", s.offset, None, f"after {after}"))
        elif in_target is None:
            src.pop()
            result.add(Finding("missing", s.offset, None, f"after {after}"))
        elif in_source is None:
            tgt.pop()
            result.add(Finding("extra", None, t.offset, f"after {after}"))
        elif tgt.distance(in_target) <= src.distance(in_source):
            # The target's head belongs further on in the source: it was moved earlier.
            tgt.pop()
            src.take(in_source)
            result.add(
                Finding("reordered", in_source.record.offset, t.offset, f"before source offset {s.offset}")
            )
        else:
            # The source's head sits further on in the target: it was moved later.
            src.pop()
            tgt.take(in_target)
            result.add(Finding("reordered", s.offset, in_target.record.offset, "later than its place"))
    result.source_digest, result.source_records = src.digest.hexdigest(), src.digest.count
    result.target_digest, result.target_records = tgt.digest.hexdigest(), tgt.digest.count
    return result
