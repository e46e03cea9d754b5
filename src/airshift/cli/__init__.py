"""The `airshift` command line. Every module in this package that defines `register(app)` adds its
commands; adding a command group means adding a module here and nothing else.

Start-up is paid on every pre-commit run, so commands are loaded lazily: `airshift scan` imports the cli
modules in the order below only until one has registered `scan` (the first one, cli/upgrade.py), and
`--help` imports them all. That stays cheap because cli modules import heavy libraries (SQLAlchemy,
FastAPI, httpx, pydantic...) inside their command bodies, never at module level; tests/cli/test_imports.py
checks both for every module here.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
import traceback
from typing import TYPE_CHECKING, Annotated

import typer

from airshift import __version__, redaction
from airshift.errors import AirshiftError, environment_failure

if TYPE_CHECKING:
    from collections.abc import Sequence

# The user's journey order for `airshift --help`; modules not listed follow alphabetically.
_ORDER = ("upgrade", "runtime", "verify", "transfer", "cutover", "route", "events", "deploy")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"airshift {__version__}")
        raise typer.Exit()


def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print airshift's version and exit.", callback=_print_version, is_eager=True
        ),
    ] = False,
) -> None:
    """Move Apache Airflow estates forward with proof."""


def _new_app() -> typer.Typer:
    app = typer.Typer(
        name="airshift",
        help="Move Apache Airflow estates forward with proof.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(_root)
    return app


def command_modules() -> list[str]:
    """The cli modules, in `--help` order."""
    names = [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
    names.sort(key=lambda n: (_ORDER.index(n) if n in _ORDER else len(_ORDER), n))
    return names


def _registered_names(app: typer.Typer) -> set[str]:
    """Names of the commands and groups registered on `app` so far (as typer will name them)."""
    names = set()
    for command in app.registered_commands:
        callback_name = getattr(command.callback, "__name__", "")
        names.add(command.name or callback_name.lower().replace("_", "-"))
    for group in app.registered_groups:
        instance = group.typer_instance
        names.add(group.name or (instance.info.name if instance is not None else None) or "")
    return names


def build_app(command: str | None = None) -> typer.Typer:
    """The app with every command group, or, given `command`, with the groups up to the one that has it."""
    app = _new_app()
    for name in command_modules():
        module = importlib.import_module(f"{__name__}.{name}")
        register = getattr(module, "register", None)
        if register is None:
            continue
        register(app)
        if command is not None and command in _registered_names(app):
            break
    return app


def _command_name(argv: Sequence[str]) -> str | None:
    """The command the user asked for: the first argument, unless it is an option (--help, --version)."""
    if argv and not argv[0].startswith("-"):
        return argv[0]
    return None


def __getattr__(name: str) -> typer.Typer:
    # `from airshift.cli import app` (tests, embedding) gets the complete app, built once on first use.
    if name == "app":
        app = build_app()
        globals()["app"] = app
        return app
    raise AttributeError(name)


def main() -> None:
    """Entry point: run the app, turning AirshiftError into a message and exit code 2.

    A file that cannot be read or written, or a database or server that cannot be reached, is the
    machine's doing: one line naming it, exit 2. Anything else is a bug in airshift: the user gets one
    line naming it (the traceback only with
    AIRSHIFT_DEBUG=1, since tracebacks can quote values), still exit code 2, never a wall of frames."""
    redaction.install()  # before anything prints: every line goes out through the redaction layer
    try:
        argv = sys.argv[1:]
        # `--version` needs no command group at all; a command needs only the groups up to its own
        app = _new_app() if argv[:1] == ["--version"] else build_app(_command_name(argv))
        app(prog_name="airshift")
    except AirshiftError as error:
        _error_line(f"\x1b[1;31merror:\x1b[0m {error}", f"error: {error}")
        sys.exit(2)
    except KeyboardInterrupt:
        _error_line("interrupted", "interrupted")
        sys.exit(130)
    except Exception as error:  # the last line of defence described above
        if os.environ.get("AIRSHIFT_DEBUG"):
            traceback.print_exc()
        cause = environment_failure(error)  # the machine's or a server's doing, not a bug
        if cause is not None:
            _error_line(f"\x1b[1;31merror:\x1b[0m {cause}", f"error: {cause}")
            sys.exit(2)
        message = (
            f"{type(error).__name__} in airshift; please report it "
            "(run again with AIRSHIFT_DEBUG=1 for the traceback)"
        )
        _error_line(f"\x1b[1;31minternal error:\x1b[0m {message}", f"internal error: {message}")
        sys.exit(2)


def _error_line(coloured: str, plain: str) -> None:
    """One line on stderr, coloured only on a terminal (rich is not imported just to print it)."""
    stream = sys.stderr
    colour = stream.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
    stream.write((coloured if colour else plain) + "\n")
    stream.flush()
