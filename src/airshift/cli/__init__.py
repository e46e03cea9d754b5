"""The `airshift` command line. Every module in this package that defines `register(app)` adds its
commands; adding a command group means adding a module here and nothing else."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import traceback

import typer
from rich.console import Console
from rich.markup import escape

from airshift import redaction
from airshift.errors import AirshiftError, environment_failure

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
    """Entry point: run the app, turning AirshiftError into a message and exit code 2.

    A file that cannot be read or written, or a database or server that cannot be reached, is the
    machine's doing: one line naming it, exit 2. Anything else is a bug in airshift: the user gets one
    line naming it (the traceback only with
    AIRSHIFT_DEBUG=1, since tracebacks can quote values), still exit code 2, never a wall of frames."""
    redaction.install()  # before anything prints: every line goes out through the redaction layer
    console = Console(stderr=True, soft_wrap=True)
    try:
        app()
    except AirshiftError as error:
        console.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        console.print("interrupted", highlight=False)
        sys.exit(130)
    except Exception as error:  # the last line of defence described above
        if os.environ.get("AIRSHIFT_DEBUG"):
            traceback.print_exc()
        cause = environment_failure(error)  # the machine's or a server's doing, not a bug
        if cause is not None:
            console.print(f"[bold red]error:[/] {escape(cause)}", highlight=False)
            sys.exit(2)
        console.print(
            f"[bold red]internal error:[/] {type(error).__name__} in airshift; please report it "
            "(run again with AIRSHIFT_DEBUG=1 for the traceback)",
            highlight=False,
        )
        sys.exit(2)
