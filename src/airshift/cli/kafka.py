"""`airshift kafka`: prove a Kafka topic migration (MirrorMaker 2 or a re-publishing relay) lost,
doubled, reordered and changed nothing, and resume EventStream consumers on a new cluster.

Thin: options -> request -> library -> render. confluent-kafka is imported inside the command bodies
(through airshift.kafka's modules), never at module level, so other commands do not pay for it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from airshift.errors import AirshiftError

CONFIG_HELP = (
    "Kafka client settings: a librdkafka properties file, a TOML file, env:PREFIX (PREFIX_BOOTSTRAP_SERVERS, "
    "PREFIX_SASL_PASSWORD, ...) or HOST:PORT. SASL/SSL settings (Confluent Cloud: SASL_SSL + PLAIN) go in "
    "the file or the environment, never on the command line."
)


def _write(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, output)
    except OSError as error:
        Path(temp).unlink(missing_ok=True)
        raise AirshiftError(f"cannot write {output}: {error.strerror or error}") from None


def compare_cmd(
    source: Annotated[str, typer.Option("--source", help=CONFIG_HELP, show_default=False)],
    target: Annotated[str, typer.Option("--target", help="The target cluster's settings (as --source).")],
    topics: Annotated[
        str | None, typer.Option("--topics", help="Regular expression over source topic names (whole name).")
    ] = None,
    group: Annotated[
        list[str] | None,
        typer.Option(
            "--group",
            help="Consumer group to translate and judge (repeatable); groups in MM2's "
            "checkpoints are judged too.",
        ),
    ] = None,
    sample: Annotated[
        int | None,
        typer.Option(
            "--sample", min=1, help="Compare N records at a few ranges per partition instead of all."
        ),
    ] = None,
    sample_ranges: Annotated[int, typer.Option("--sample-ranges", min=1, help="Ranges per partition.")] = 3,
    source_alias: Annotated[
        str | None,
        typer.Option(
            "--source-alias",
            help="MM2 DefaultReplicationPolicy: target topic = ALIAS.<topic> "
            "(default: the same name, IdentityReplicationPolicy).",
        ),
    ] = None,
    offset_syncs_topic: Annotated[
        str | None, typer.Option("--offset-syncs-topic", help="Default: mm2-offset-syncs.*.internal if any.")
    ] = None,
    checkpoints_topic: Annotated[
        str | None, typer.Option("--checkpoints-topic", help="Default: *.checkpoints.internal on the target.")
    ] = None,
    overlap_only: Annotated[
        bool,
        typer.Option(
            "--overlap-only",
            help="A target that starts later than the source (mirroring or "
            "relaying began at a later offset) is a warning, not an error.",
        ),
    ] = False,
    window: Annotated[
        int, typer.Option("--window", min=16, help="Records held per side when matching (bounds memory).")
    ] = 4096,
    fmt: Annotated[str, typer.Option("--format", help="text, json or html.")] = "text",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to FILE.")] = None,
    watch: Annotated[
        bool, typer.Option("--watch", help="Follow the replication until it has caught up, then compare.")
    ] = False,
    interval: Annotated[
        float, typer.Option("--interval", min=0.1, help="Seconds between --watch rounds.")
    ] = 5.0,
    watch_timeout: Annotated[
        float, typer.Option("--watch-timeout", min=1, help="Give up following after this many seconds.")
    ] = 600.0,
    timeout: Annotated[float, typer.Option("--timeout", min=1, help="Seconds to wait for a cluster.")] = 30.0,
) -> None:
    """Compare topics on two clusters record by record; exit 0 parity, 1 differences, 2 error, 3 behind."""
    from rich.console import Console

    from airshift.kafka.compare import CompareRequest, run_compare
    from airshift.kafka.config import load_client_config
    from airshift.kafka.model import EXIT_BEHIND
    from airshift.kafka.render import render

    if fmt not in ("text", "json", "html"):
        raise AirshiftError(f"--format {fmt}: use text, json or html")
    request = CompareRequest(
        source=load_client_config(source, "--source"),
        target=load_client_config(target, "--target"),
        topics=topics,
        groups=list(group or []),
        sample=sample,
        sample_ranges=sample_ranges,
        source_alias=source_alias,
        offset_syncs_topic=offset_syncs_topic,
        checkpoints_topic=checkpoints_topic,
        overlap_only=overlap_only,
        window=window,
        timeout=timeout,
    )
    err = Console(stderr=True, highlight=False)
    converged = True
    if watch:
        from rich.live import Live

        from airshift.kafka.watch import follow, lag_table

        with Live(console=err, auto_refresh=False, transient=False) as live:
            state = follow(
                request,
                interval,
                watch_timeout,
                lambda s: live.update(lag_table(s, watch_timeout), refresh=True),
            )
        converged = state.converged
        err.print(
            "caught up; comparing" if converged else f"not caught up after {watch_timeout:.0f} s; comparing"
        )
    with err.status("comparing", spinner="dots") if err.is_terminal else _nothing():
        report = run_compare(request, progress=None)
    _write(render(report, fmt), output)
    if output is not None:
        err.print(f"{report.verdict}: report written to {output}")
    code = report.exit_code
    if not converged and code == 0:
        code = EXIT_BEHIND
    raise typer.Exit(code)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_args: object) -> None:
        return None


def resume_cmd(
    target: Annotated[str, typer.Option("--target", help=CONFIG_HELP, show_default=False)],
    after: Annotated[
        int,
        typer.Option("--after", min=0, help="The last log offset the consumer handled on the old cluster."),
    ],
    topic: Annotated[str, typer.Option("--topic", help="The EventStream topic.")] = "airshift.events",
    group: Annotated[
        str | None, typer.Option("--group", help="Also commit the positions for this consumer group.")
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", min=1)] = 30.0,
) -> None:
    """Where EventStream consumers resume on a new cluster: per partition, the first message whose
    log offset header is above --after (optionally committed for a consumer group)."""
    from airshift.kafka.cluster import Cluster
    from airshift.kafka.config import load_client_config
    from airshift.kafka.resume import commit_group, resume_points

    cluster = Cluster(load_client_config(target, "--target"), "target", timeout)
    points = resume_points(cluster, topic, after)
    for point in points:
        at = (
            f"log offset {point.log_offset}"
            if point.log_offset is not None
            else "the end (nothing newer yet)"
        )
        typer.echo(f"{topic}[{point.partition}] resume at Kafka offset {point.kafka_offset} ({at})")
    if group:
        commit_group(cluster, group, topic, points)
        typer.echo(f"committed for group {group}")


def register(app: typer.Typer) -> None:
    """Add the `kafka` command group."""
    kafka_app = typer.Typer(
        name="kafka",
        help="Kafka topic migration parity (MirrorMaker 2) and EventStream consumers on a new cluster.",
        no_args_is_help=True,
    )
    kafka_app.command("compare")(compare_cmd)
    kafka_app.command("resume")(resume_cmd)
    app.add_typer(kafka_app, name="kafka")
