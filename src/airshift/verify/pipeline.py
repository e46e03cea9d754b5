"""`verify` end to end: runtimes, both snapshots (side by side), the diff, and optional task runs."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from airshift.errors import AirshiftError
from airshift.verify.defaults import DEFAULT_FILE_TIMEOUT, DEFAULT_LOGICAL_DATE
from airshift.verify.defaults import FIX_REQUIREMENTS as FIX_REQUIREMENTS  # imported from here too
from airshift.verify.diff import compare
from airshift.verify.result import VerifyResult
from airshift.verify.runtimes import Runtime, ensure_runtime, read_requirements_file
from airshift.verify.snapshot import take_snapshot
from airshift.verify.snapshot_model import Snapshot, read_snapshot

Log = Callable[[str], None]


def _no_log(_message: str) -> None:
    return None


@dataclass
class Side:
    """One side of the comparison: a DAG folder (or a saved snapshot) and the Airflow to load it in."""

    path: Path
    airflow: str | None
    python: str | None = None
    requirements: list[str] = field(default_factory=list)

    @property
    def is_snapshot(self) -> bool:
        return self.path.is_file() and self.path.suffix == ".json"


@dataclass
class VerifyOptions:
    original: Side
    migrated: Side
    logical_date: str = DEFAULT_LOGICAL_DATE
    file_timeout: float = DEFAULT_FILE_TIMEOUT
    run: Sequence[str] = ()  # DAG ids to `airflow dags test`, or ["all"]
    run_timeout: float = 600.0
    cache_dir: Path | None = None
    auto_requirements: bool = True  # add the providers each side's DAG files import


def side_requirements(side: Side, requirements_file: Path | None, default_file: str | None) -> list[str]:
    """Extra packages for a side: --with packages, an explicit file, else the folder's default file."""
    extras = list(side.requirements)
    if requirements_file is not None:
        extras.extend(read_requirements_file(requirements_file))
    elif default_file is not None and side.path.is_dir() and (side.path / default_file).is_file():
        extras.extend(read_requirements_file(side.path / default_file))
    return extras


def _check(side: Side, name: str) -> None:
    if not side.path.exists():
        raise AirshiftError(f"{name} {side.path} does not exist")
    if not side.is_snapshot and not side.path.is_dir():
        raise AirshiftError(f"{name} {side.path} must be a DAG folder or a snapshot .json file")
    if not side.is_snapshot and not side.airflow:
        flag = "--source-airflow" if name == "ORIGINAL" else "--target-airflow"
        raise AirshiftError(f"give {flag} VERSION: the Airflow release to load {name} {side.path} in")


def _add_imported_providers(side: Side, log: Log) -> None:
    if side.is_snapshot or side.airflow is None:
        return
    from airshift.verify.requirements import auto_requirements

    added = auto_requirements(side.path, side.airflow, side.requirements)
    if added:
        log(f"Airflow {side.airflow}: adding the providers {side.path.name} imports: {', '.join(added)}")
        side.requirements = [*side.requirements, *added]


def _runtime(side: Side, options: VerifyOptions, log: Log) -> Runtime | None:
    if side.is_snapshot:
        return None
    assert side.airflow is not None
    return ensure_runtime(
        side.airflow,
        python=side.python,
        extra_requirements=side.requirements,
        cache_dir=options.cache_dir,
        log=lambda message: log(f"Airflow {side.airflow}: {message}"),
    )


def _snapshot(side: Side, runtime: Runtime | None, options: VerifyOptions, log: Log) -> Snapshot:
    if runtime is None:
        return read_snapshot(side.path)
    return take_snapshot(
        runtime,
        side.path,
        logical_date=options.logical_date,
        file_timeout=options.file_timeout,
        log=lambda message: log(f"Airflow {runtime.airflow_version}: {message}"),
    )


def verify(options: VerifyOptions, log: Log = _no_log) -> VerifyResult:
    """Snapshot the original in the source Airflow and the migration in the target Airflow, then diff."""
    _check(options.original, "ORIGINAL")
    _check(options.migrated, "MIGRATED")
    started = time.monotonic()
    if options.auto_requirements:
        _add_imported_providers(options.original, log)
        _add_imported_providers(options.migrated, log)
    # Runtimes one after the other (each build holds its own lock and uses both cores); loads side by side.
    source = _runtime(options.original, options, log)
    target = _runtime(options.migrated, options, log)
    prepared = time.monotonic()
    log("loading both DAG folders")
    with ThreadPoolExecutor(max_workers=2) as pool:
        before_job = pool.submit(_snapshot, options.original, source, options, log)
        after_job = pool.submit(_snapshot, options.migrated, target, options, log)
        before, after = before_job.result(), after_job.result()
    result = compare(before, after)
    result.seconds["runtimes"] = round(prepared - started, 3)
    result.seconds["snapshots"] = round(time.monotonic() - prepared, 3)
    if options.run:
        if target is None:
            raise AirshiftError("--run needs MIGRATED as a DAG folder (not a snapshot) and --target-airflow")
        from airshift.verify.dagrun import run_dags

        dag_ids = sorted(after.dags) if list(options.run) == ["all"] else list(options.run)
        unknown = [d for d in dag_ids if d not in after.dags]
        if unknown:
            raise AirshiftError(
                f"--run {', '.join(unknown)}: no such DAG in {options.migrated.path} "
                f"(DAGs: {', '.join(sorted(after.dags)) or 'none'})"
            )
        runs_started = time.monotonic()
        result.runs = run_dags(target, options.migrated.path, dag_ids, after, options.run_timeout, log)
        result.seconds["runs"] = round(time.monotonic() - runs_started, 3)
    result.seconds["total"] = round(time.monotonic() - started, 3)
    return result
