"""`airshift inventory SOURCES...`: what an Airflow estate holds, as JSON (and text or HTML).

Thin: the platform modules, SQLAlchemy and ruamel are imported inside the command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def inventory(
    sources: Annotated[
        list[str],
        typer.Argument(
            help="DAG folders, config files (airflow.cfg, env file, Helm values), env: for the AIRFLOW__ "
            "environment, metadata DB URLs, API URLs, or Composer/MWAA/Astronomer layouts."
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where the inventory JSON goes.")] = Path(
        "inventory.json"
    ),
    html: Annotated[Path | None, typer.Option(help="Also write a self-contained HTML page here.")] = None,
    text: Annotated[bool, typer.Option("--text/--quiet", help="Print the text summary.")] = True,
    db_password_file: Annotated[
        Path | None, typer.Option(help="Password of a metadata DB source (or $AIRSHIFT_FROM_DB_PASSWORD).")
    ] = None,
    xcom_limit: Annotated[
        int, typer.Option(help="XCom values larger than this many bytes are a risk.")
    ] = 49344,
) -> None:
    """Inventory an Airflow estate: DAGs, plugins, configuration, metadata DB, managed platform, risks."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    from airshift.platform.files import write_text
    from airshift.platform.inventory import InventoryRequest, build_inventory
    from airshift.platform.inventory_db import Progress as ReadProgress
    from airshift.report.inventory_html import inventory_html
    from airshift.report.inventory_text import inventory_text

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        current: list[TaskID] = []

        def start(what: str, total: int | None) -> None:
            if current:
                bar.remove_task(current.pop())
            current.append(bar.add_task(what, total=total))

        def advance(count: int) -> None:
            if current:
                bar.advance(current[0], count)

        request = InventoryRequest(
            sources=sources,
            progress=ReadProgress(start, advance),
            scan_progress=advance,
            xcom_limit=xcom_limit,
            db_password_file=db_password_file,
        )
        result = build_inventory(request)
    write_text(output, result.to_json())
    if html is not None:
        write_text(html, inventory_html(result))
    if text:
        Console(highlight=False, soft_wrap=True).print(inventory_text(result), markup=False)
    console.print(f"wrote {output}" + (f" and {html}" if html else ""), markup=False)


def register(app: typer.Typer) -> None:
    app.command("inventory")(inventory)
