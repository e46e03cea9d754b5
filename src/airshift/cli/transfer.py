"""`airshift transfer`: move variables, connections, pools and paused state into an Airflow 3 API server."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from airshift.errors import AirshiftError
from airshift.state.model import ALL_KINDS, Kind

if TYPE_CHECKING:
    from airshift.state.credentials import ApiAuth
    from airshift.state.plan import Plan
    from airshift.state.transfer import TransferResult

console = Console()
DEFAULT_LEDGER = Path(".airshift") / "transfer-ledger.sqlite"


class Conflict(str, Enum):
    skip = "skip"
    overwrite = "overwrite"
    fail = "fail"


def parse_kinds(raw: str | None, has_api: bool, has_db: bool) -> tuple[tuple[Kind, ...], bool]:
    """The object kinds to send to the API target, and whether to copy run history."""
    if not raw:
        return (ALL_KINDS if has_api else ()), has_db
    wanted = [part.strip() for part in raw.split(",") if part.strip()]
    unknown = [part for part in wanted if part not in (*ALL_KINDS, "history")]
    if unknown:
        raise AirshiftError(
            f"--what: unknown kind(s) {', '.join(unknown)}; choose from {', '.join(ALL_KINDS)}, history"
        )
    kinds = tuple(kind for kind in ALL_KINDS if kind in wanted)
    if kinds and not has_api:
        raise AirshiftError(f"--what {','.join(kinds)} needs --to (the target's API server URL)")
    if "history" in wanted and not has_db:
        raise AirshiftError("--what history needs --to-db (the target's metadata database URL)")
    return kinds, "history" in wanted


def render_plan(plan: Plan, dry_run: bool) -> None:
    from rich.table import Table

    table = Table(title=f"{'plan (dry run)' if dry_run else 'transfer'} -> {plan.target}", show_lines=False)
    for column in ("kind", "id", "action", "why"):
        table.add_column(column)
    colours = {"create": "green", "update": "yellow", "skip": "dim", "conflict": "red"}
    for item in plan.items:
        table.add_row(
            item.kind, item.ident, f"[{colours[item.action]}]{item.action}[/]", item.reason
        )  # ids and reasons only: the plan never holds a secret value
    console.print(table)
    for note in plan.notes:
        console.print(f"note: {note}", highlight=False)
    counts = plan.counts()
    console.print(", ".join(f"{count} {action}" for action, count in counts.items()), highlight=False)


def transfer(
    from_: Annotated[
        list[str],
        typer.Option(
            "--from",
            help="Source: metadata DB URL, Airflow 2.x/3.x API URL, or export file(s) (repeat --from).",
        ),
    ],
    to: Annotated[
        str | None, typer.Option("--to", help="Target Airflow 3 API server or Airflow 2 webserver base URL.")
    ] = None,
    what: Annotated[
        str | None,
        typer.Option(
            "--what",
            help="variables,connections,pools,paused (to --to) and history (to --to-db) [default: all given].",
        ),
    ] = None,
    to_db: Annotated[
        str | None, typer.Option("--to-db", help="Target Airflow 3 or 2.x metadata DB URL, for run history.")
    ] = None,
    to_db_password_file: Annotated[
        Path | None,
        typer.Option("--to-db-password-file", help="Target DB password (or $AIRSHIFT_TO_DB_PASSWORD)."),
    ] = None,
    since: Annotated[
        datetime | None, typer.Option("--since", help="Only runs with a logical date from this date (UTC).")
    ] = None,
    dags: Annotated[
        str | None, typer.Option("--dags", help="Only DAG ids matching this glob (paused).")
    ] = None,
    on_conflict: Annotated[
        Conflict, typer.Option("--on-conflict", help="An object exists on the target with other values.")
    ] = Conflict.skip,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; write nothing.")] = False,
    from_fernet_key_file: Annotated[
        Path | None,
        typer.Option("--from-fernet-key-file", help="Source fernet_key list (or $AIRSHIFT_FROM_FERNET_KEY)."),
    ] = None,
    from_db_password_file: Annotated[
        Path | None,
        typer.Option("--from-db-password-file", help="Source DB password (or $AIRSHIFT_FROM_DB_PASSWORD)."),
    ] = None,
    from_user: Annotated[str | None, typer.Option("--from-user", help="Source API user name.")] = None,
    from_password_file: Annotated[
        Path | None,
        typer.Option("--from-password-file", help="Source API password (or $AIRSHIFT_FROM_PASSWORD)."),
    ] = None,
    from_token_file: Annotated[
        Path | None, typer.Option("--from-token-file", help="Source API token (or $AIRSHIFT_FROM_TOKEN).")
    ] = None,
    from_ca_file: Annotated[
        Path | None, typer.Option("--from-ca-file", help="CA bundle for the source API's TLS certificate.")
    ] = None,
    allow_missing_passwords: Annotated[
        bool,
        typer.Option(
            "--allow-missing-passwords",
            help="API source: transfer connections without their passwords (the APIs never return them).",
        ),
    ] = False,
    to_user: Annotated[str | None, typer.Option("--to-user", help="Target API user name.")] = None,
    to_password_file: Annotated[
        Path | None, typer.Option("--to-password-file", help="Target password (or $AIRSHIFT_TO_PASSWORD).")
    ] = None,
    to_token_file: Annotated[
        Path | None, typer.Option("--to-token-file", help="Target JWT (or $AIRSHIFT_TO_TOKEN).")
    ] = None,
    to_ca_file: Annotated[
        Path | None, typer.Option("--to-ca-file", help="CA bundle for the target's TLS certificate.")
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="History rows per read/insert batch.")
    ] = 2000,
    ledger_path: Annotated[
        Path, typer.Option("--ledger", help="Ledger of written objects (resume, idempotence).")
    ] = DEFAULT_LEDGER,
    inventory: Annotated[
        Path | None,
        typer.Option(
            "--inventory",
            help="`airshift inventory` JSON of the source: refuse a source of another Airflow generation, "
            "then check that the variables, connections and pools it counted arrived.",
        ),
    ] = None,
) -> None:
    """Copy variables, connections, pools, paused state and run history into a new Airflow 3."""
    from airshift.state.credentials import resolve_auth
    from airshift.state.fernet import load_decryptor
    from airshift.state.sources.api import is_api_url
    from airshift.state.transfer import TargetCredentials, TransferRequest, run_transfer

    kinds, history = parse_kinds(what, to is not None, to_db is not None)
    if not kinds and not history:
        raise AirshiftError("nothing to do: give --to (API server) and/or --to-db (metadata DB for history)")
    refuse_source_as_target(from_, to, to_db)
    from_auth = None
    if any(is_api_url(spec) for spec in from_):
        if not history:
            from_auth = resolve_auth(
                "from", from_user, from_password_file, from_token_file, from_ca_file, required=False
            )
    elif from_user or from_password_file or from_token_file or from_ca_file:
        raise AirshiftError(
            "--from-user/-password-file/-token-file/-ca-file are for an API source (--from URL)"
        )
    recorded = None
    if inventory is not None:
        from airshift.platform import inventory_use

        recorded = inventory_use.load(inventory)
        inventory_use.require_generation(recorded, inventory)
        for spec in from_:
            found = source_generation(spec, from_db_password_file, from_auth)
            inventory_use.check_source_generation(recorded, inventory, display_url(spec), found)
    request = TransferRequest(
        sources=tuple(from_),
        kinds=kinds,
        history=history,
        to=to,
        to_credentials=TargetCredentials(to_user, to_password_file, to_token_file, to_ca_file),
        to_db=to_db,
        to_db_password_file=to_db_password_file,
        from_db_password_file=from_db_password_file,
        from_auth=from_auth,
        decryptor=load_decryptor(from_fernet_key_file),
        allow_missing_passwords=allow_missing_passwords,
        dag_glob=dags,
        since=since,
        on_conflict=on_conflict.value,
        dry_run=dry_run,
        ledger_path=ledger_path,
        batch_size=batch_size,
    )
    with console.status("transferring") as status:
        result = run_transfer(
            request,
            progress=lambda stream, count: status.update(f"copying {stream}: {count} rows read"),
            on_plan=lambda plan: render_plan(plan, dry_run),
        )
    _report(result, dry_run)
    if recorded is not None and inventory is not None and result.plan is not None and not dry_run:
        from airshift.platform import inventory_use

        lines, problems = inventory_use.check_arrivals(recorded, inventory, result.plan, kinds)
        for line in lines:
            console.print(f"inventory check: {line}", highlight=False, markup=False)
        if problems:
            for problem in problems:
                console.print(f"[red]problem[/]: {escape(problem)}", highlight=False)
            raise typer.Exit(1)


def source_generation(spec: str, password_file: Path | None, auth: ApiAuth | None) -> str | None:
    """ "1.10", "2" or "3" for a metadata DB (from its tables) or an API (from its version); None for
    export files, which carry no version."""
    from airshift.platform.inventory_use import generation_of
    from airshift.state.sources.api import is_api_url
    from airshift.state.sources.read import is_db_url

    if is_db_url(spec):
        from airshift.state.dburl import parse_db_url
        from airshift.state.sources.db import MetadataDB

        db = MetadataDB(parse_db_url(spec, "source", password_file, "AIRSHIFT_FROM_DB_PASSWORD"))
        try:
            if db.has_table("dag_version"):
                return "3"
            return "1.10" if db.has_table("known_event") else "2"
        finally:
            db.close()
    if is_api_url(spec):
        from airshift.state.credentials import resolve_auth
        from airshift.state.sources.api import open_source

        source = open_source(spec, auth or resolve_auth("from", None, None, None, None, required=False))
        try:
            return generation_of(source.version)
        finally:
            source.close()
    return None


def refuse_source_as_target(from_: list[str], to: str | None, to_db: str | None) -> None:
    """Copying a source onto itself would rewrite (or, for run history, lock) the very data it reads."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from airshift.state.dburl import same_database
    from airshift.state.sources.api import is_api_url
    from airshift.state.sources.read import is_db_url

    for spec in from_:
        if to is not None and is_api_url(spec) and _same_api(spec, to):
            raise AirshiftError(
                f"--to {display_url(to)} is the source given as --from: choose another target"
            )
        if to_db is not None and is_db_url(spec):
            try:
                same = same_database(make_url(spec), make_url(to_db))
            except ArgumentError:
                continue  # each URL is checked with a clear message where it is parsed
            if same:
                raise AirshiftError(
                    f"--to-db {display_url(to_db)} is the database given as --from: run history must go "
                    "into the new Airflow's metadata database"
                )


def _same_api(a: str, b: str) -> bool:
    import httpx

    def key(raw: str) -> tuple[str, str, int | None, str]:
        url = httpx.URL(raw.strip())
        path = url.path.rstrip("/").removesuffix("/api/v2").removesuffix("/api/v1")
        return url.scheme, url.host.lower(), url.port or (443 if url.scheme == "https" else 80), path

    try:
        return key(a) == key(b)
    except (httpx.InvalidURL, ValueError):
        return False


def display_url(raw: str) -> str:
    from airshift.redaction import redact

    return redact(raw)


def _report(result: TransferResult, dry_run: bool) -> None:
    if result.plan is not None and not dry_run:
        total = sum(result.written.values())
        console.print(
            f"[green]done[/]: wrote {total} object(s)"
            + (f" ({', '.join(f'{n} {k}' for k, n in result.written.items())})" if result.written else ""),
            highlight=False,
        )
    if result.history_counts is not None:
        runs, tis = result.history_counts
        console.print(
            f"history (dry run): would copy up to {runs} finished dag run(s) and {tis} task "
            f"instance(s) into {result.history_target}; rows already there are left as they are",
            highlight=False,
        )
    history = result.history
    if history is not None:
        console.print(
            f"[green]history done[/]: {history.runs_written} of {history.runs_read} dag run(s) and "
            f"{history.tis_written} of {history.tis_read} task instance(s) written (the rest were already there)",
            highlight=False,
        )
        for note in history.notes:
            console.print(f"note: {note}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("transfer")(transfer)
