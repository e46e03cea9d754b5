"""`airshift route`: the trigger gateway external schedulers call instead of Airflow during a cutover."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from airshift.errors import AirshiftError


def serve_cmd(
    plan: Annotated[Path, typer.Option("--plan", help="The cutover plan file (both Airflows, the journal).")],
    host: Annotated[str, typer.Option("--host", help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535)] = 8080,
    tokens_file: Annotated[
        Path | None,
        typer.Option("--tokens-file", help="Bearer tokens, one per line ('LABEL TOKEN' or 'TOKEN')."),
    ] = None,
    htpasswd: Annotated[
        Path | None,
        typer.Option("--htpasswd", help="Basic-auth users, 'user:bcrypt-hash' lines (htpasswd -B)."),
    ] = None,
    oidc_keys: Annotated[
        Path | None,
        typer.Option(
            "--oidc-keys", help="JWKS or PEM file with the public keys of OIDC ID tokens (Pub/Sub, IAP)."
        ),
    ] = None,
    oidc_audience: Annotated[
        list[str] | None, typer.Option("--oidc-audience", help="An accepted `aud` of ID tokens (repeatable).")
    ] = None,
    oidc_email: Annotated[
        list[str] | None,
        typer.Option(
            "--oidc-email",
            help="Only ID tokens of this verified email (repeatable), e.g. the push service account.",
        ),
    ] = None,
    oidc_issuer: Annotated[
        list[str] | None, typer.Option("--oidc-issuer", help="Accepted `iss` (repeatable; default Google's).")
    ] = None,
    allow_anonymous: Annotated[
        bool,
        typer.Option("--allow-anonymous", help="Accept calls without credentials (closed networks only)."),
    ] = False,
    naive_timezone: Annotated[
        str,
        typer.Option(
            "--naive-timezone",
            help="Zone for 1.10 dates without an offset (the old [core] default_timezone).",
        ),
    ] = "UTC",
    public_url: Annotated[
        str, typer.Option("--public-url", help="The router's URL as callers see it (1.10 run links).")
    ] = "",
) -> None:
    """Serve the trigger gateway: 1.10 experimental, /api/v1, /api/v2 and Pub/Sub push calls go to the
    side that owns the DAG; the cutover status page is at /."""
    from airshift.route.serve import ServeOptions, serve

    options = ServeOptions(
        plan=plan,
        host=host,
        port=port,
        tokens_file=tokens_file,
        htpasswd=htpasswd,
        oidc_keys=oidc_keys,
        oidc_audiences=tuple(oidc_audience or ()),
        oidc_emails=tuple(oidc_email or ()),
        oidc_issuers=tuple(oidc_issuer or ()),
        allow_anonymous=allow_anonymous,
        naive_timezone=naive_timezone,
        public_url=public_url.rstrip("/"),
    )
    serve(options)


def hash_password_cmd(
    user: Annotated[str, typer.Argument(help="The user name of the line to print.")],
) -> None:
    """Print a 'user:bcrypt-hash' line for --htpasswd; the password is read from standard input."""
    from airshift.route.auth import hash_password

    if ":" in user or not user.strip():
        raise AirshiftError(f"user name {user!r} must be non-empty and without ':'")
    if sys.stdin.isatty():
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise AirshiftError("no password on standard input")
    typer.echo(f"{user}:{hash_password(password)}")


def register(app: typer.Typer) -> None:
    """Add the `route` command group."""
    route_app = typer.Typer(
        name="route",
        help="Trigger gateway: send external triggers to the side that owns the DAG.",
        no_args_is_help=True,
    )
    route_app.command("serve")(serve_cmd)
    route_app.command("hash-password")(hash_password_cmd)
    app.add_typer(route_app, name="route")
