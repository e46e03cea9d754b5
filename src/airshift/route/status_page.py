"""The live cutover status the router serves at `/` (HTML, the cutover status renderer's page) and
`/status.json`. Collecting it asks both Airflows about every DAG of the plan, so one collection is
reused for a few seconds: a page left open, or a monitor polling, does not load the Airflows."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from airshift.cutover.journal import Journal
from airshift.cutover.plan import CutoverPlan
from airshift.cutover.status import collect_status, render_html, to_json
from airshift.route.model import SideName
from airshift.route.sides import Side


class StatusPage:
    def __init__(
        self,
        plan: CutoverPlan,
        journal: Journal,
        sides: dict[SideName, Side],
        *,
        max_age: float = 5.0,
        refresh_seconds: int = 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.plan = plan
        self.journal = journal
        self.sides = sides
        self.max_age = max_age
        self.refresh_seconds = refresh_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[float, tuple[str, dict[str, Any]]] | None = None

    def __call__(self) -> tuple[str, dict[str, Any]]:
        with self._lock:
            if self._cached is not None and self._clock() - self._cached[0] < self.max_age:
                return self._cached[1]
            old, new = self.sides["old"].connected(), self.sides["new"].connected()
            status = collect_status(self.plan, self.journal, old, new)
            if old is None:
                status.problems.append("old side: cannot be reached")
            if new is None:
                status.problems.append("new side: cannot be reached")
            page = (render_html(status, refresh_seconds=self.refresh_seconds), json.loads(to_json(status)))
            self._cached = (self._clock(), page)
            return page
