"""`airshift kafka compare` against two real Kafka-protocol brokers (Tansu) with a MirrorMaker 2
stand-in (kafka_support.Mirror, a test fixture): a clean mirror passes; planted faults (a missing, a
duplicated, a reordered and a changed record, a group whose translation would skip) are each reported
with their offsets; a mirror that is behind exits 3 and `--watch` follows it until it has caught up."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from kafka_support import (  # type: ignore[import-not-found]
    Message,
    Mirror,
    airshift,
    brokers_fixture,  # noqa: F401 (fixture)
    checkpoint_record,
    commit,
    create_topic,
    produce,
    sample_messages,
    unique,
)

pytestmark = pytest.mark.integration


def _report(result: subprocess.CompletedProcess[str]) -> dict:  # type: ignore[type-arg]
    assert result.returncode in (0, 1, 3), result.stderr
    return json.loads(result.stdout)


def _partition(report: dict, number: int) -> dict:  # type: ignore[type-arg]
    return next(p for p in report["topics"][0]["partitions"] if p["partition"] == number)


def test_clean_mirror_passes_and_groups_reread_at_most(brokers: tuple[str, str], tmp_path: Path) -> None:
    source, target = brokers
    topic = unique("orders")
    create_topic(source, topic, 3)
    produce(source, topic, sample_messages(3, 40))
    mirror = Mirror(source, target)
    mirror.copy(topic, 3)
    committed = {0: 25, 1: 40, 2: 10}
    commit(source, "billing", topic, committed)
    translated = mirror.checkpoint("billing", topic, committed)
    assert translated == {0: 21, 1: 31, 2: 10}  # MM2's conservative rule (syncs every 10 records)

    result = airshift(
        "kafka", "compare", "--source", source, "--target", target, "--topics", topic, "--format", "json"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = _report(result)
    assert report["verdict"] == "in parity" and report["error_count"] == 0
    assert report["offset_syncs_topic"] == mirror.syncs_topic
    assert report["checkpoints_topic"] == mirror.checkpoints_topic
    for number in range(3):
        part = _partition(report, number)
        assert part["source"]["records"] == part["target"]["records"] == part["compared"] == 40
        assert part["source"]["digest"] == part["target"]["digest"]
        assert not any(part["counts"].values()) and part["lag"] == 0 and not part["warnings"]
    groups = {(g["group"], g["partition"]): g for g in report["groups"]}
    assert groups[("billing", 0)]["verdict"] == "re-read" and groups[("billing", 0)]["records"] == 4
    assert groups[("billing", 1)]["verdict"] == "re-read" and groups[("billing", 1)]["records"] == 9
    assert (
        groups[("billing", 2)]["verdict"] == "ok"
        and groups[("billing", 2)]["translated_from"] == "checkpoint"
    )

    text = airshift("kafka", "compare", "--source", source, "--target", target, "--topics", topic)
    assert text.returncode == 0
    assert "IN PARITY" in text.stdout
    assert f"group billing on {topic}[0] would re-read 4 record(s)" in text.stdout

    html = tmp_path / "report.html"
    sampled = airshift(
        "kafka", "compare", "--source", source, "--target", target, "--topics", topic,
        "--sample", "5", "--format", "html", "-o", str(html),
    )  # fmt: skip
    assert sampled.returncode == 0, sampled.stderr
    page = html.read_text()
    assert "IN PARITY" in page and "(sampled)" in page and "&ne;" not in page and "<script" not in page
    assert "<td class='warn'>re-read 4</td>" in page  # the group judged from sampled lookups too


def _drop(offset: int):  # type: ignore[no-untyped-def]
    return lambda pairs: [(o, m) for o, m in pairs if o != offset]


def _duplicate(offset: int):  # type: ignore[no-untyped-def]
    return lambda pairs: [x for o, m in pairs for x in ([(o, m)] * (2 if o == offset else 1))]


def _swap(offset: int):  # type: ignore[no-untyped-def]
    def swap(pairs: list[tuple[int, Message]]) -> list[tuple[int, Message]]:
        pairs = list(pairs)
        pairs[offset], pairs[offset + 1] = pairs[offset + 1], pairs[offset]
        return pairs

    return swap


def _change_header(offset: int):  # type: ignore[no-untyped-def]
    return lambda pairs: [
        (o, replace(m, headers=[("trace", b"tampered"), ("source", b"coto")]) if o == offset else m)
        for o, m in pairs
    ]


def test_planted_faults_are_each_reported_with_their_offsets(brokers: tuple[str, str]) -> None:
    source, target = brokers
    topic = unique("payments")
    create_topic(source, topic, 4)
    produce(source, topic, sample_messages(4, 30, seed="p"))
    mirror = Mirror(source, target, source_alias="cc", target_alias="self")
    mirror.copy(topic, 4, faults={0: _drop(12), 1: _duplicate(7), 2: _swap(15), 3: _change_header(20)})
    # Group "ledger" committed 22 on partition 3; a bad translation puts it 3 records further on.
    commit(source, "ledger", topic, {3: 22})
    mirror._produce_raw(target, mirror.checkpoints_topic, [checkpoint_record("ledger", topic, 3, 22, 25)])

    result = airshift(
        "kafka", "compare", "--source", source, "--target", target, "--topics", topic, "--format", "json"
    )
    assert result.returncode == 1, result.stdout + result.stderr
    report = _report(result)
    assert report["verdict"] == "differences"

    def findings(number: int) -> list[tuple[str, int | None, int | None]]:
        return [
            (f["kind"], f["source_offset"], f["target_offset"])
            for f in _partition(report, number)["findings"]
        ]

    assert findings(0) == [("missing", 12, None)]
    assert findings(1) == [("duplicate", 7, 8)]
    assert findings(2) == [("reordered", 16, 15)]
    assert findings(3) == [("changed", 20, 20)]
    assert _partition(report, 3)["findings"][0]["detail"] == "headers differ"
    for number in range(4):
        part = _partition(report, number)
        assert part["source"]["digest"] != part["target"]["digest"]
        assert sum(part["counts"].values()) == 1
    (ledger,) = [g for g in report["groups"] if g["group"] == "ledger"]
    assert (ledger["verdict"], ledger["records"], ledger["exact_target"], ledger["translated"]) == (
        "skip",
        3,
        22,
        25,
    )

    text = airshift("kafka", "compare", "--source", source, "--target", target, "--topics", topic)
    assert text.returncode == 1
    for line in (
        "ERROR missing on target: source offset 12 (after source offset 11)",
        "ERROR duplicated: source offset 7, target offset 8",
        "ERROR reordered: source offset 16, target offset 15",
        "ERROR changed: source offset 20, target offset 20 (headers differ)",
        f"ERROR group ledger on {topic}[3] would SKIP 3 record(s)",
    ):
        assert line in text.stdout, text.stdout


def test_a_mirror_behind_exits_3_and_watch_follows_it_until_caught_up(brokers: tuple[str, str]) -> None:
    source, target = brokers
    topic = unique("clicks")
    create_topic(source, topic, 2)
    produce(source, topic, sample_messages(2, 30, seed="c"))
    mirror = Mirror(source, target)
    mirror.copy(topic, 2, upto={0: 20, 1: 25})

    behind = _report(
        airshift(
            "kafka", "compare", "--source", source, "--target", target, "--topics", topic, "--format", "json"
        )
    )
    assert behind["exit_code"] == 3 and behind["verdict"] == "behind" and behind["lag"] == 15
    assert (_partition(behind, 0)["lag"], _partition(behind, 0)["first_lag_offset"]) == (10, 20)
    assert (_partition(behind, 1)["lag"], _partition(behind, 1)["first_lag_offset"]) == (5, 25)

    watcher = subprocess.Popen(
        [sys.executable, "-m", "airshift", "kafka", "compare", "--source", source, "--target", target,
         "--topics", topic, "--watch", "--interval", "0.5", "--watch-timeout", "120", "--format", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(1.0)  # let it measure the lag at least once (not a timing assert: either way it converges)
        mirror.copy(topic, 2)
        out, err = watcher.communicate(timeout=180)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
    assert watcher.returncode == 0, err
    assert "caught up; comparing" in err and "replication lag" in err
    assert json.loads(out)["verdict"] == "in parity"


def test_watch_gives_up_after_its_timeout(brokers: tuple[str, str]) -> None:
    source, target = brokers
    topic = unique("stale")
    create_topic(source, topic, 1)
    produce(source, topic, sample_messages(1, 10, seed="s"))
    Mirror(source, target).copy(topic, 1, upto={0: 4})
    result = airshift(
        "kafka", "compare", "--source", source, "--target", target, "--topics", topic,
        "--watch", "--interval", "0.5", "--watch-timeout", "2",
    )  # fmt: skip
    assert result.returncode == 3, result.stdout + result.stderr
    assert "not caught up after 2 s" in result.stderr
    assert "BEHIND" in result.stdout
