"""The `airshift` command line. Each command group lives in its own module and registers itself here."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from airshift.errors import AirshiftError

app = typer.Typer(
    name="airshift",
    help="Move Apache Airflow estates forward with proof.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Command modules register themselves on `app` when imported; keep this list the single place to add one.
import airshift.cli.runtime as _runtime  # noqa: E402
import airshift.cli.upgrade as _upgrade  # noqa: E402

_runtime.register(app)
_upgrade.register(app)


def main() -> None:
    """Entry point: run the app, turning AirshiftError into a message and exit code 2."""
    try:
        app()
    except AirshiftError as error:
        Console(stderr=True).print(f"[bold red]error:[/] {error}", highlight=False)
        sys.exit(2)
