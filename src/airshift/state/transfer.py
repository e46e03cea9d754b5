"""Transfer as a library: one request object and one function that `airshift transfer`, cutover and
rollback all call.

A request names the source (metadata DB URL, API URL or export files), what to send to the target's
API (variables, connections, pools, paused state) and whether to copy run history into the target's
metadata DB, restricted to a glob, to exact DAG ids (cutover copies one DAG at a time) and to runs
from a date on ("since the last copy"). Rendering is the caller's: `on_plan` sees the API plan before
anything is written, `progress` sees history copy progress.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from airshift.errors import AirshiftError
from airshift.state.credentials import ApiAuth, connect_target
from airshift.state.dburl import display, parse_db_url
from airshift.state.fernet import Decryptor
from airshift.state.ledger import Ledger
from airshift.state.model import Kind
from airshift.state.plan import Plan
from airshift.state.secret import Secret
from airshift.state.sources.api import is_api_url
from airshift.state.sources.db import MetadataDB
from airshift.state.sources.read import is_db_url, read_source
from airshift.state.targets.api import ApiTarget, OnConflict
from airshift.state.targets.history import HistoryCopy, HistoryResult, check_target, count_history

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class TargetCredentials:
    """How to reach the target's API: the `--to-*` options (files), or $AIRSHIFT_TO_* variables."""

    user: str | None = None
    password_file: Path | None = None
    token_file: Path | None = None
    ca_file: Path | None = None


@dataclass(frozen=True)
class TransferRequest:
    sources: tuple[str, ...]
    kinds: tuple[Kind, ...] = ()
    history: bool = False
    to: str | None = None
    to_credentials: TargetCredentials = field(default_factory=TargetCredentials)
    to_db: str | None = None
    to_db_password_file: Path | None = None
    to_db_password_env: str = "AIRSHIFT_TO_DB_PASSWORD"
    from_db_password_file: Path | None = None
    from_db_password_env: str = "AIRSHIFT_FROM_DB_PASSWORD"
    # Passwords already read by the caller (cutover reads them from the files its plan names).
    from_db_password: Secret | None = None
    to_db_password: Secret | None = None
    from_auth: ApiAuth | None = None
    decryptor: Decryptor | None = None
    allow_missing_passwords: bool = False
    dag_glob: str | None = None
    dag_ids: frozenset[str] | None = None
    since: dt.datetime | None = None
    on_conflict: OnConflict = "skip"
    dry_run: bool = False
    ledger_path: Path | None = None
    batch_size: int = 2000

    def validate(self) -> None:
        if not self.sources:
            raise AirshiftError(
                "give a source with --from (a metadata database URL, an API URL or export files)"
            )
        if not self.kinds and not self.history:
            raise AirshiftError(
                "nothing to do: give --to (API server) and/or --to-db (metadata DB for history)"
            )
        if self.kinds and self.to is None:
            raise AirshiftError(f"--what {','.join(self.kinds)} needs --to (the target's API server URL)")
        if self.history and self.to_db is None:
            raise AirshiftError("--what history needs --to-db (the target's metadata database URL)")
        if self.history and any(is_api_url(spec) for spec in self.sources):
            raise AirshiftError(
                "run history is not read over the REST API (not supported: the copy reads and translates the "
                "metadata tables); give the source's metadata database URL as --from for --what history"
            )


@dataclass
class TransferResult:
    plan: Plan | None = None
    written: dict[str, int] = field(default_factory=dict)
    history: HistoryResult | None = None
    # (runs, task instances) a dry run would copy
    history_counts: tuple[int, int] | None = None
    history_target: str = ""


def run_transfer(
    request: TransferRequest,
    *,
    progress: Progress | None = None,
    on_plan: Callable[[Plan], None] | None = None,
) -> TransferResult:
    """Do what the request asks; a dry run reads and plans but writes nothing (not even a ledger)."""
    request.validate()
    result = TransferResult()
    ledger_path = request.ledger_path
    ledger = (
        Ledger(ledger_path)
        if ledger_path is not None and (not request.dry_run or ledger_path.exists())
        else None
    )
    try:
        if request.kinds:
            _transfer_objects(request, ledger, result, on_plan)
        if request.history:
            _transfer_history(request, ledger, result, progress)
    finally:
        if ledger is not None:
            ledger.close()
    return result


def _transfer_objects(
    request: TransferRequest,
    ledger: Ledger | None,
    result: TransferResult,
    on_plan: Callable[[Plan], None] | None,
) -> None:
    from airshift.state.fernet import load_decryptor

    assert request.to is not None
    decryptor = request.decryptor if request.decryptor is not None else load_decryptor(None)
    state = read_source(
        list(request.sources),
        request.kinds,
        request.dag_glob,
        decryptor,
        request.from_db_password_file,
        request.from_auth,
        request.allow_missing_passwords,
    )
    credentials = request.to_credentials
    client = connect_target(
        request.to, credentials.user, credentials.password_file, credentials.token_file, credentials.ca_file
    )
    try:
        target = ApiTarget(client, ledger)
        plan = target.plan(state, request.kinds, request.on_conflict)
        plan.notes.insert(0, f"target: {client.description} at {client.base_url}")
        result.plan = plan
        if on_plan is not None:
            on_plan(plan)
        if request.dry_run:
            return
        result.written = target.apply(plan)
    finally:
        client.close()


def open_source_db(request: TransferRequest) -> MetadataDB:
    databases = [spec for spec in request.sources if is_db_url(spec)]
    if len(databases) != 1 or len(request.sources) != 1:
        raise AirshiftError("run history needs one source metadata database URL as --from")
    url = parse_db_url(databases[0], "source", request.from_db_password_file, request.from_db_password_env)
    if request.from_db_password is not None:
        url = url.set(password=request.from_db_password.reveal())
    return MetadataDB(url)


def _transfer_history(
    request: TransferRequest, ledger: Ledger | None, result: TransferResult, progress: Progress | None
) -> None:
    assert request.to_db is not None
    target_url = parse_db_url(
        request.to_db, "target", request.to_db_password_file, request.to_db_password_env
    )
    if request.dry_run:
        check_target(target_url)  # a plan for a target the real run would refuse is no plan
    source = open_source_db(request)
    result.history_target = display(target_url)
    try:
        if request.dry_run:
            result.history_counts = count_history(source, request.dag_glob, request.since, request.dag_ids)
            return
        copier = HistoryCopy(
            source,
            target_url,
            ledger,
            dag_glob=request.dag_glob,
            dag_ids=request.dag_ids,
            since=request.since,
            batch=request.batch_size,
            progress=progress,
        )
        try:
            result.history = copier.run()
        finally:
            copier.close()
    finally:
        source.close()
