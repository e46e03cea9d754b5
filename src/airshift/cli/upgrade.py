"""`airshift scan`, `airshift fix` and `airshift demo`: the code upgrader on the command line."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from airshift.errors import AirshiftError
from airshift.versions import DEFAULT_TARGET, SOURCES, parse_target, render

if TYPE_CHECKING:  # the engine, rich and the reports are imported by the commands that use them
    from airshift.config import UpgradeConfig
    from airshift.upgrade.context import Settings
    from airshift.upgrade.discovery import Discovery
    from airshift.upgrade.kubernetes import KubernetesConversion
    from airshift.upgrade.runner import RunOptions, RunResult

PROGRESS_FROM = 200
EXIT_CLEAN, EXIT_CHANGES, EXIT_ERRORS = 0, 1, 2
REQUIREMENTS_FILE = "airshift-requirements.txt"


class Format(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


PathsArg = Annotated[list[Path] | None, typer.Argument(help="DAG files or folders.", show_default=False)]


def _check_target(value: str | None) -> str | None:
    """Refuse an unknown --target while parsing, naming the choices."""
    if value is not None:
        try:
            parse_target(value)
        except AirshiftError as error:
            raise typer.BadParameter(str(error)) from None
    return value


TargetOpt = Annotated[
    str | None,
    typer.Option(
        "--target",
        help=f"Airflow to migrate to: 2.11, 3.0-3.3 [default: {DEFAULT_TARGET}].",
        callback=_check_target,
    ),
]
SourceOpt = Annotated[
    str | None, typer.Option("--source", help="Airflow the code was written for: auto (per file), 1.10 or 2.")
]
InventoryOpt = Annotated[
    Path | None,
    typer.Option(
        "--inventory",
        help="An `airshift inventory` JSON: its DAG folders and source Airflow when not given.",
    ),
]
DiffOpt = Annotated[bool, typer.Option("--diff", help="Show the unified diff of every change.")]
CheckOpt = Annotated[bool, typer.Option("--check", help="Write nothing; exit 1 when a change is needed.")]
StrictOpt = Annotated[
    bool,
    typer.Option("--strict", help="Also exit 1 when findings without a fix remain (they need a person)."),
]
SelectOpt = Annotated[
    list[str] | None, typer.Option("--select", help="Only these rule codes or prefixes (AS1, AS301).")
]
IgnoreOpt = Annotated[list[str] | None, typer.Option("--ignore", help="Skip these rule codes or prefixes.")]
FormatOpt = Annotated[Format | None, typer.Option("--format", help="Report format.")]
ListRulesOpt = Annotated[bool, typer.Option("--list-rules", help="List every rule and exit.")]
ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="pyproject.toml to read [tool.airshift] from.")
]
NoCacheOpt = Annotated[
    bool, typer.Option("--no-cache", help="Analyse every file even if unchanged since last run.")
]
JobsOpt = Annotated[
    int | None, typer.Option("--jobs", min=1, help="Worker processes (default: one per core).")
]
ExcludeOpt = Annotated[list[str] | None, typer.Option("--exclude", help="Glob of files or folders to skip.")]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to this file.")]
AdoptOpt = Annotated[
    bool,
    typer.Option(
        "--adopt-new-defaults", help="Take Airflow 3's new defaults (schedule, catchup, cron) as they are."
    ),
]
PathMapOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--path-map",
        help="DEPLOY=LOCAL: an absolute template_searchpath folder (/usr/local/airflow/dags) is LOCAL here.",
    ),
]
TodayOpt = Annotated[
    str | None,
    typer.Option("--today", help="Date (YYYY-MM-DD) rewrites of days_ago() count from [default: today]."),
]


def register(app: typer.Typer) -> None:
    app.command("scan")(scan)
    app.command("fix")(fix)
    app.command("demo")(demo)


def _settings(
    config: UpgradeConfig,
    target: str | None,
    source: str | None,
    safe_only: bool,
    today: str | None,
    adopt_new_defaults: bool = False,
) -> Settings:
    from airshift.upgrade.context import Settings

    chosen_source = source or config.source or "auto"
    if chosen_source not in SOURCES:
        raise AirshiftError(f"unsupported --source {chosen_source!r}; choose one of {', '.join(SOURCES)}")
    if today is not None:
        try:
            dt.date.fromisoformat(today)
        except ValueError:
            raise AirshiftError(f"--today must be a date like 2026-11-22, not {today!r}") from None
    return Settings(
        target=parse_target(target or config.target or DEFAULT_TARGET),
        source=chosen_source,
        allow_unsafe=not (safe_only or bool(config.safe_only)),
        today=today or dt.datetime.now(dt.timezone.utc).date().isoformat(),
        adopt_new_defaults=adopt_new_defaults or bool(config.adopt_new_defaults),
    )


def _print_rules(fmt: Format) -> None:
    from rich.console import Console

    from airshift.report.rules_doc import rules_table
    from airshift.upgrade.registry import all_metas

    console = Console(highlight=False, soft_wrap=True)
    metas = all_metas()
    if fmt is Format.json:
        import json

        console.print_json(
            json.dumps([{**vars(m), "category": m.category.value, "fix": m.fix.value} for m in metas])
        )
        return
    console.print(rules_table(metas))


def _execute(
    command: str,
    paths: list[Path] | None,
    target: str | None,
    source: str | None,
    diff: bool,
    check: bool,
    out: Path | None,
    select: list[str] | None,
    ignore: list[str] | None,
    fmt: Format | None,
    list_rules: bool,
    config_path: Path | None,
    no_cache: bool,
    jobs: int | None,
    exclude: list[str] | None,
    output: Path | None,
    today: str | None,
    requirements: Path | None = None,
    safe_only: bool = False,
    adopt_new_defaults: bool = False,
    force: bool = False,
    strict: bool = False,
    path_map: list[str] | None = None,
    kubernetes: KubernetesConversion | None = None,
    inventory: Path | None = None,
) -> int:
    from airshift.config import load_config
    from airshift.upgrade.cache import default_cache_dir
    from airshift.upgrade.discovery import discover
    from airshift.upgrade.registry import Selection
    from airshift.upgrade.runner import RunOptions

    if list_rules:
        _print_rules(fmt or Format.text)
        return EXIT_CLEAN
    if inventory is not None:
        paths, source = _from_inventory(inventory, paths, source)
    if not paths:
        raise AirshiftError(f"give one or more DAG files or folders, e.g. `airshift {command} dags/`")
    config, _ = load_config(paths[0], config_path)
    strict = strict or bool(config.strict)
    selection = Selection.parse(select or config.select, ignore or config.ignore)
    selection.validate()
    settings = _settings(config, target, source, safe_only, today, adopt_new_defaults)
    settings = dataclasses.replace(settings, path_map=parse_path_map(path_map or []), kubernetes=kubernetes)
    fmt = fmt or Format(config.format or "text")
    if out is not None:
        out = out.resolve()
        for path in paths:
            if path.resolve() == out or path.resolve() in out.parents:
                raise AirshiftError(f"--out {out} is inside {path}; choose a folder outside the sources")
        if command == "fix" and not check:
            check_out_folder(out, force)
    write = command == "fix" and not check
    cache_dir = None if no_cache else Path(config.cache_dir) if config.cache_dir else default_cache_dir()
    options = RunOptions(
        settings=settings,
        selection=selection,
        fix=command == "fix" or diff or check,
        write=write,
        want_diff=diff,
        out_dir=out,
        cache_dir=cache_dir,
        jobs=jobs if jobs is not None else (config.jobs or 0),
    )
    found = discover(paths, tuple(exclude or config.exclude))
    if out is not None:  # absolute paths into the sources follow the files into --out
        options.settings = dataclasses.replace(settings, relocate=_relocations(found, out))
    result = _run_with_progress(found, options, fmt)
    requirement_note = None
    if write and result.requirements:
        requirements_path = requirements or _requirements_path(paths, out, config)
        chosen = requirements is not None or bool(config.requirements)  # its folder must exist already
        requirement_note = _plan_requirements(result, requirements_path, may_create_folders=not chosen)
    if write:
        from airshift.upgrade import transaction
        from airshift.upgrade.transaction import PlannedWrite

        if output is not None:  # the report is written after the files: check now that it can be
            problem = transaction.problem_with(PlannedWrite(output, may_create_folders=False))
            if problem is not None:
                raise AirshiftError(f"--output {problem}; nothing was changed")
        transaction.apply(result.writes)
    shown = f"{command} --check" if command == "fix" and check else command
    _report(result, shown, render(settings.target), fmt, output)
    if requirement_note and fmt is Format.text:
        sys.stdout.write(requirement_note + "\n")
    return exit_code(result, strict)


def _from_inventory(
    inventory_path: Path, paths: list[Path] | None, source: str | None
) -> tuple[list[Path], str | None]:
    """DAG folders and --source from the inventory when not given; a warning where they contradict it."""
    from airshift.platform import inventory_use

    inventory = inventory_use.load(inventory_path)
    generation = inventory_use.require_generation(inventory, inventory_path)
    recorded = inventory_use.upgrade_source(generation)
    if source is None:
        source = recorded
    elif source != "auto" and source != recorded:
        sys.stderr.write(
            f"warning: --source {source} contradicts inventory {inventory_path}, which records Airflow "
            f"{generation}; using --source {source}\n"
        )
    if not paths:
        return inventory_use.dag_folders(inventory, inventory_path), source
    folders = [Path(folder.path).resolve() for folder in inventory.dag_folders]
    folders += [(inventory_path.parent / folder.path).resolve() for folder in inventory.dag_folders]
    for path in paths:
        resolved = path.resolve()
        if not any(resolved == folder or folder in resolved.parents for folder in folders):
            sys.stderr.write(
                f"warning: {path} is not in a DAG folder inventory {inventory_path} recorded; "
                "its figures do not cover it\n"
            )
    return list(paths), source


def source_airflow_from(inventory_path: Path | None, given: str | None) -> str | None:
    """`fix --verify --inventory`: the release the DAGs run on now, when the inventory knows it exactly."""
    if given is not None or inventory_path is None:
        return given
    import re

    from airshift.platform import inventory_use

    version = inventory_use.load(inventory_path).airflow_version or ""
    return version if re.fullmatch(r"\d+\.\d+\.\d+", version) else None


def exit_code(result: RunResult, strict: bool) -> int:
    """2 when a file failed; 1 when a fix is still to apply (scan, --check) or was applied (fix), or, with
    --strict, when findings without a fix remain; else 0, so CI and pre-commit pass on a migrated folder."""
    from airshift.upgrade.runner import needs_a_person, needs_change

    if any(report.status == "failed" for report in result.files):
        return EXIT_ERRORS
    if needs_change(result) or (strict and needs_a_person(result)):
        return EXIT_CHANGES
    return EXIT_CLEAN


def parse_path_map(values: list[str]) -> tuple[tuple[str, str], ...]:
    """--path-map DEPLOY=LOCAL values as (deploy folder, absolute local folder) pairs."""
    pairs: list[tuple[str, str]] = []
    for value in values:
        deploy, separator, local = value.partition("=")
        deploy, local = deploy.strip(), local.strip()
        if not separator or not deploy or not local:
            raise AirshiftError(
                f"--path-map {value!r}: write DEPLOY_FOLDER=LOCAL_FOLDER, e.g. /usr/local/airflow/dags=."
            )
        if not os.path.isabs(deploy):
            raise AirshiftError(
                f"--path-map {value!r}: {deploy} must be an absolute path (the deploy folder)"
            )
        folder = Path(local).expanduser().resolve()
        if not folder.is_dir():
            raise AirshiftError(f"--path-map {value!r}: {local} is not a folder here")
        pairs.append((os.path.normpath(deploy), str(folder)))
    return tuple(pairs)


def _relocations(found: Discovery, out: Path) -> tuple[tuple[str, str], ...]:
    """(source folder, its place under --out) for every folder given."""
    pairs: dict[str, str] = {}
    for root, _ in [*found.python, *found.other]:
        if root.path.is_dir():
            pairs.setdefault(
                str(root.path.resolve()), str(out / root.out_name) if root.out_name else str(out)
            )
    return tuple(pairs.items())


def _requirements_path(paths: list[Path], out: Path | None, config: UpgradeConfig) -> Path:
    if config.requirements:
        return Path(config.requirements)
    if out is not None:
        return out / REQUIREMENTS_FILE
    first = paths[0]
    return (first if first.is_dir() else first.parent) / REQUIREMENTS_FILE


def check_out_folder(out: Path, force: bool) -> None:
    """--out must be a folder that is new or empty (or --force): fix never mixes its copy into other files."""
    if out.exists() and not out.is_dir():
        raise AirshiftError(f"--out {out} is an existing file; give a folder (new or empty)")
    if out.is_dir():
        try:
            non_empty = next(out.iterdir(), None) is not None
        except OSError as error:
            raise AirshiftError(f"--out {out}: cannot list the folder: {error.strerror or error}") from None
        if non_empty and not force:
            raise AirshiftError(
                f"--out {out} is not empty; give a new or empty folder, or --force to write into it"
            )


def _plan_requirements(result: RunResult, path: Path, may_create_folders: bool) -> str:
    """Add the requirements file to the run's writes; the note to print once they are written."""
    from airshift.upgrade.requirements import plan_update
    from airshift.upgrade.transaction import PlannedWrite

    update, existing = plan_update(path, result.requirements)
    if update.text != existing:
        data = update.text.encode("utf-8")
        result.writes.append(PlannedWrite(path, data, may_create_folders=may_create_folders))
    parts = []
    if update.added:
        parts.append(f"added {len(update.added)}")
    if update.raised:
        parts.append(f"raised {len(update.raised)}")
    return f"requirements: {path} ({', '.join(parts) if parts else 'already up to date'})"


def _run_with_progress(found: object, options: RunOptions, fmt: Format) -> RunResult:
    from airshift.upgrade.discovery import Discovery
    from airshift.upgrade.runner import run

    assert isinstance(found, Discovery)
    total = len(found.python)
    if total < PROGRESS_FROM or not sys.stderr.isatty():
        return run(found, options, commit=False)  # no bar, so no rich: a pre-commit run, a log, a pipe
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    err = Console(stderr=True, soft_wrap=True)
    if not err.is_terminal:  # FORCE_COLOR / TERM make rich see it otherwise
        return run(found, options, commit=False)
    with Progress(
        TextColumn("[bold]airshift[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task("files", total=total)
        return run(found, options, progress=lambda n: progress.advance(task, n), commit=False)


def _report(result: RunResult, command: str, target: str, fmt: Format, output: Path | None) -> None:
    """Write the report to --output or stdout, streamed: a large estate's report is never one string.
    A report file is written beside its place and renamed over it, through the redaction layer."""
    if output is None:
        _stream_report(sys.stdout, result, command, target, fmt)
        sys.stdout.flush()
        return
    import os

    from airshift.redaction import RedactingStream
    from airshift.upgrade.transaction import PlannedWrite, problem_with

    problem = problem_with(PlannedWrite(output, may_create_folders=False))
    if problem is not None:
        raise AirshiftError(f"--output {problem}")
    temp = output.with_name(f".{output.name}.airshift-tmp")
    try:
        with temp.open("w", encoding="utf-8") as handle:
            _stream_report(RedactingStream(handle), result, command, target, fmt)  # type: ignore[arg-type]
        os.replace(temp, output)
    except OSError as error:
        temp.unlink(missing_ok=True)
        raise AirshiftError(f"--output {output}: cannot write: {error.strerror or error}") from None


def _stream_report(stream: TextIO, result: RunResult, command: str, target: str, fmt: Format) -> None:
    from airshift.upgrade.registry import all_metas

    if fmt is Format.text:
        from airshift.report import upgrade_text

        upgrade_text.write(stream, result, all_metas(), command, colour=upgrade_text.wants_colour(stream))
    elif fmt is Format.json:
        from airshift.report import upgrade_json

        upgrade_json.write(stream, result, command, target)
    elif fmt is Format.sarif:
        from airshift.report import sarif

        sarif.write(stream, result, all_metas())
    else:
        from airshift.report import github

        github.write(stream, result)


def scan(
    paths: PathsArg = None,
    target: TargetOpt = None,
    source: SourceOpt = None,
    diff: DiffOpt = False,
    check: CheckOpt = False,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    fmt: FormatOpt = None,
    list_rules: ListRulesOpt = False,
    config: ConfigOpt = None,
    no_cache: NoCacheOpt = False,
    jobs: JobsOpt = None,
    exclude: ExcludeOpt = None,
    output: OutputOpt = None,
    today: TodayOpt = None,
    adopt_new_defaults: AdoptOpt = False,
    strict: StrictOpt = False,
    path_map: PathMapOpt = None,
    inventory: InventoryOpt = None,
) -> None:
    """Report every incompatibility with the target Airflow, by rule and file. Writes nothing.

    Exit codes: 0 nothing fixable left (findings that need a person are reported; --strict makes them exit 1),
    1 changes needed, 2 errors (unreadable, unparsable or not compiling files, bad options)."""
    code = _execute(
        "scan",
        paths,
        target,
        source,
        diff,
        check,
        None,
        select,
        ignore,
        fmt,
        list_rules,
        config,
        no_cache,
        jobs,
        exclude,
        output,
        today,
        adopt_new_defaults=adopt_new_defaults,
        strict=strict,
        path_map=path_map,
        inventory=inventory,
    )
    raise typer.Exit(code)


def fix(
    paths: PathsArg = None,
    target: TargetOpt = None,
    source: SourceOpt = None,
    diff: DiffOpt = False,
    check: CheckOpt = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write a complete migrated copy here; sources untouched.")
    ] = None,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    fmt: FormatOpt = None,
    list_rules: ListRulesOpt = False,
    config: ConfigOpt = None,
    no_cache: NoCacheOpt = False,
    jobs: JobsOpt = None,
    exclude: ExcludeOpt = None,
    output: OutputOpt = None,
    today: TodayOpt = None,
    requirements: Annotated[
        Path | None,
        typer.Option("--requirements", help="Requirements file to update in place with needed providers."),
    ] = None,
    safe_only: Annotated[bool, typer.Option("--safe-only", help="Apply only fixes marked safe.")] = False,
    adopt_new_defaults: AdoptOpt = False,
    force: Annotated[
        bool, typer.Option("--force", help="Write into an --out folder that already holds files.")
    ] = False,
    strict: StrictOpt = False,
    path_map: PathMapOpt = None,
    convert: Annotated[
        list[str] | None,
        typer.Option("--convert", help="Opt-in conversion: python-to-kubernetes (needs --image)."),
    ] = None,
    image: Annotated[
        str | None, typer.Option("--image", help="With --convert python-to-kubernetes: the pods' image.")
    ] = None,
    namespace: Annotated[
        str | None,
        typer.Option("--namespace", help="With --convert python-to-kubernetes: the pods' namespace."),
    ] = None,
    resources: Annotated[
        Path | None,
        typer.Option(
            "--resources",
            help="With --convert python-to-kubernetes: YAML/TOML/JSON file of task id -> requests/limits.",
        ),
    ] = None,
    verify: Annotated[
        bool, typer.Option("--verify", help="Then run `airshift verify` on the result (one folder).")
    ] = False,
    source_airflow: Annotated[
        str | None,
        typer.Option("--source-airflow", help="With --verify: the Airflow release the DAGs run on now."),
    ] = None,
    target_airflow: Annotated[
        str | None, typer.Option("--target-airflow", help="With --verify: the Airflow release to verify in.")
    ] = None,
    source_requirements: Annotated[
        Path | None,
        typer.Option(
            "--source-requirements",
            help="With --verify: extra requirements the DAGs need on the source Airflow (providers, libraries).",
        ),
    ] = None,
    no_auto_requirements: Annotated[
        bool,
        typer.Option(
            "--no-auto-requirements",
            help="With --verify: install only the requirements given, not the providers the DAGs import.",
        ),
    ] = False,
    inventory: InventoryOpt = None,
) -> None:
    """Rewrite DAG code for the target Airflow, in place or into --out, and write the provider requirements.

    Exit codes: 0 nothing fixable left (findings that need a person are reported; --strict makes them exit 1),
    1 changes made (or needed, with --check), 2 errors.
    With --verify: 0 every DAG matches its original, 1 differences or import errors, 2 errors."""
    from airshift.upgrade.kubernetes import parse_conversion

    kubernetes = parse_conversion(convert or [], image, namespace, resources)
    if inventory is not None and not paths and not list_rules:
        from airshift.platform import inventory_use

        paths = inventory_use.dag_folders(inventory_use.load(inventory), inventory)
    if verify:
        from airshift.cli.verify import fix_and_verify

        def run_fix() -> int:
            return _execute(
                "fix", paths, target, source, diff, check, out, select, ignore, fmt, list_rules, config,
                no_cache, jobs, exclude, output, today, requirements, safe_only, adopt_new_defaults, force=force,
                strict=strict, path_map=path_map, kubernetes=kubernetes, inventory=inventory,
            )  # fmt: skip

        raise typer.Exit(
            fix_and_verify(
                run_fix,
                paths,
                out,
                target,
                source,
                source_airflow_from(inventory, source_airflow),
                target_airflow,
                source_requirements,
                auto_requirements=not no_auto_requirements,
            )
        )
    code = _execute(
        "fix",
        paths,
        target,
        source,
        diff,
        check,
        out,
        select,
        ignore,
        fmt,
        list_rules,
        config,
        no_cache,
        jobs,
        exclude,
        output,
        today,
        requirements,
        safe_only,
        adopt_new_defaults,
        force=force,
        strict=strict,
        path_map=path_map,
        kubernetes=kubernetes,
        inventory=inventory,
    )
    raise typer.Exit(code)


def demo(
    target: TargetOpt = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Where to write the migrated copy [default: a temp folder].")
    ] = None,
) -> None:
    """Migrate the bundled Airflow 1.10 example DAGs into a folder and show the diff and summary."""
    import os
    import shutil
    import tempfile
    from importlib import resources

    from rich.console import Console

    examples = resources.files("airshift").joinpath("examples/airflow110")
    workspace = Path(tempfile.mkdtemp(prefix="airshift-demo-"))
    source = workspace / "dags-airflow110"
    with resources.as_file(examples) as folder:
        shutil.copytree(folder, source, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    destination = out or workspace / f"dags-airflow{target or DEFAULT_TARGET}"
    previous = Path.cwd()
    os.chdir(workspace)  # report paths relative to the workspace
    try:
        code = _execute(
            "fix",
            [source],
            target,
            None,
            True,
            False,
            destination,
            None,
            None,
            Format.text,
            False,
            None,
            True,
            None,
            None,
            None,
            None,
        )
    finally:
        os.chdir(previous)
    Console().print(f"\noriginal: {source}\nmigrated: {destination}")
    raise typer.Exit(EXIT_ERRORS if code == EXIT_ERRORS else EXIT_CLEAN)
