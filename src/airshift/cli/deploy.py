"""`airshift deploy helm`: values for the official chart, new or upgraded from an existing file.

Thin: the platform modules (ruamel, jsonschema) are imported inside the commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

deploy_app = typer.Typer(help="Deployment files for the target Airflow: Helm values, a Compose project.")


@deploy_app.command("helm")
def helm(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where the values file goes.")] = Path(
        "values.yaml"
    ),
    inventory: Annotated[
        Path | None, typer.Option(help="`airshift inventory` JSON: executor, queues, peak concurrency.")
    ] = None,
    values: Annotated[
        Path | None,
        typer.Option("--values", help="Values migrated by `airshift config migrate` to carry over."),
    ] = None,
    chart_version: Annotated[str, typer.Option(help="Official chart: 1.22 (default) or 1.21.")] = "1.22",
    airflow_version: Annotated[str, typer.Option(help="Airflow the chart deploys.")] = "3.3.2",
    executor: Annotated[
        str | None,
        typer.Option(help="CeleryExecutor (with KEDA) or KubernetesExecutor; default from the inventory."),
    ] = None,
    git_repo: Annotated[str | None, typer.Option(help="git-sync: repository URL of the DAGs.")] = None,
    git_branch: Annotated[str, typer.Option(help="git-sync: branch.")] = "main",
    git_subpath: Annotated[str, typer.Option(help="git-sync: folder of the DAGs in the repository.")] = "",
    git_ssh_key_secret: Annotated[
        str | None, typer.Option(help="git-sync: Secret holding the SSH key.")
    ] = None,
    git_credentials_secret: Annotated[
        str | None, typer.Option(help="git-sync: Secret holding GITSYNC_USERNAME/GITSYNC_PASSWORD.")
    ] = None,
    remote_logs: Annotated[
        str | None, typer.Option(help="Remote log folder (s3://, gs://, wasb://...); default: a logs volume.")
    ] = None,
    remote_log_conn_id: Annotated[str, typer.Option(help="Connection id for remote logs.")] = "airflow_logs",
    release: Annotated[str, typer.Option(help="Helm release name (prefix of the Secret names).")] = "airflow",
    queue: Annotated[list[str] | None, typer.Option(help="Extra Celery queue (repeatable).")] = None,
    upgrade_values: Annotated[
        Path | None, typer.Option(help="Migrate this existing values file instead of writing new values.")
    ] = None,
    schema: Annotated[
        Path | None,
        typer.Option(
            help="The target chart's values.schema.json: drop what it rejects and validate the result."
        ),
    ] = None,
) -> None:
    """Write values for the official Apache Airflow Helm chart."""
    from rich.console import Console

    from airshift.errors import AirshiftError
    from airshift.platform.files import read_text, write_text

    console = Console(highlight=False, soft_wrap=True)
    if upgrade_values is not None:
        from airshift.platform.deploy_helm_upgrade import upgrade_values as upgrade

        text, report = upgrade(
            read_text(upgrade_values, "values file"),
            str(upgrade_values),
            chart_version,
            airflow_version,
            schema,
        )
        for old, new, why in report.moved:
            console.print(f"  moved   {old} -> {new}: {why}", markup=False)
        for path, what in report.changed:
            console.print(f"  changed {path}: {what}", markup=False)
        for path, why in report.dropped:
            console.print(f"  dropped {path}: {why}", markup=False)
        _validate(text, schema)
        write_text(output, text)
        console.print(
            f"{len(report.moved)} moved, {len(report.changed)} changed, {len(report.dropped)} dropped; wrote {output}",
            markup=False,
        )
        return
    from airshift.platform.deploy_helm import HelmRequest, build_values
    from airshift.platform.inventory_model import read_inventory

    result = build_values(
        HelmRequest(
            inventory=read_inventory(inventory) if inventory is not None else None,
            migrated_values=values,
            chart_version=chart_version,
            airflow_version=airflow_version,
            executor=executor,
            git_repo=git_repo,
            git_branch=git_branch,
            git_subpath=git_subpath,
            git_ssh_key_secret=git_ssh_key_secret,
            git_credentials_secret=git_credentials_secret,
            remote_logs=remote_logs,
            remote_log_conn_id=remote_log_conn_id,
            release=release,
            extra_queues=list(queue or []),
        )
    )
    text = result.text()
    try:
        _validate(text, schema)
    except AirshiftError:
        raise
    write_text(output, text)
    for note in result.notes:
        console.print(f"note: {note}", markup=False)
    console.print(f"wrote {output} (chart {chart_version}, {result.values['executor']})", markup=False)


@deploy_app.command("compose")
def compose(
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder of the Compose project.")] = Path(
        "airflow-compose"
    ),
    inventory: Annotated[
        Path | None, typer.Option(help="`airshift inventory` JSON: executor and queues.")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", help="airflow.cfg migrated by `airshift config migrate`, mounted as AIRFLOW_CONFIG."
        ),
    ] = None,
    secrets_file: Annotated[
        Path | None,
        typer.Option(help="Secrets env file from `config migrate`: its secrets are reused in .env."),
    ] = None,
    executor: Annotated[
        str | None, typer.Option(help="CeleryExecutor or LocalExecutor; default from the inventory.")
    ] = None,
    airflow_version: Annotated[str, typer.Option(help="Airflow image tag.")] = "3.3.2",
    image: Annotated[str | None, typer.Option(help="Image to run instead of apache/airflow:VERSION.")] = None,
    queue: Annotated[list[str] | None, typer.Option(help="Extra Celery queue (repeatable).")] = None,
    auth_manager: Annotated[
        str, typer.Option(help="fab (keeps 2.x users; needs the FAB provider in the image) or simple.")
    ] = "fab",
) -> None:
    """Write a Docker Compose project (docker-compose.yaml, .env mode 600, dags/logs/plugins/config)."""
    from rich.console import Console

    from airshift.platform.deploy_compose import ComposeRequest, build_project, write_project
    from airshift.platform.inventory_model import read_inventory

    project = build_project(
        ComposeRequest(
            inventory=read_inventory(inventory) if inventory is not None else None,
            migrated_config=config,
            secrets_env=secrets_file,
            executor=executor,
            airflow_version=airflow_version,
            image=image,
            extra_queues=list(queue or []),
            auth_manager=auth_manager,
        )
    )
    written = write_project(project, output, config)
    console = Console(highlight=False, soft_wrap=True)
    for note in project.notes:
        console.print(f"note: {note}", markup=False)
    console.print(
        f"wrote {', '.join(str(path) for path in written)} (.env is mode 600; secrets not shown)",
        markup=False,
    )


@deploy_app.command("up")
def up(
    project: Annotated[Path, typer.Argument(help="A folder written by `airshift deploy compose`.")] = Path(
        "airflow-compose"
    ),
    local: Annotated[
        bool, typer.Option("--local", help="Run the services as local processes (no Docker needed).")
    ] = False,
    db_url: Annotated[
        str,
        typer.Option(
            help="Local PostgreSQL for the metadata (no password in the URL: use .pgpass or trust)."
        ),
    ] = "postgresql+psycopg2://postgres@127.0.0.1:5432/airflow",
    redis_url: Annotated[
        str, typer.Option(help="Local Redis for the Celery broker.")
    ] = "redis://127.0.0.1:6379/0",
    port: Annotated[int, typer.Option(help="API server port on 127.0.0.1.")] = 8080,
    airflow_version: Annotated[str, typer.Option(help="Airflow runtime to use.")] = "3.3.2",
) -> None:
    """Run a Compose project's Airflow services as local processes until Ctrl-C."""
    from rich.console import Console

    from airshift.errors import AirshiftError
    from airshift.platform.local_runner import local_environment

    if not local:
        raise AirshiftError(
            "only `--local` is supported here: with Docker, run `docker compose up` in the project"
        )
    if "@" in db_url and ":" in db_url.split("@", 1)[0].split("//", 1)[-1]:
        raise AirshiftError("--db-url contains a password; use a .pgpass file or a trust connection instead")
    extras = ["apache-airflow-providers-postgres"]
    compose_text = (project / "docker-compose.yaml").read_text(encoding="utf-8") if project.is_dir() else ""
    if "CeleryExecutor" in compose_text:
        extras.append("apache-airflow-providers-celery")
    if "FabAuthManager" in compose_text:
        extras.append("apache-airflow-providers-fab")
    console = Console(highlight=False, soft_wrap=True)
    with local_environment(
        project, db_url, redis_url, port, extra_requirements=tuple(extras), airflow_version=airflow_version
    ) as env:
        console.print(
            f"healthy: {', '.join(s.name for s in env.services)}; UI and API at {env.base_url}", markup=False
        )
        console.print("Ctrl-C stops every service", markup=False)
        try:
            while all(s.process is not None and s.process.poll() is None for s in env.services):
                import time

                time.sleep(2)
            raise AirshiftError(
                "a service exited; see the logs in " + str(project / ".airflow-local" / "process-logs")
            )
        except KeyboardInterrupt:
            console.print("stopping", markup=False)


@deploy_app.command("ci")
def ci(
    github: Annotated[
        bool, typer.Option("--github", help="Write .github/workflows/airflow-dags.yaml.")
    ] = False,
    gitlab: Annotated[bool, typer.Option("--gitlab", help="Write .gitlab-ci.yml.")] = False,
    ship_to: Annotated[str, typer.Option(help="composer, mwaa or git-sync.")] = "git-sync",
    destination: Annotated[
        str, typer.Option(help="gs://bucket/dags (Composer), s3://bucket/dags (MWAA) or the git-sync branch.")
    ] = "",
    dags: Annotated[str, typer.Option(help="DAG folder in the repository.")] = "dags",
    branch: Annotated[str, typer.Option(help="Default branch; merges to it ship.")] = "main",
    source_airflow: Annotated[
        str, typer.Option(help="Airflow the base branch's DAGs were written for.")
    ] = "2.11.2",
    target_airflow: Annotated[str, typer.Option(help="Target Airflow.")] = "3.3.2",
    airshift_requirement: Annotated[
        str, typer.Option(help="pip requirement that installs airshift.")
    ] = "airshift",
    root: Annotated[Path, typer.Option(help="Repository root to write into.")] = Path("."),
) -> None:
    """Write a CI workflow: fix --check and verify on pull requests, ship the DAG folder on merge."""
    from rich.console import Console

    from airshift.errors import AirshiftError
    from airshift.platform.deploy_ci import (
        CiRequest,
        github_workflow,
        gitlab_pipeline,
        render,
        secrets_needed,
    )
    from airshift.platform.files import write_text

    if github == gitlab:
        raise AirshiftError("choose one of --github or --gitlab")
    request = CiRequest(
        system="github" if github else "gitlab",
        target=ship_to,
        dags=dags,
        destination=destination,
        branch=branch,
        source_airflow=source_airflow,
        target_airflow=target_airflow,
        airshift_requirement=airshift_requirement,
    )
    header = "# Written by airshift deploy ci: check and verify DAGs on review, ship them on merge.\n"
    if github:
        path = root / ".github" / "workflows" / "airflow-dags.yaml"
        write_text(path, render(github_workflow(request), header))
    else:
        path = root / ".gitlab-ci.yml"
        write_text(path, render(gitlab_pipeline(request), header))
    console = Console(highlight=False, soft_wrap=True)
    needed = secrets_needed(request)
    console.print(f"wrote {path}; CI secrets to create: {', '.join(needed) or 'none'}", markup=False)


def _validate(text: str, schema: Path | None) -> None:
    if schema is None:
        return
    from airshift.errors import AirshiftError
    from airshift.platform.config_helm import yaml_round_trip
    from airshift.platform.deploy_helm_upgrade import _load_schema, schema_errors

    errors = schema_errors(yaml_round_trip().load(text), _load_schema(schema))
    if errors:
        raise AirshiftError(f"the values do not match {schema}: {errors[0]} ({len(errors)} errors)")


def register(app: typer.Typer) -> None:
    app.add_typer(deploy_app, name="deploy")
