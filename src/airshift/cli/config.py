"""`airshift config migrate`: airflow.cfg, env files and Helm values from Airflow 1.10 / 2.x to the target.

Thin: parse options, build a MigrateRequest, render the plan. The platform modules (and ruamel.yaml)
are imported inside the command so `airshift scan` never pays for them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

config_app = typer.Typer(help="Airflow configuration: migrate airflow.cfg, env files and Helm values.")


@config_app.command("migrate")
def migrate(
    source: Annotated[Path, typer.Argument(help="airflow.cfg, an env file (AIRFLOW__...=) or Helm values.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of rewriting SOURCE in place.")
    ] = None,
    target: Annotated[str, typer.Option(help="Target Airflow: 3.3 (default) or 2.11.")] = "3.3",
    source_version: Annotated[
        str, typer.Option("--source", help="Source Airflow: auto (from the options set), 1.10 or 2.")
    ] = "auto",
    file_format: Annotated[str, typer.Option("--format", help="auto, cfg, env or helm.")] = "auto",
    adopt_new_defaults: Annotated[
        bool,
        typer.Option(
            "--adopt-new-defaults",
            help="Take the target's new defaults (catchup_by_default False, ...) instead of keeping the source's behaviour.",
        ),
    ] = False,
    auth_manager: Annotated[
        str,
        typer.Option(
            help="Auth manager to add when none is set: fab (keeps 2.x users), simple, or a class path."
        ),
    ] = "fab",
    base_url: Annotated[
        str | None, typer.Option(help="[api] base_url to add when the source has no [webserver] base_url.")
    ] = None,
    secrets_file: Annotated[
        Path | None,
        typer.Option(
            help="Where generated secrets go (mode 600; default: beside the output, *-secrets.env/.yaml)."
        ),
    ] = None,
    inventory: Annotated[
        Path | None,
        typer.Option(help="An `airshift inventory` JSON: with --source auto, its source version is used."),
    ] = None,
    release: Annotated[
        str, typer.Option(help="Helm release name, used in the generated Secret names.")
    ] = "airflow",
    diff: Annotated[bool, typer.Option("--diff", help="Show the change as a diff (secrets masked).")] = False,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 when the file needs changes.")
    ] = False,
) -> None:
    """Migrate one configuration file to the target, keeping comments and layout."""
    from rich.console import Console

    from airshift.errors import AirshiftError
    from airshift.platform.config_migrate import MigrateRequest, masked_diff, migrate_config
    from airshift.platform.config_plan import Options, mask_value, show
    from airshift.platform.config_tables import load_tables

    if target not in ("3.3", "3", "3.3.2", "2.11", "2.11.2"):
        raise AirshiftError(f"--target {target!r}: choose 3.3 or 2.11")
    if source_version not in ("auto", "1.10", "2"):
        raise AirshiftError(f"--source {source_version!r}: choose auto, 1.10 or 2")
    if source_version == "auto" and inventory is not None:
        from airshift.platform.inventory_model import read_inventory

        found = read_inventory(inventory).source_major()
        if found in ("1.10", "2"):
            source_version = found
    options = Options(
        target="2.11" if target.startswith("2") else "3.3",
        source=source_version,
        adopt_new_defaults=adopt_new_defaults,
        auth_manager=auth_manager,
        base_url=base_url,
    )
    result = migrate_config(
        MigrateRequest(
            source=source,
            output=output,
            format=file_format,
            options=options,
            secrets_file=secrets_file,
            check=check,
            release=release,
        )
    )
    console = Console(soft_wrap=True, highlight=False)
    tables = load_tables()
    plan = result.plan
    console.print(
        f"{source} ({result.format}, from Airflow {plan.source}) -> Airflow {plan.target}", markup=False
    )
    for fate in plan.fates:
        for step in fate.steps:
            new = f" -> {show(step.new)}" if step.new and step.new != step.old else ""
            console.print(f"  {step.kind:<7} {show(step.old)}{new}: {step.why}", markup=False)
    for addition in plan.additions:
        shown = (
            f"(in {result.secrets_file})"
            if addition.secret
            else mask_value(tables, addition.key, addition.value)
        )
        console.print(f"  add     {show(addition.key)} = {shown}: {addition.why}", markup=False)
    for note in plan.notes:
        console.print(f"  note    {show(note.old)}: {note.why}", markup=False)
    removed = sum(1 for fate in plan.fates if fate.key is None)
    moved = sum(1 for fate in plan.fates if fate.key is not None and fate.key != fate.entry.key)
    console.print(
        f"{moved} renamed or moved, {removed} removed, {len(plan.additions)} added "
        f"({sum(a.secret for a in plan.additions)} generated secrets)"
    )
    if diff:
        console.print(masked_diff(result), markup=False)
    if check:
        if result.changed:
            console.print(f"{source}: needs migration (nothing written)")
            raise typer.Exit(1)
        console.print(f"{source}: already migrated")
        return
    if result.written:
        console.print(f"wrote {result.output}")
    if result.secrets_file is not None:
        console.print(f"generated secrets in {result.secrets_file} (mode 600; not shown)")


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
