"""The EventStream: a durable, ordered log of every Airflow task and DAG-run state change.

Capture (database triggers writing an outbox in the same transaction as Airflow's own write), a relay
into the event log (gap-free offsets, deduplicated), consumers that keep their own offsets, and an API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airshift.events.client import EventsClient
    from airshift.events.consumer import Consumer

__all__ = ["Consumer", "EventsClient"]


def __getattr__(name: str) -> Any:
    # Lazy, so `import airshift.events.<module>` (in Airflow workers, say) loads only what it uses.
    if name == "Consumer":
        from airshift.events.consumer import Consumer

        return Consumer
    if name == "EventsClient":
        from airshift.events.client import EventsClient

        return EventsClient
    raise AttributeError(name)
