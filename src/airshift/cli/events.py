"""`airshift events`: capture Airflow state changes into a durable, ordered log and serve it."""

from __future__ import annotations

import json
import signal
import tempfile
import threading
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from airshift.errors import AirshiftError

if TYPE_CHECKING:  # SQLAlchemy, httpx, pydantic and FastAPI load with the command that uses them
    from airshift.events.capture import CaptureStatus
    from airshift.events.capture.wal import WalStatus
    from airshift.events.model import Event
    from airshift.events.relay import RelayStep
    from airshift.events.retention import RetainingLog
    from airshift.events.stores import EventLog

TOKEN_ENV = "AIRSHIFT_EVENTS_TOKEN"  # the same as airshift.events.client.TOKEN_ENV (a test keeps them equal)
console = Console()
DEFAULT_LOG = Path("airshift-events.db")

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="SQLAlchemy URL of the Airflow metadata DB, without a password.", show_default=False
    ),
]
DbFileOption = Annotated[
    Path | None,
    typer.Option(
        "--db-file", help="File holding the metadata DB URL (may include the password).", show_default=False
    ),
]
SchemaOption = Annotated[
    str | None, typer.Option("--schema", help="Schema of Airflow's tables (default: the current schema).")
]
LogSpecOption = Annotated[
    str, typer.Option("--log", help="The event log: a SQLite file, or a postgresql:// URL (no password).")
]
TokenFileOption = Annotated[
    Path | None,
    typer.Option("--token-file", help=f"File holding the API token (else ${TOKEN_ENV}).", show_default=False),
]


def _print_status(state: CaptureStatus, url: str) -> None:
    table = Table(title=f"EventStream capture on {url}", title_justify="left", show_header=False)
    table.add_row("database", f"{state.dialect} ({state.schema_generation})")
    table.add_row("installed", "yes" if state.installed else "no")
    table.add_row("outbox table", "present" if state.outbox_present else "absent")
    missing = sorted(set(state.expected_triggers) - set(state.triggers))
    table.add_row("triggers", ", ".join(state.triggers) or "-")
    if missing and state.triggers:
        table.add_row("[red]missing triggers[/]", ", ".join(missing))
    table.add_row("backlog (not relayed yet)", str(state.backlog))
    table.add_row("oldest pending change", state.oldest_pending or "-")
    console.print(table)


class CaptureMode(str, Enum):
    trigger = "trigger"
    wal = "wal"


ModeOption = Annotated[
    CaptureMode,
    typer.Option(
        "--mode",
        help="trigger: row triggers + outbox (any database); wal: PostgreSQL logical decoding, no trigger.",
    ),
]


def _print_wal_status(state: WalStatus, url: str) -> None:
    table = Table(title=f"EventStream WAL capture on {url}", title_justify="left", show_header=False)
    table.add_row("mode", "wal (logical replication slot, pgoutput)")
    table.add_row("installed", "yes" if state.installed else "no")
    table.add_row("wal_level", state.wal_level)
    table.add_row(
        "slot",
        f"{state.slot} ({'present' if state.slot_present else 'absent'}, "
        f"{'in use' if state.slot_active else 'idle'})",
    )
    table.add_row("publication tables", ", ".join(state.publication_tables) or "-")
    lag = "-" if state.lag_bytes is None else f"{state.lag_bytes:,} bytes"
    table.add_row("lag (WAL not relayed yet)", lag)
    if state.pending_events is not None:
        table.add_row("events waiting in the slot", f"{state.pending_events:,}")
    retained = "-" if state.retained_bytes is None else f"{state.retained_bytes:,} bytes"
    table.add_row("WAL retained for the slot", retained)
    console.print(table)
    for warning in state.warnings:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)


def install_cmd(
    db: DbOption = None,
    db_file: DbFileOption = None,
    schema: SchemaOption = None,
    mode: ModeOption = CaptureMode.trigger,
) -> None:
    """Install the capture: row triggers + outbox (--mode trigger), or a PostgreSQL logical replication
    slot and publication (--mode wal), on an Airflow metadata DB."""
    from airshift.events.capture import install, installed_mode, pg_schema
    from airshift.events.database import connect, mask, resolve_url

    url = resolve_url(db, db_file)
    engine = connect(url)
    current = installed_mode(engine)
    if current is not None and current != mode.value:
        raise AirshiftError(
            f"{mask(url)} already has the {current} capture; relay its backlog, run `airshift events "
            f"uninstall`, then install --mode {mode.value}"
        )
    if mode is CaptureMode.wal:
        if engine.dialect.name != "postgresql":
            raise AirshiftError(f"--mode wal needs PostgreSQL; {mask(url)} is {engine.dialect.name}")
        from airshift.events.capture import wal

        _print_wal_status(wal.install(engine, pg_schema(engine, schema)), mask(url))
        return
    state = install(engine, schema)
    _print_status(state, mask(url))


def uninstall_cmd(
    db: DbOption = None,
    db_file: DbFileOption = None,
    schema: SchemaOption = None,
    discard_backlog: Annotated[
        bool, typer.Option("--discard-backlog", help="Also drop captured events the relay has not moved yet.")
    ] = False,
) -> None:
    """Remove the capture: the triggers (and the outbox, once it is empty), or the slot and publication."""
    from airshift.events.capture import installed_mode, pg_schema, uninstall
    from airshift.events.database import connect, mask, resolve_url

    url = resolve_url(db, db_file)
    engine = connect(url)
    if installed_mode(engine) == "wal":
        from airshift.events.capture import wal

        pending = wal.status(engine, pg_schema(engine, schema)).pending_events or 0
        if pending and not discard_backlog:
            raise AirshiftError(
                f"the replication slot still holds {pending} event(s) not relayed yet; run `airshift events "
                "relay --once` and uninstall again, or pass --discard-backlog"
            )
        wal.uninstall(engine)
        console.print("replication slot and publication removed")
        return
    state, backlog = uninstall(engine, schema, discard_backlog=discard_backlog)
    if backlog:
        console.print(
            f"[yellow]triggers removed; the outbox keeps {backlog} event(s) not relayed yet.[/] Run "
            "`airshift events relay --once` and uninstall again, or pass --discard-backlog.",
            highlight=False,
        )
    else:
        console.print("triggers and outbox removed")
    _print_status(state, mask(url))


def status_cmd(db: DbOption = None, db_file: DbFileOption = None, schema: SchemaOption = None) -> None:
    """Show the installed capture (trigger or WAL mode) and what waits for the relay."""
    from airshift.events.capture import installed_mode, pg_schema, status
    from airshift.events.database import connect, mask, resolve_url

    url = resolve_url(db, db_file)
    engine = connect(url)
    if installed_mode(engine) == "wal":
        from airshift.events.capture import wal

        _print_wal_status(wal.status(engine, pg_schema(engine, schema)), mask(url))
        return
    _print_status(status(engine, schema), mask(url))


def relay_cmd(
    db: DbOption = None,
    db_file: DbFileOption = None,
    schema: SchemaOption = None,
    log: LogSpecOption = str(DEFAULT_LOG),
    once: Annotated[bool, typer.Option("--once", help="Move everything captured so far, then exit.")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 500,
    poll_interval: Annotated[
        float, typer.Option("--poll-interval", min=0.01, help="Seconds between polls when idle.")
    ] = 0.2,
    kafka: Annotated[
        str | None, typer.Option("--kafka", help="Also publish the log to Kafka at HOST:PORT (keyed by DAG).")
    ] = None,
    kafka_topic: Annotated[str, typer.Option("--kafka-topic")] = "airshift.events",
    kafka_partitions: Annotated[int, typer.Option("--kafka-partitions", min=1)] = 3,
    kafka_config: Annotated[
        str | None,
        typer.Option(
            "--kafka-config",
            help="Kafka client settings (properties/TOML file or env:PREFIX; SASL/SSL) instead of --kafka.",
        ),
    ] = None,
    kafka_from_offset: Annotated[
        int,
        typer.Option(
            "--kafka-from-offset", min=0, help="Publish only log offsets after N (a new cluster's start)."
        ),
    ] = 0,
) -> None:
    """Move captured transitions into the event log (gap-free offsets, deduplicated)."""
    from airshift.events.capture.source import open_source
    from airshift.events.database import connect, mask, resolve_url
    from airshift.events.relay import Relay, single_relay

    url = resolve_url(db, db_file)
    engine = connect(url)
    event_log = _log_from_cli(log, create=True)
    sequencer = event_log
    _mode, source = open_source(engine, schema, sequencer)
    if kafka or kafka_config:
        from airshift.events.stores.kafka import KafkaEventLog
        from airshift.kafka.config import load_client_config

        client = load_client_config(
            kafka_config or kafka or "", "--kafka-config" if kafka_config else "--kafka"
        )
        event_log = KafkaEventLog(
            sequencer, client.bootstrap, kafka_topic, kafka_partitions, client.librdkafka(), kafka_from_offset
        )
    relay = Relay(source, event_log, batch_size=batch_size)
    with single_relay(sequencer):
        if once:
            step = relay.drain()
            console.print(
                f"moved {step.moved}: {step.appended} new, {step.duplicates} duplicate(s); last offset {step.last_offset}",
                highlight=False,
            )
            return
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        console.print(f"relaying {mask(url)} -> {log} (Ctrl-C stops)", highlight=False)

        def report(step: RelayStep) -> None:
            console.print(
                f"+{step.appended} (dup {step.duplicates}) -> offset {step.last_offset}", highlight=False
            )

        relay.run(poll_interval=poll_interval, stop=stop, on_step=report)


def _log_from_cli(spec: str, *, create: bool) -> EventLog:
    """Open --log; a URL typed on the command line must not carry a password."""
    from airshift.events.database import parse_url
    from airshift.events.stores.open import open_log

    if "://" in spec:
        parse_url(spec, from_cli=True)
    return open_log(spec, create=create)


def _line(event: Event) -> str:
    task = (
        f" {event.task_id}" + (f"[{event.map_index}]" if event.map_index >= 0 else "")
        if event.task_id
        else ""
    )
    detail = f" {json.dumps(event.detail, sort_keys=True)}" if event.detail else ""
    return (
        f"{event.offset:>8} {event.changed_at} {event.kind:<13} {event.dag_id} {event.run_id}{task} "
        f"try {event.try_number}: {event.previous_state or '-'} -> {event.state}{detail}"
    )


def tail_cmd(
    log: Annotated[
        str | None, typer.Option("--log", help="Event log: SQLite file or postgresql:// URL.")
    ] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="Read through the API at this base URL instead.")
    ] = None,
    token_file: TokenFileOption = None,
    after: Annotated[int | None, typer.Option("--after", help="Start after this offset.")] = None,
    last: Annotated[
        int, typer.Option("--last", min=0, help="Without --after: start this many events back.")
    ] = 10,
    follow: Annotated[
        bool, typer.Option("--follow/--no-follow", "-f", help="Keep waiting for new events.")
    ] = False,
    consumer: Annotated[
        str | None, typer.Option("--consumer", help="Resume from and commit to this consumer's offset.")
    ] = None,
    offsets: Annotated[
        str | None, typer.Option("--offsets", help="Offset store: a file, or sqlite:/// / postgresql:// URL.")
    ] = None,
    dag_id: Annotated[str | None, typer.Option("--dag-id")] = None,
    run_id: Annotated[str | None, typer.Option("--run-id")] = None,
    task_id: Annotated[str | None, typer.Option("--task-id")] = None,
    state: Annotated[str | None, typer.Option("--state")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="task_instance, dag_run or artifact")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Print events as they arrive (from the log file/database or through the API)."""
    from airshift.events.client import EventsClient, read_token
    from airshift.events.consumer import Consumer
    from airshift.events.offsets import open_offset_store
    from airshift.events.stores import EventFilter

    if (log is None) == (url is None):
        raise AirshiftError("give exactly one of --log or --url")
    if (consumer is None) != (offsets is None):
        raise AirshiftError("--consumer and --offsets go together")
    source: EventLog | EventsClient
    if url is not None:
        source = EventsClient(url, read_token(token_file), wait=5.0 if follow else 0.0)
    else:
        source = _log_from_cli(log or "", create=False)
    where = EventFilter(dag_id=dag_id, run_id=run_id, task_id=task_id, state=state, kind=kind)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    def show(event: Event) -> None:
        if as_json:
            typer.echo(event.model_dump_json())
        else:
            typer.echo(_line(event))

    if consumer is not None and offsets is not None:
        Consumer(source, open_offset_store(offsets), consumer, where, poll_interval=0.5).run(
            show, follow=follow, stop=stop
        )
        return
    if after is None:
        after = max(0, source.last_offset() - last)
    position = after
    while not stop.is_set():
        batch = source.read(position, 500, where)
        for event in batch:
            show(event)
            position = event.offset
        if len(batch) < 500:
            if not follow:
                return
            stop.wait(0.5)


MIN_TOKEN_LENGTH = 32


def serve_cmd(
    log: LogSpecOption = str(DEFAULT_LOG),
    host: Annotated[str, typer.Option("--host", help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535)] = 8787,
    token_file: TokenFileOption = None,
    create: Annotated[
        bool, typer.Option("--create", help="Create the event log when it does not exist yet.")
    ] = False,
    max_body_bytes: Annotated[
        int,
        typer.Option("--max-body-bytes", min=1, help="Largest request body accepted (larger: HTTP 413)."),
    ] = 1024 * 1024,
    print_openapi: Annotated[
        bool, typer.Option("--print-openapi", help="Print the OpenAPI document and exit.")
    ] = False,
) -> None:
    """Serve the EventStream API (FastAPI; bearer token on every route)."""
    import uvicorn

    from airshift.events.api import BearerAuth, create_app
    from airshift.events.client import read_token
    from airshift.events.stores.sqlite import SqliteEventLog

    if print_openapi:
        with tempfile.TemporaryDirectory() as scratch:
            app = create_app(SqliteEventLog(Path(scratch) / "events.db"), BearerAuth("unused"))
            typer.echo(json.dumps(app.openapi(), indent=2, sort_keys=True))
        return
    token = read_token(token_file)
    if len(token) < MIN_TOKEN_LENGTH:
        raise AirshiftError(
            f"the API token has {len(token)} characters; use at least {MIN_TOKEN_LENGTH} "
            "(`airshift events token --file FILE` writes a new one)"
        )
    # A typo in --log must not start a server that answers "no events" forever.
    try:
        event_log = _log_from_cli(log, create=create)
    except AirshiftError as error:
        if create:
            raise
        raise AirshiftError(f"{error}; or pass --create to serve a new, empty log") from None
    app = create_app(event_log, BearerAuth(token), max_body_bytes=max_body_bytes)
    if not _is_loopback(host):
        Console(stderr=True).print(
            f"[yellow]warning:[/] --host {host} accepts connections from other machines; the token is "
            "sent in clear unless a TLS proxy is in front",
            highlight=False,
        )
    console.print(f"serving {log} on http://{host}:{port} (OpenAPI: /openapi.json)", highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def token_cmd(
    file: Annotated[
        Path | None,
        typer.Option("--file", help="Write the token to this new file (mode 0600) instead of printing it."),
    ] = None,
) -> None:
    """Make a new random API token (256 bits) for `events serve` and its clients."""
    import os
    import secrets

    token = secrets.token_urlsafe(32)
    if file is None:
        typer.echo(token)
        return
    try:
        descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise AirshiftError(f"--file {file} exists; remove it first or choose another path") from None
    except OSError as error:
        raise AirshiftError(f"--file {file}: cannot create: {error.strerror or error}") from None
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    console.print(f"wrote a new API token to {file} (readable by you only)", highlight=False)


def _retaining_log(spec: str) -> RetainingLog:
    log = _log_from_cli(spec, create=False)
    if not hasattr(log, "retention_policy"):
        raise AirshiftError(f"event log {spec}: retention applies to SQLite and PostgreSQL logs")
    return log  # type: ignore[return-value]


def retention_cmd(
    log: LogSpecOption = str(DEFAULT_LOG),
    keep_days: Annotated[
        float | None, typer.Option("--keep-days", min=0.001, help="Keep events logged in the last N days.")
    ] = None,
    keep_events: Annotated[
        int | None, typer.Option("--keep-events", min=1, help="Keep the last N events.")
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the policy: keep everything.")] = False,
    forget_consumer: Annotated[
        list[str] | None,
        typer.Option(
            "--forget-consumer", help="Stop protecting a consumer that is gone for good (repeatable)."
        ),
    ] = None,
) -> None:
    """Show or set the log's retention policy and the consumers whose positions compaction respects."""
    from airshift.events.retention import RetentionPolicy

    retaining = _retaining_log(log)
    if clear:
        retaining.set_retention_policy(RetentionPolicy())
    elif keep_days is not None or keep_events is not None:
        retaining.set_retention_policy(RetentionPolicy(keep_days=keep_days, keep_events=keep_events))
    for name in forget_consumer or []:
        if not retaining.forget_consumer(name):
            raise AirshiftError(f"no consumer {name!r} is registered in {log}")
    console.print(f"policy: {retaining.retention_policy().describe()}", highlight=False)
    console.print(f"offsets held: {retaining.first_offset()}..{retaining.last_offset()}", highlight=False)
    for name, offset in sorted(retaining.consumer_positions().items()):
        console.print(f"consumer {name}: committed offset {offset}", highlight=False)


def compact_cmd(
    log: LogSpecOption = str(DEFAULT_LOG),
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be deleted; delete nothing.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Delete past consumers that have not read that far (they will error)."),
    ] = False,
) -> None:
    """Delete the events the retention policy no longer keeps (never past a registered consumer)."""
    from airshift.events.retention import compact, plan_compaction

    retaining = _retaining_log(log)
    policy = retaining.retention_policy()
    if policy.empty:
        raise AirshiftError(
            f"event log {log} has no retention policy; set one with `airshift events retention`"
        )
    if dry_run:
        plan, deleted = plan_compaction(retaining, force=force), 0
    else:
        plan, deleted = compact(retaining, force=force)
    verb = "would delete" if dry_run else "deleted"
    console.print(f"policy: {policy.describe()}", highlight=False)
    count = plan.deletes if dry_run else deleted
    start = retaining.first_offset()
    console.print(
        f"{verb} {count:,} event(s)"
        + (f" up to offset {plan.delete_through}" if plan.delete_through else "")
        + ("" if dry_run else f"; the log now starts at offset {start}"),
        highlight=False,
    )
    for name, offset in plan.blocking.items():
        held = "was overridden (--force)" if force else "holds compaction back"
        console.print(
            f"[yellow]consumer {name} at offset {offset} {held}[/] (the policy allows up to {plan.policy_through})",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    """Add the `events` command group."""
    events_app = typer.Typer(
        name="events",
        help="EventStream: capture, relay, serve and tail Airflow state changes.",
        no_args_is_help=True,
    )
    events_app.command("install")(install_cmd)
    events_app.command("uninstall")(uninstall_cmd)
    events_app.command("status")(status_cmd)
    events_app.command("relay")(relay_cmd)
    events_app.command("tail")(tail_cmd)
    events_app.command("serve")(serve_cmd)
    events_app.command("token")(token_cmd)
    events_app.command("retention")(retention_cmd)
    events_app.command("compact")(compact_cmd)
    app.add_typer(events_app, name="events")
