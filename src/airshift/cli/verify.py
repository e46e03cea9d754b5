"""`airshift snapshot` and `airshift verify`: prove a migration in real Airflow installs."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from airshift.errors import AirshiftError
from airshift.verify.defaults import DEFAULT_FILE_TIMEOUT, DEFAULT_LOGICAL_DATE, FIX_REQUIREMENTS
from airshift.versions import DEFAULT_TARGET, parse_target, resolve_release

if TYPE_CHECKING:  # the pipeline (pydantic models) and rich are imported by the commands that run
    from airshift.verify.result import VerifyResult

EXIT_OK, EXIT_DIFFERENT = 0, 1


class Format(str, Enum):
    text = "text"
    json = "json"
    html = "html"


LogicalDateOpt = Annotated[
    str,
    typer.Option(
        "--logical-date",
        help="Render templates for the first run at or after this UTC time (YYYY-MM-DDTHH:MM:SS).",
    ),
]
TimeoutOpt = Annotated[
    float, typer.Option("--timeout", help="Seconds one DAG file may take to load before it is reported.")
]
NoAutoRequirementsOpt = Annotated[
    bool,
    typer.Option(
        "--no-auto-requirements",
        help="Install only the requirements given, not the providers each side's DAG files import.",
    ),
]
CacheDirOpt = Annotated[
    Path | None, typer.Option("--cache-dir", help="Where runtimes live.", show_default=False)
]


def register(app: typer.Typer) -> None:
    app.command("snapshot")(snapshot)
    app.command("verify")(verify_command)


def snapshot(
    dags: Annotated[Path, typer.Argument(help="DAG folder.", show_default=False)],
    airflow: Annotated[
        str, typer.Option("--airflow", help="Airflow release to load the DAGs in, e.g. 2.11.2.")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Snapshot JSON file to write.")],
    python: Annotated[str | None, typer.Option("--python", help="Interpreter for the runtime.")] = None,
    with_: Annotated[
        list[str] | None, typer.Option("--with", help="Extra requirement for the runtime (repeatable).")
    ] = None,
    requirements: Annotated[
        Path | None, typer.Option("--requirements", "-r", help="File of extra requirements for the runtime.")
    ] = None,
    logical_date: LogicalDateOpt = DEFAULT_LOGICAL_DATE,
    timeout: TimeoutOpt = DEFAULT_FILE_TIMEOUT,
    no_render: Annotated[bool, typer.Option("--no-render", help="Skip rendering templated fields.")] = False,
    cache_dir: CacheDirOpt = None,
) -> None:
    """Record every DAG, task and rendered template of a folder as a real Airflow release sees it."""
    from rich.console import Console

    from airshift.verify.runtimes import ensure_runtime, read_requirements_file
    from airshift.verify.snapshot import take_snapshot
    from airshift.verify.snapshot_model import write_snapshot

    if not dags.is_dir():
        raise AirshiftError(f"{dags} is not a DAG folder")
    extras = list(with_ or []) + (read_requirements_file(requirements) if requirements else [])
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    with err.status(f"Airflow {airflow}: preparing runtime") as status:
        runtime = ensure_runtime(
            airflow, python=python, extra_requirements=extras, cache_dir=cache_dir, log=status.update
        )
        status.update(f"Airflow {runtime.airflow_version}: loading {dags}")
        result = take_snapshot(
            runtime,
            dags,
            logical_date=logical_date,
            file_timeout=timeout,
            render=not no_render,
            log=status.update,
        )
    write_snapshot(result, output)
    tasks = sum(len(d.tasks) for d in result.dags.values())
    err.print(
        f"{output}: {len(result.dags)} DAGs, {tasks} tasks from {len(result.files)} files "
        f"in Airflow {result.airflow_version} ({result.seconds:.1f}s)"
    )
    for problem in result.problems:
        where = f"{problem.file}:{problem.line}" if problem.line else problem.file
        err.print(f"  {problem.kind}: {where}: {problem.message[:300]}")
    raise typer.Exit(EXIT_DIFFERENT if result.import_errors else EXIT_OK)


def write_report(result: VerifyResult, fmt: Format, output: Path | None) -> None:
    from rich.console import Console

    from airshift.report import verify_html, verify_json, verify_text

    if fmt is Format.text:
        if output is not None:
            import io

            buffer = io.StringIO()
            verify_text.render(Console(file=buffer, width=120, no_color=True), result)
            _write_output(output, buffer.getvalue())
        else:
            verify_text.render(Console(highlight=False, soft_wrap=True), result)
        return
    text = verify_json.render(result) if fmt is Format.json else verify_html.render(result)
    if output is not None:
        _write_output(output, text)
    else:
        sys.stdout.write(text)


def _write_output(output: Path, text: str) -> None:
    """The report file, written atomically and through the redaction layer; a clear error if it cannot be."""
    from airshift.redaction import redact
    from airshift.upgrade.source import write_atomic

    if not output.parent.is_dir():
        raise AirshiftError(f"--output {output}: folder {output.parent} does not exist")
    try:
        write_atomic(output, redact(text).encode("utf-8"))
    except OSError as error:
        raise AirshiftError(f"--output {output}: cannot write: {error.strerror or error}") from None


def run_verify(
    original: Path,
    migrated: Path,
    source_airflow: str | None,
    target_airflow: str | None,
    *,
    source_python: str | None = None,
    target_python: str | None = None,
    source_with: list[str] | None = None,
    target_with: list[str] | None = None,
    source_requirements: Path | None = None,
    target_requirements: Path | None = None,
    logical_date: str = DEFAULT_LOGICAL_DATE,
    timeout: float = DEFAULT_FILE_TIMEOUT,
    run: list[str] | None = None,
    cache_dir: Path | None = None,
    fmt: Format = Format.text,
    output: Path | None = None,
    auto_requirements: bool = True,
) -> int:
    """Verify and report; the exit code (also used by `airshift fix --verify`)."""
    from rich.console import Console

    from airshift.verify.pipeline import Side, VerifyOptions, side_requirements, verify

    source = Side(original, source_airflow, source_python, list(source_with or []))
    target = Side(migrated, target_airflow, target_python, list(target_with or []))
    source.requirements = side_requirements(source, source_requirements, None)
    target.requirements = side_requirements(target, target_requirements, FIX_REQUIREMENTS)
    options = VerifyOptions(
        original=source,
        migrated=target,
        logical_date=logical_date,
        file_timeout=timeout,
        run=list(run or []),
        cache_dir=cache_dir,
        auto_requirements=auto_requirements,
    )
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    with err.status("verify: preparing runtimes") as status:
        result = verify(options, log=status.update)
    write_report(result, fmt, output)
    if output is not None:
        s = result.summary()
        err.print(
            f"{output}: {s.matching} matching, {s.mismatched} with differences, {s.missing} missing, "
            f"{s.extra} extra, import errors {s.import_errors_before}/{s.import_errors_after}"
        )
    return EXIT_OK if result.ok else EXIT_DIFFERENT


def verify_command(
    original: Annotated[
        Path, typer.Argument(help="Original DAG folder (or a snapshot .json).", show_default=False)
    ],
    migrated: Annotated[
        Path, typer.Argument(help="Migrated DAG folder (or a snapshot .json).", show_default=False)
    ],
    source_airflow: Annotated[
        str | None, typer.Option("--source-airflow", help="Airflow release of the original, e.g. 1.10.15.")
    ] = None,
    target_airflow: Annotated[
        str | None, typer.Option("--target-airflow", help="Airflow release of the migration, e.g. 3.3.2.")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Report format.")] = Format.text,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the report to this file.")
    ] = None,
    source_requirements: Annotated[
        Path | None, typer.Option("--source-requirements", help="Extra requirements of the source runtime.")
    ] = None,
    target_requirements: Annotated[
        Path | None,
        typer.Option(
            "--target-requirements",
            help=f"Extra requirements of the target runtime [default: MIGRATED/{FIX_REQUIREMENTS} if present].",
        ),
    ] = None,
    source_with: Annotated[
        list[str] | None, typer.Option("--source-with", help="Extra requirement of the source runtime.")
    ] = None,
    target_with: Annotated[
        list[str] | None, typer.Option("--target-with", help="Extra requirement of the target runtime.")
    ] = None,
    source_python: Annotated[
        str | None, typer.Option("--source-python", help="Interpreter of the source.")
    ] = None,
    target_python: Annotated[
        str | None, typer.Option("--target-python", help="Interpreter of the target.")
    ] = None,
    logical_date: LogicalDateOpt = DEFAULT_LOGICAL_DATE,
    timeout: TimeoutOpt = DEFAULT_FILE_TIMEOUT,
    run: Annotated[
        list[str] | None,
        typer.Option(
            "--run", help="`airflow dags test` this migrated DAG (repeatable; `all` for every DAG)."
        ),
    ] = None,
    cache_dir: CacheDirOpt = None,
    no_auto_requirements: NoAutoRequirementsOpt = False,
) -> None:
    """Load the original in the source Airflow and the migration in the target Airflow, and diff every DAG.

    Exit codes: 0 every DAG matches, 1 differences, import errors or failed runs, 2 bad input."""
    code = run_verify(
        original,
        migrated,
        source_airflow,
        target_airflow,
        source_python=source_python,
        target_python=target_python,
        source_with=source_with,
        target_with=target_with,
        source_requirements=source_requirements,
        target_requirements=target_requirements,
        logical_date=logical_date,
        timeout=timeout,
        run=run,
        cache_dir=cache_dir,
        fmt=fmt,
        output=output,
        auto_requirements=not no_auto_requirements,
    )
    raise typer.Exit(code)


def fix_and_verify(
    run_fix: Callable[[], int],
    paths: list[Path] | None,
    out: Path | None,
    target: str | None,
    source: str | None,
    source_airflow: str | None,
    target_airflow: str | None,
    source_requirements: Path | None = None,
    auto_requirements: bool = True,
) -> int:
    """`airshift fix --verify`: fix, then verify the result against the code as it was before the fix.

    Fixing in place leaves no original to load, so the folder is copied aside first."""
    from rich.console import Console

    if not paths or len(paths) != 1 or not paths[0].is_dir():
        raise AirshiftError("--verify needs exactly one DAG folder to fix")
    source_release = source_airflow or (source if source in ("1.10", "2") else None)
    if source_release is None:
        raise AirshiftError(
            "--verify needs --source-airflow VERSION: the Airflow release the DAGs run on today"
        )
    # Every name is checked before the fix writes anything: a name verify cannot install must not leave a
    # rewritten folder behind and then fail.
    if target is not None:
        parse_target(target)
    source_release = resolve_release(source_release)
    target_release = resolve_release(target_airflow or target or DEFAULT_TARGET)
    folder = paths[0].resolve()
    with tempfile.TemporaryDirectory(prefix="airshift-original-") as tmp:
        if out is None:
            original = Path(tmp) / folder.name
            shutil.copytree(folder, original, ignore=shutil.ignore_patterns("__pycache__"), symlinks=True)
            migrated = folder
        else:
            original, migrated = folder, out.resolve()
        code = run_fix()
        if code == 2:
            return code
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            f"verifying {migrated} (Airflow {target_release}) against the original (Airflow {source_release})"
        )
        return run_verify(
            original,
            migrated,
            source_release,
            target_release,
            source_requirements=source_requirements,
            auto_requirements=auto_requirements,
        )
