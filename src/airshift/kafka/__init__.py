"""Kafka topic migration parity: prove that a mirrored topic (MirrorMaker 2 or a re-publishing relay)
lost, doubled, reordered and changed nothing, and that consumer groups switch without skipping records.

Modules, each with one job: `config` (client settings from files or the environment, secrets masked),
`cluster` (admin calls and reading a partition as a stream), `digest` (record fingerprints and sequence
digests), `mm2` (MirrorMaker 2's offset-sync and checkpoint records), `diff` (the streaming, bounded
comparison of two record sequences), `align` (where the target's copy of a source offset is), `groups`
(consumer-group translation), `compare` (the whole run), `model` + `render` (the report), `watch`
(following the sync until it converges) and `resume` (EventStream consumers on a new cluster).
confluent-kafka is imported only inside functions that talk to a cluster.
"""
