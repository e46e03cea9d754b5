"""`airshift route serve` put together: the plan's two Airflows, the journal, the callers' credentials,
the FastAPI app, uvicorn."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from airshift.errors import AirshiftError
from airshift.route.auth import (
    GOOGLE_ISSUERS,
    Authenticator,
    OidcCheck,
    PasswordCheck,
    WatchedFile,
    parse_htpasswd,
    parse_keys,
    parse_tokens,
)
from airshift.route.dates import zone


@dataclass(frozen=True)
class ServeOptions:
    plan: Path
    host: str = "127.0.0.1"
    port: int = 8080
    tokens_file: Path | None = None
    htpasswd: Path | None = None
    oidc_keys: Path | None = None
    oidc_audiences: Sequence[str] = ()
    oidc_emails: Sequence[str] = ()
    oidc_issuers: Sequence[str] = field(default=GOOGLE_ISSUERS)
    allow_anonymous: bool = False
    naive_timezone: str = "UTC"
    public_url: str = ""
    status_max_age: float = 5.0


def build_authenticator(options: ServeOptions) -> Authenticator:
    if (options.oidc_keys is None) != (not options.oidc_audiences):
        raise AirshiftError("OIDC needs both --oidc-keys FILE and at least one --oidc-audience")
    oidc = None
    if options.oidc_keys is not None:
        oidc = OidcCheck(
            WatchedFile(options.oidc_keys, parse_keys),
            list(options.oidc_audiences),
            issuers=list(options.oidc_issuers) or list(GOOGLE_ISSUERS),
            emails=list(options.oidc_emails),
        )
    return Authenticator(
        tokens=WatchedFile(options.tokens_file, parse_tokens) if options.tokens_file else None,
        passwords=PasswordCheck(WatchedFile(options.htpasswd, parse_htpasswd)) if options.htpasswd else None,
        oidc=oidc,
        allow_anonymous=options.allow_anonymous,
    )


def build_app(options: ServeOptions):  # type: ignore[no-untyped-def]  # FastAPI, imported lazily
    from airshift.cutover.airflow_rest import connect_side, plan_secrets
    from airshift.cutover.journal import open_journal
    from airshift.cutover.plan import load_plan
    from airshift.route.app import RouteSettings, create_app
    from airshift.route.model import SideName
    from airshift.route.router import Router
    from airshift.route.sides import Side
    from airshift.route.status_page import StatusPage

    auth = build_authenticator(options)
    naive_zone = zone(options.naive_timezone)
    plan = load_plan(options.plan)
    journal = open_journal(plan.journal, plan_secrets(plan))
    sides: dict[SideName, Side] = {
        "old": Side("old", lambda: connect_side(plan, "old")),
        "new": Side("new", lambda: connect_side(plan, "new")),
    }
    router = Router(sides, journal.owner_of)
    status = StatusPage(plan, journal, sides, max_age=options.status_max_age)
    settings = RouteSettings(router, auth, status, naive_zone=naive_zone, public_url=options.public_url)
    return create_app(settings)


def serve(options: ServeOptions) -> None:
    import uvicorn

    app = build_app(options)
    print(
        f"airshift route: serving on http://{options.host}:{options.port} (status page at /)", file=sys.stderr
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(app, host=options.host, port=options.port, log_level="info", access_log=True)
