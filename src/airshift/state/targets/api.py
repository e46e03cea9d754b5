"""Plan and write variables, connections, pools and paused state into an Airflow API server.

The planner is version-neutral; a `TargetApi` reads and writes one server generation: `V2BulkTarget`
here (an Airflow 3.x api-server, `/api/v2` bulk endpoints) and `api_v1.ApiV1Target` (an Airflow 2.x
webserver, one `/api/v1` request per object).

Deciding create / update / skip needs the target's current objects, but the APIs hide secrets (3.x
redacts connection passwords, sensitive extra keys and variables whose key looks sensitive; 2.x never
returns a connection password at all). Visible fields are compared directly; for the hidden part the
ledger answers "did we write exactly this before?" through a salted fingerprint of the full content. An
object that exists and is not provably identical is a conflict, resolved by `--on-conflict` (skip,
overwrite, fail) before anything is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Final, Literal, Protocol

from airshift.errors import AirshiftError
from airshift.state.ledger import Ledger
from airshift.state.model import Connection, Kind, PausedState, Pool, SourceState, StateObject, Variable
from airshift.state.plan import Plan, PlanItem
from airshift.state.secret import MASK
from airshift.state.targets.api_v2 import ApiV2Client, safe_bulk_error

OnConflict = Literal["skip", "overwrite", "fail"]
BATCH = 100


class _Hidden:
    """A field the target never returns (Airflow 2's connection password): equality is unknown."""

    def __repr__(self) -> str:
        return "HIDDEN"


HIDDEN: Final = _Hidden()


class TargetApi(Protocol):
    """One generation of Airflow's REST API, as the planner needs it."""

    base_url: str
    description: str  # e.g. "Airflow 2.11.2 webserver (/api/v1)", for the plan

    def existing(self, kind: str, wanted: set[str]) -> dict[str, dict[str, Any]]:
        """The target's objects of `kind` (variables, connections, pools) by id, with the fields
        `compare` reads; `wanted` are the ids the source has (a server may fetch details only for them)."""
        ...

    def get_dag(self, dag_id: str) -> dict[str, Any] | None: ...

    def write(self, kind: str, items: list[PlanItem]) -> None:
        """Create or update the items (all of one kind); raise AirshiftError naming what was refused."""
        ...

    def set_paused(self, dag_id: str, is_paused: bool) -> None: ...

    def close(self) -> None: ...


_COLLECTION: dict[str, tuple[str, str, str]] = {
    # kind: (URL collection, list field in the response, id field in the response)
    "variables": ("variables", "variables", "key"),
    "connections": ("connections", "connections", "connection_id"),
    "pools": ("pools", "pools", "name"),
}


def content(obj: StateObject) -> dict[str, Any]:
    """The full content of an object (secrets revealed) for fingerprints only; never printed. The same
    fields as the request body, with the connection id under the name the ledger has always used."""
    if not isinstance(obj, (Variable, Connection, Pool)):
        return {"dag_id": obj.dag_id, "is_paused": obj.is_paused}
    body = request_body(obj)
    if isinstance(obj, Connection):
        body = {"conn_id": body.pop("connection_id"), **body}
    return body


def request_body(obj: StateObject) -> dict[str, Any]:
    """The bulk entity for `obj`. Every field is sent, so an overwrite leaves no stale value behind."""
    if isinstance(obj, Variable):
        return {"key": obj.key, "value": obj.value.reveal(), "description": obj.description}
    if isinstance(obj, Connection):
        return {
            "connection_id": obj.conn_id,
            "conn_type": obj.conn_type,
            "host": obj.host,
            "schema": obj.schema,
            "login": obj.login,
            "password": obj.password.reveal() if obj.password else None,
            "port": obj.port,
            "extra": obj.extra.reveal() if obj.extra else None,
            "description": obj.description,
        }
    if isinstance(obj, Pool):
        return {
            "name": obj.name,
            "slots": obj.slots,
            "description": obj.description,
            "include_deferred": obj.include_deferred,
        }
    raise TypeError(f"no bulk body for {obj.kind}")


def _has_mask(value: Any) -> bool:
    return isinstance(value, str) and MASK in value


def _json_or_text(value: str | None) -> Any:
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return value


def _masked_equal(source: str | None, target: Any) -> bool | None:
    """True/False when the target's (possibly redacted) value proves equality or difference; None when
    redaction hides the answer."""
    if target is HIDDEN:
        return None
    if target is None or target == "":
        return not source
    if source is None:
        return False
    if target == source:
        return True
    if not _has_mask(target):
        # Redaction re-serializes JSON values; compare them parsed.
        return bool(_json_or_text(source) == _json_or_text(str(target)))
    source_json, target_json = _json_or_text(source), _json_or_text(str(target))
    if isinstance(source_json, dict) and isinstance(target_json, dict):
        if set(source_json) != set(target_json):
            return False
        visible = [key for key, value in target_json.items() if not _has_mask(value)]
        if any(source_json[key] != target_json[key] for key in visible):
            return False
    return None


def compare(obj: StateObject, existing: dict[str, Any]) -> bool | None:
    """Whether the target's object equals `obj`: True, False, or None if secrets hide the answer."""
    if isinstance(obj, Variable):
        if (existing.get("description") or None) != (obj.description or None):
            return False
        return _masked_equal(obj.value.reveal(), existing.get("value"))
    if isinstance(obj, Connection):
        visible = ("conn_type", "host", "schema", "login", "port", "description")
        if any((existing.get(name) or None) != (getattr(obj, name) or None) for name in visible):
            return False
        password = _masked_equal(obj.password.reveal() if obj.password else None, existing.get("password"))
        extra = _masked_equal(obj.extra.reveal() if obj.extra else None, existing.get("extra"))
        if password is False or extra is False:
            return False
        return None if None in (password, extra) else True
    if isinstance(obj, Pool):
        return (
            int(existing.get("slots", -2)) == obj.slots
            and (existing.get("description") or None) == (obj.description or None)
            and bool(existing.get("include_deferred")) == obj.include_deferred
        )
    return bool(existing.get("is_paused")) == obj.is_paused


class V2BulkTarget:
    """An Airflow 3.x API server: reads through paged lists, writes through the bulk endpoints."""

    def __init__(self, client: ApiV2Client) -> None:
        self.client = client
        self.base_url = client.base_url
        self.description = "Airflow 3 API server (/api/v2)"

    def existing(self, kind: str, wanted: set[str]) -> dict[str, dict[str, Any]]:
        collection, field, ident = _COLLECTION[kind]
        return {str(item[ident]): item for item in self.client.list_all(collection, field)}

    def get_dag(self, dag_id: str) -> dict[str, Any] | None:
        return self.client.get_dag(dag_id)

    def set_paused(self, dag_id: str, is_paused: bool) -> None:
        self.client.set_paused(dag_id, is_paused)

    def close(self) -> None:
        self.client.close()

    def write(self, kind: str, items: list[PlanItem]) -> None:
        actions = []
        creates = [request_body(item.obj) for item in items if item.action == "create"]
        updates = [request_body(item.obj) for item in items if item.action == "update"]
        if creates:
            actions.append({"action": "create", "entities": creates, "action_on_existence": "fail"})
        if updates:
            actions.append({"action": "create", "entities": updates, "action_on_existence": "overwrite"})
        result = self.client.bulk(_COLLECTION[kind][0], actions)
        errors = [
            error
            for outcome in result.values()
            if isinstance(outcome, dict)
            for error in outcome.get("errors", [])
        ]
        if errors:
            raise AirshiftError(
                f"the target refused {kind}: " + "; ".join(safe_bulk_error(error) for error in errors[:5])
            )


class ApiTarget:
    """Plans and applies a transfer against an Airflow API server (2.x `/api/v1` or 3.x `/api/v2`)."""

    def __init__(self, client: TargetApi | ApiV2Client, ledger: Ledger | None) -> None:
        self.client: TargetApi = V2BulkTarget(client) if isinstance(client, ApiV2Client) else client
        self.ledger = ledger
        self.name = self.client.base_url

    def _existing(self, kind: str, objects: list[StateObject]) -> dict[str, dict[str, Any]]:
        return self.client.existing(kind, {obj.ident for obj in objects})

    def plan(self, state: SourceState, kinds: tuple[Kind, ...], on_conflict: OnConflict) -> Plan:
        plan = Plan(self.name, notes=list(state.notes))
        for kind in kinds:
            objects: list[StateObject] = list(getattr(state, kind))
            if kind == "paused":
                plan.items.extend(self._plan_paused(obj) for obj in objects if isinstance(obj, PausedState))
                continue
            existing = self._existing(kind, objects) if objects else {}
            plan.items.extend(self._plan_one(obj, existing.get(obj.ident), on_conflict) for obj in objects)
        return plan

    def _plan_one(
        self, obj: StateObject, existing: dict[str, Any] | None, on_conflict: OnConflict
    ) -> PlanItem:
        fingerprint = self.ledger.fingerprint(content(obj)) if self.ledger else ""
        if existing is None:
            return PlanItem(obj, "create", "not on the target", fingerprint)
        same = compare(obj, existing)
        recorded = self.ledger.lookup(self.name, obj.kind, obj.ident) if self.ledger else None
        if same is not False and recorded is not None and recorded[0] == fingerprint:
            # Visible fields agree and the ledger says these exact secrets were written by us.
            return PlanItem(
                obj,
                "skip",
                "unchanged (written by an earlier transfer)",
                fingerprint,
                recorded[1] == "pending",
            )
        if same is True:
            return PlanItem(obj, "skip", "already identical on the target", fingerprint)
        reason = "exists on the target with different values" if same is False else (
            "exists on the target; the API hides its secret fields, so equality is unknown"
        )  # fmt: skip
        if on_conflict == "overwrite":
            return PlanItem(obj, "update", reason + "; overwriting", fingerprint)
        if on_conflict == "skip":
            return PlanItem(obj, "skip", reason + "; left as is (--on-conflict skip)", fingerprint)
        return PlanItem(obj, "conflict", reason, fingerprint)

    def _plan_paused(self, obj: PausedState) -> PlanItem:
        dag = self.client.get_dag(obj.dag_id)
        if dag is None:
            return PlanItem(obj, "skip", "DAG not on the target yet (deploy and parse it, then re-run)")
        if bool(dag.get("is_paused")) == obj.is_paused:
            return PlanItem(obj, "skip", f"already {'paused' if obj.is_paused else 'active'}")
        if obj.is_paused:
            return PlanItem(obj, "update", "pause (paused on the source)")
        return PlanItem(obj, "update", "unpause (active on the source: pause it there before cutover)")

    def apply(self, plan: Plan) -> dict[str, int]:
        """Write the plan's creates and updates; returns how many objects were written per kind."""
        if plan.conflicts():
            names = ", ".join(f"{item.kind} {item.ident!r}" for item in plan.conflicts()[:10])
            raise AirshiftError(
                f"{len(plan.conflicts())} object(s) already exist on the target with other or unknown values "
                f"({names}); nothing was written. Choose --on-conflict skip or overwrite"
            )
        if self.ledger:
            confirmed = [item for item in plan.items if item.confirm_pending]
            for kind in {item.kind for item in confirmed}:
                self.ledger.mark(
                    self.name, kind, [(i.ident, i.fingerprint) for i in confirmed if i.kind == kind], "done"
                )
        written: dict[str, int] = {}
        for kind in _COLLECTION:
            items = [item for item in plan.writes() if item.kind == kind]
            for batch in _batches(items):
                self._write_batch(kind, batch)
                written[kind] = written.get(kind, 0) + len(batch)
        for item in plan.writes():
            if isinstance(item.obj, PausedState):
                self.client.set_paused(item.obj.dag_id, item.obj.is_paused)
                written["paused"] = written.get("paused", 0) + 1
        return written

    def _write_batch(self, kind: str, batch: list[PlanItem]) -> None:
        prints = [(item.ident, item.fingerprint) for item in batch]
        if self.ledger:
            self.ledger.mark(self.name, kind, prints, "pending")
        self.client.write(kind, batch)
        if self.ledger:
            self.ledger.mark(self.name, kind, prints, "done")


def _batches(items: list[PlanItem]) -> Iterator[list[PlanItem]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]
