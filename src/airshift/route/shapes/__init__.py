"""One module per inbound shape. Each parses a trigger body into a `TriggerRequest` and renders runs
and errors the way that shape's Airflow (or Pub/Sub) would: `experimental` (1.10), `v1` (2.x), `v2`
(3.x), `pubsub` (push envelopes)."""
