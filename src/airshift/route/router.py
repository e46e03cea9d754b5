"""Where a trigger goes and what the caller is told.

The journal says which side owns a DAG now (a DAG no cutover has touched is on the old side). Before a
run is created on the owner, the other side is asked whether it already has that run id: a Pub/Sub
message redelivered after the switch, or a client retrying across it, must not make the run twice.
Status reads try the owner first, then the other side (a run made before the switch stays where it
ran)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from airshift.route.dates import utcnow
from airshift.route.model import DuplicateRun, RouteError, RunInfo, SideName, TriggerRequest
from airshift.route.sides import Side

log = logging.getLogger("airshift.route")

OwnerLookup = Callable[[str], "SideName | None"]
# How long the check of the side that does not own the DAG may take: a former owner that is switched
# off or unreachable must not hold every trigger for the plan's full timeout.
OTHER_SIDE_TIMEOUT = 5.0


@dataclass(frozen=True)
class Routed:
    run: RunInfo
    created: bool


class Router:
    def __init__(
        self, sides: dict[SideName, Side], owner_of: OwnerLookup, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.sides = sides
        self._owner_of = owner_of
        self.clock = clock

    def owner(self, dag_id: str) -> Side:
        try:
            name = self._owner_of(dag_id) or "old"
        except Exception as error:  # the journal is a file or a server; either can fail
            log.error("journal lookup for %s failed: %s", dag_id, type(error).__name__)
            raise RouteError(
                "owner_down", "the cutover journal cannot be read, so the owner of this DAG is unknown"
            ) from None
        side = self.sides.get(name)
        if side is None:
            raise RouteError(
                "owner_error",
                f"DAG {dag_id!r} is owned by the {name} side, which this router has no address for",
            )
        return side

    def others(self, owner: Side) -> list[Side]:
        return [side for name, side in self.sides.items() if name != owner.name]

    def trigger(self, request: TriggerRequest) -> Routed:
        """Create the run on the owner, once. DuplicateRun when the caller's run id is already used on
        either side; a conflict when the router made the id from the date and that id is taken (another
        trigger without a run id took the same date, e.g. two 1.10 triggers in one second)."""
        try:
            return self._trigger(request)
        except DuplicateRun as duplicate:
            if request.run_id_given:
                raise
            run = duplicate.run
            when = run.logical_date or run.run_after
            raise RouteError(
                "conflict",
                f"DAG {request.dag_id!r} already has a run at "
                f"{when.isoformat() if when else 'that date'} on the {run.side} side (run {run.run_id!r}); "
                "a trigger without a run id is named by its date, so send another execution date or a run id",
            ) from None

    def _trigger(self, request: TriggerRequest) -> Routed:
        owner = self.owner(request.dag_id)
        for other in self.others(owner):
            try:
                existing = other.get_run(request.dag_id, request.run_id, timeout=OTHER_SIDE_TIMEOUT)
            except RouteError as error:
                # The owner decides; a down former owner cannot hold a new run id.
                log.warning(
                    "could not check the %s side for run %s: %s", other.name, request.run_id, error.message
                )
                continue
            if existing is not None:
                raise DuplicateRun(existing)
        run = owner.trigger(request, self.clock())
        log.info("run %s of %s created on the %s side", run.run_id, run.dag_id, owner.name)
        return Routed(run, created=True)

    def run(self, dag_id: str, run_id: str) -> RunInfo:
        return self._find(
            dag_id,
            lambda side: side.get_run(dag_id, run_id),
            f"DAGRun {run_id!r} of DAG {dag_id!r} not found",
        )

    def run_at(self, dag_id: str, logical_date: datetime) -> RunInfo:
        return self._find(
            dag_id,
            lambda side: side.run_at(dag_id, logical_date),
            f"Dag Run for date {logical_date.isoformat()} not found in dag {dag_id}",
        )

    def runs(self, dag_id: str) -> list[RunInfo]:
        """Runs of the DAG on the owner (newest first), then those only the other side has."""
        owner = self.owner(dag_id)
        found = owner.list_runs(dag_id)
        seen = {run.run_id for run in found}
        for other in self.others(owner):
            try:
                found += [run for run in other.list_runs(dag_id) if run.run_id not in seen]
            except RouteError:
                continue
        return found

    def _find(self, dag_id: str, read: Callable[[Side], RunInfo | None], missing: str) -> RunInfo:
        owner = self.owner(dag_id)
        run = read(owner)
        if run is not None:
            return run
        for other in self.others(owner):
            try:
                run = read(other)
            except RouteError:
                continue
            if run is not None:
                return run
        raise RouteError("not_found", missing)
