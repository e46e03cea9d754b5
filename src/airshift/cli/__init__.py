"""The `airshift` command line. Every module in this package that defines `register(app)` adds its
commands; adding a command group means adding a module here and nothing else."""

from __future__ import annotations

import importlib
import pkgutil
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

# The user's journey order for `airshift --help`; modules not listed follow alphabetically.
_ORDER = ("upgrade", "runtime", "verify", "transfer", "cutover", "events", "deploy")


def _register_commands() -> None:
    names = [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
    names.sort(key=lambda n: (_ORDER.index(n) if n in _ORDER else len(_ORDER), n))
    for name in names:
        module = importlib.import_module(f"{__name__}.{name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_commands()


def main() -> None:
    """Entry point: run the app, turning AirshiftError into a message and exit code 2."""
    try:
        app()
    except AirshiftError as error:
        Console(stderr=True).print(f"[bold red]error:[/] {error}", highlight=False)
        sys.exit(2)
