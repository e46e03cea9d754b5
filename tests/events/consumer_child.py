"""Run by test_consumer_crash.py as a separate process: a consumer whose handler records each offset it
handled (appended and fsync'd to a file) and is slow enough to be killed mid-stream."""

from __future__ import annotations

import os
import sys
import time

from airshift.events.consumer import Consumer
from airshift.events.model import Event


def main(log: str, offsets: str, out: str) -> None:
    consumer = Consumer.open(log, offsets, name="child")
    consumer.poll_interval = 0.05
    consumer.batch_size = 7
    with open(out, "a", encoding="utf-8") as handle:

        def handler(event: Event) -> None:
            handle.write(f"{event.offset}\n")
            handle.flush()
            os.fsync(handle.fileno())
            time.sleep(0.002)

        consumer.run(handler, follow=False)


if __name__ == "__main__":
    main(*sys.argv[1:4])
