"""`airshift runtime`: create, list and remove the cached Airflow installs used for verification."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from rich.console import Console


def _console() -> Console:
    # rich is imported by the command that prints, not by `airshift --help` or `airshift scan`
    from rich.console import Console

    return Console()


CacheDirOption = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        help="Where runtimes live (default: $AIRSHIFT_RUNTIME_DIR or ~/.cache/airshift/runtimes).",
        show_default=False,
    ),
]


def ensure(
    version: Annotated[str, typer.Argument(help="Airflow version: 1.10, 2, 2.11, 3, 3.3 or a full release.")],
    python: Annotated[
        str | None,
        typer.Option("--python", help="Interpreter path (or a version such as 3.11) to build the venv with."),
    ] = None,
    with_: Annotated[
        list[str] | None,
        typer.Option(
            "--with", help="Extra requirement to install with Airflow (repeatable).", show_default=False
        ),
    ] = None,
    requirements: Annotated[
        Path | None,
        typer.Option(
            "--requirements", "-r", help="File of extra requirements (e.g. written by `airshift fix`)."
        ),
    ] = None,
    cache_dir: CacheDirOption = None,
) -> None:
    """Create (or reuse) a venv with a real Airflow install."""
    from airshift.verify.runtimes import ensure_runtime, read_requirements_file

    console = _console()
    extras = list(with_ or [])
    if requirements is not None:
        extras.extend(read_requirements_file(requirements))
    started = time.monotonic()
    with console.status(f"Airflow {version}: preparing runtime") as status:

        def log(message: str) -> None:
            status.update(f"Airflow {version}: {message}")

        runtime = ensure_runtime(
            version, python=python, extra_requirements=extras, cache_dir=cache_dir, log=log
        )
    elapsed = time.monotonic() - started
    console.print(
        f"[green]ready[/] Airflow {runtime.airflow_version} on Python {runtime.python_version} "
        f"in {elapsed:.1f}s",
        highlight=False,
    )
    console.print(f"  python: {runtime.python}", highlight=False, soft_wrap=True)
    if runtime.extras:
        console.print(f"  extras: {', '.join(runtime.extras)}", highlight=False, soft_wrap=True)


def list_(cache_dir: CacheDirOption = None) -> None:
    """Show the cached runtimes."""
    from rich.table import Table

    from airshift.verify.runtimes import default_cache_dir, list_runtimes

    console = _console()
    runtimes = list_runtimes(cache_dir)
    root = cache_dir if cache_dir is not None else default_cache_dir()
    if not runtimes:
        console.print(f"No runtimes in {root}. Create one with `airshift runtime ensure 3`.", highlight=False)
        return
    table = Table(title=f"Airflow runtimes in {root}", title_justify="left")
    table.add_column("Airflow")
    table.add_column("Python")
    table.add_column("Extras")
    table.add_column("Strategy")
    table.add_column("Created (UTC)")
    table.add_column("Directory", overflow="fold")
    for runtime in runtimes:
        table.add_row(
            runtime.airflow_version,
            runtime.python_version,
            "\n".join(runtime.extras) or "-",
            str(runtime.metadata.get("strategy", "?")),
            str(runtime.metadata.get("created_at", "?"))[:16].replace("T", " "),
            runtime.key,
        )
    console.print(table)


def remove(
    version: Annotated[str | None, typer.Argument(help="Airflow version whose runtimes to remove.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Remove every cached runtime.")] = False,
    python: Annotated[
        str | None, typer.Option("--python", help="Only runtimes on this Python minor, e.g. 3.12.")
    ] = None,
    cache_dir: CacheDirOption = None,
) -> None:
    """Delete cached runtimes."""
    if (version is None) == (not all_):
        raise typer.BadParameter("give a VERSION or --all (not both)")
    from airshift.verify.runtimes import remove_runtime

    console = _console()
    removed = remove_runtime(None if all_ else version, python=python, cache_dir=cache_dir)
    if not removed:
        console.print("Nothing to remove.")
        return
    for runtime in removed:
        console.print(f"removed {runtime.key}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the `runtime` command group to the root app."""
    runtime_app = typer.Typer(
        name="runtime",
        help="Real Airflow installs (cached venvs made with uv) used to verify DAGs.",
        no_args_is_help=True,
    )
    runtime_app.command("ensure")(ensure)
    runtime_app.command("list")(list_)
    runtime_app.command("remove")(remove)
    app.add_typer(runtime_app, name="runtime")
