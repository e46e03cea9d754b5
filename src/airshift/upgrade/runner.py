"""Running the engine over files: reading, caching, parallel workers, writing results in place or to --out."""

from __future__ import annotations

import dataclasses
import difflib
import gc
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airshift.upgrade.cache import ResultCache
from airshift.upgrade.context import Settings
from airshift.upgrade.discovery import Discovery, Root, relative_out
from airshift.upgrade.engine import SyntaxProblem, analyse
from airshift.upgrade.model import Category, Finding, Requirement
from airshift.upgrade.moves import load_table, newer, table_fingerprint, with_floor
from airshift.upgrade.other_files import OtherFile, digest_of, still_current, target_for
from airshift.upgrade.project import find_subdag_factories, module_name
from airshift.upgrade.registry import Selection
from airshift.upgrade.rules.duplicate_ids import DUPLICATE_DAG_ID
from airshift.upgrade.source import UnreadableSource, decode_source
from airshift.upgrade.transaction import PlannedWrite, apply
from airshift.upgrade.versions import Version

MAX_FILE_BYTES = 10 * 1024 * 1024
PARALLEL_FROM = 64  # below this many files, worker start-up costs more than it saves


@dataclass
class Problem:
    """A finding as reported: no edits, only what a reader or a report needs."""

    code: str
    message: str
    line: int
    col: int
    category: str
    fixable: bool
    fixed: bool
    end_line: int | None = None
    requirements: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, finding: Finding) -> Problem:
        return cls(
            code=finding.code,
            message=finding.message,
            line=finding.line,
            col=finding.col,
            category=finding.category.value,
            fixable=finding.fixable or finding.fixed,
            fixed=finding.fixed,
            end_line=finding.end_line,
            requirements=[r.render() for r in finding.requirements],
        )


@dataclass
class FileReport:
    path: str
    status: str  # "unchanged", "changed", "failed"
    problems: list[Problem] = field(default_factory=list)
    error: str | None = None
    source_version: str | None = None
    diff: str | None = None
    requirements: list[tuple[str, str | None]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    cached: bool = False
    others: dict[str, OtherFile] = field(default_factory=dict)  # template files, by absolute path
    planned: PlannedWrite | None = None  # what fixing this file writes (applied with the run's other writes)
    dag_ids: list[tuple[str, int]] = field(default_factory=list)  # literal DAG ids and their lines


@dataclass
class RunOptions:
    settings: Settings
    selection: Selection
    fix: bool  # compute fixes (scan reports only)
    write: bool  # write results (fix without --check)
    want_diff: bool = False
    out_dir: Path | None = None
    cache_dir: Path | None = None  # None: no cache
    jobs: int = 0  # 0: one per core


@dataclass
class RunResult:
    files: list[FileReport]
    elapsed: float
    copied: int = 0
    writes: list[PlannedWrite] = field(default_factory=list)  # what the run writes, all or nothing
    target: Version | None = None  # raises each provider to the lowest release supporting this Airflow

    @property
    def requirements(self) -> list[Requirement]:
        """One line per distribution: the highest minimum any file needs, raised to the target's floor.
        scan and fix compute it the same way, so they agree."""
        best: dict[str, str | None] = {}
        for report in self.files:
            for distribution, version in report.requirements:
                current = best.get(distribution)
                if distribution not in best or (version and (current is None or newer(version, current))):
                    best[distribution] = version
        found = [Requirement(d, v) for d, v in sorted(best.items())]
        return [with_floor(r, self.target) for r in found] if self.target else found


def _display(path: Path) -> str:
    """The path as the user would write it: relative to the current folder when inside it."""
    text = str(path)
    prefix = os.getcwd() + os.sep
    return text[len(prefix) :] if text.startswith(prefix) else text


def _context_key(options: RunOptions) -> str:
    selection = options.selection
    return "|".join(
        [
            options.settings.key(),
            ",".join(selection.select),
            ",".join(selection.ignore),
            str(options.fix),
            table_fingerprint(),
        ]
    )


def process_file(path: Path, target_path: Path | None, options: RunOptions, module: str = "") -> FileReport:
    """Analyse one file; with options.write, plan writing the result to target_path (in place when
    equal): `run` writes every planned file of the run together, or none.

    A file that cannot be handled is never modified; under --out it is copied byte for byte."""
    report, new_raw = _report_for(path, options, module)
    if options.want_diff and new_raw is not None and report.status == "changed":
        report.diff = _diff(path.read_bytes(), new_raw, report.path)
    if options.write and target_path is not None:
        if report.status == "changed" and new_raw is not None:
            report.planned = PlannedWrite(target_path, data=new_raw, mode=_mode_of(path))
        elif target_path != path and path.is_file():
            report.planned = PlannedWrite(target_path, copy_from=path)
    return report


def _mode_of(path: Path) -> int | None:
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return None


def _report_for(path: Path, options: RunOptions, module: str) -> tuple[FileReport, bytes | None]:
    display = _display(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return FileReport(
                display, "failed", error=f"too large ({size / 1024 / 1024:.1f} MiB; limit 10 MiB)"
            ), None
        raw = path.read_bytes()
    except OSError as error:
        return FileReport(display, "failed", error=f"cannot read: {error.strerror or error}"), None
    cache = ResultCache(options.cache_dir, _context_key(options))
    key = cache.key(module.encode() + b"\0" + raw)
    cached = cache.get(key)
    if cached is not None:
        report, new_raw = _from_cache(display, cached)
        if still_current(report.others):  # template files it read are unchanged too
            return report, new_raw
    report, new_raw = _analyse(path, raw, options, module)
    cache.put(key, _to_cache(report, new_raw))
    return report, new_raw


def _analyse(path: Path, raw: bytes, options: RunOptions, module: str) -> tuple[FileReport, bytes | None]:
    display = _display(path)
    if not raw.strip():
        return FileReport(display, "unchanged"), None
    try:
        source = decode_source(path, raw)
        analysis = analyse(
            source.text,
            _rules(options),
            load_table(),
            options.settings,
            options.selection,
            fix=options.fix,
            path=str(path),
            module=module,
        )
    except (UnreadableSource, SyntaxProblem) as problem:
        return FileReport(display, "failed", error=str(problem)), None
    except RecursionError:
        return FileReport(display, "failed", error="too deeply nested to analyse"), None
    changed = analysis.text != source.text
    new_raw: bytes | None = None
    if changed:
        try:
            new_raw = source.encode(analysis.text)
        except UnicodeEncodeError as error:
            return FileReport(
                display, "failed", error=f"fixed text cannot be written as {source.encoding}: {error}"
            ), None
    problems = [Problem.of(f) for f in analysis.findings if f.other_file is None]
    others: dict[str, OtherFile] = {}
    for finding in analysis.findings:
        if finding.other_file is not None:
            other = others.get(finding.other_file)
            if other is None:
                other = others[finding.other_file] = OtherFile(None, digest_of(finding.other_file) or "")
            if finding.other_text is not None:
                other.text = finding.other_text
            other.problems.append(Problem.of(finding))
    for read in analysis.read_files:  # read without a finding: tracked only, so the cache sees its changes
        others.setdefault(read, OtherFile(None, digest_of(read) or ""))
    needed = analysis.requirements
    if not options.fix:  # scan: what the fixes would bring in, plus what the file imports already
        needed = {r for f in analysis.findings for r in f.requirements} | analysis.imported
    requirements = sorted({(r.distribution, r.min_version) for r in needed}, key=str)
    if not options.fix:  # scan: a file "needs change" when any finding has a fix
        changed = any(f.fixable for f in analysis.findings)
    if analysis.not_compiling:
        # Never call a file fine that does not compile; a failed file is left as it is (copied under --out).
        for reported in problems:
            reported.fixed = False
        return FileReport(
            display,
            "failed",
            problems=problems,
            error="; ".join(analysis.not_compiling),
            source_version=analysis.source_version,
            dropped=analysis.dropped,
        ), None
    report = FileReport(
        display,
        "changed" if changed else "unchanged",
        problems=problems,
        source_version=analysis.source_version,
        requirements=requirements,
        dropped=analysis.dropped,
        others=others,
        dag_ids=analysis.dag_ids,
    )
    return report, new_raw


_RULES_BY_SELECTION: dict[Selection, list[Any]] = {}


def _rules(options: RunOptions) -> list[Any]:
    rules = _RULES_BY_SELECTION.get(options.selection)
    if rules is None:
        rules = _RULES_BY_SELECTION[options.selection] = options.selection.rules()
    return rules


def _to_cache(report: FileReport, new_raw: bytes | None) -> dict[str, Any]:
    return {
        "status": report.status,
        "error": report.error,
        "source_version": report.source_version,
        "problems": [vars(p) for p in report.problems],
        "requirements": report.requirements,
        "dropped": report.dropped,
        "dag_ids": report.dag_ids,
        "new": new_raw.decode("latin-1") if new_raw is not None else None,
        "others": {
            path: {"text": other.text, "digest": other.digest, "problems": [vars(p) for p in other.problems]}
            for path, other in report.others.items()
        },
    }


def _from_cache(display: str, data: dict[str, Any]) -> tuple[FileReport, bytes | None]:
    report = FileReport(
        display,
        data["status"],
        problems=[Problem(**p) for p in data["problems"]],
        error=data["error"],
        source_version=data["source_version"],
        requirements=[(r[0], r[1]) for r in data["requirements"]],
        dropped=data["dropped"],
        dag_ids=[(dag_id, line) for dag_id, line in data.get("dag_ids", [])],
        cached=True,
        others={
            path: OtherFile(other["text"], other["digest"], [Problem(**p) for p in other["problems"]])
            for path, other in data.get("others", {}).items()
        },
    )
    new = data.get("new")
    return report, new.encode("latin-1") if new is not None else None


def _diff(old: bytes, new: bytes, display: str) -> str:
    old_lines = old.decode("utf-8", errors="replace").splitlines(keepends=True)
    new_lines = new.decode("utf-8", errors="replace").splitlines(keepends=True)
    lines = difflib.unified_diff(old_lines, new_lines, f"a/{display}", f"b/{display}")
    return "".join(line if line.endswith(("\n", "\r")) else line + "\n" for line in lines)


def _worker(args: tuple[str, str | None, RunOptions, str]) -> FileReport:
    path, target, options, module = args
    return process_file(Path(path), Path(target) if target else None, options, module)


_GC_THRESHOLD = (50_000, 20, 20)


def _tune_gc() -> None:
    """Syntax trees are many small, short-lived objects that never form cycles worth chasing; the
    default gen-0 threshold (700) makes the collector run thousands of times per file."""
    gc.set_threshold(*_GC_THRESHOLD)


def run(
    discovery: Discovery,
    options: RunOptions,
    progress: Callable[[int], None] | None = None,
    commit: bool = True,
) -> RunResult:
    """Process every discovered file; reports come back in the order of the files.

    With options.write the files are written all together or not at all (see transaction.py); with
    commit=False they are only planned, in result.writes, for the caller to add its own and apply."""
    started = time.perf_counter()
    modules = [module_name(root, path) for root, path in discovery.python]
    factories = find_subdag_factories(discovery, modules)
    if factories:
        options = dataclasses.replace(
            options, settings=dataclasses.replace(options.settings, subdag_factories=factories)
        )
    jobs: list[tuple[str, str | None, RunOptions, str]] = []
    for (root, path), module in zip(discovery.python, modules, strict=True):
        target = str(_target(root, path, options)) if options.write else None
        jobs.append((str(path), target, options, module))
    reports: list[FileReport] = []
    workers = options.jobs or os.cpu_count() or 1
    previous_gc = gc.get_threshold()
    _tune_gc()
    try:
        _run_jobs(jobs, workers, reports, progress)
    finally:
        gc.set_threshold(*previous_gc)
    for path, reason in discovery.problems:
        reports.append(FileReport(_display(path), "failed", error=reason))
    writes = [report.planned for report in reports if report.planned is not None]
    copied = 0
    if options.write and options.out_dir is not None:
        for root, path in discovery.other:
            writes.append(PlannedWrite(options.out_dir / relative_out(root, path), copy_from=path))
            copied += 1
    reports.extend(_other_file_reports(reports, discovery, options, writes))
    if options.selection.accepts(DUPLICATE_DAG_ID.code):
        _report_duplicate_dag_ids(reports)
    if not options.write:  # scan --diff and fix --check computed fixes but wrote nothing: none is "fixed"
        for report in reports:
            for problem in report.problems:
                problem.fixed = False
    result = RunResult(
        files=reports,
        elapsed=time.perf_counter() - started,
        copied=copied,
        writes=writes,
        target=options.settings.target,
    )
    if commit and writes:
        apply(writes)
    return result


def _report_duplicate_dag_ids(reports: list[FileReport]) -> None:
    """AS351: a literal DAG id defined in two places of the run (two files, or twice in one)."""
    places: dict[str, list[tuple[FileReport, int]]] = {}
    for report in reports:
        for dag_id, line in report.dag_ids:
            places.setdefault(dag_id, []).append((report, line))
    for dag_id, where in places.items():
        if len(where) < 2:
            continue
        for report, line in where:
            others = ", ".join(f"{r.path}:{n}" for r, n in where if (r, n) != (report, line))
            report.problems.append(
                Problem(
                    code=DUPLICATE_DAG_ID.code,
                    message=f"DAG id {dag_id!r} is also defined at {others}: Airflow 3 rejects the duplicate",
                    line=line,
                    col=1,
                    category=DUPLICATE_DAG_ID.category.value,
                    fixable=False,
                    fixed=False,
                )
            )


def _other_file_reports(
    reports: list[FileReport], discovery: Discovery, options: RunOptions, writes: list[PlannedWrite]
) -> list[FileReport]:
    """One report per template file the DAG files' findings touched, written once when fixing."""
    merged: dict[str, list[OtherFile]] = {}
    for report in reports:
        for path, other in report.others.items():
            merged.setdefault(path, []).append(other)
    results: list[FileReport] = []
    for path, versions in sorted(merged.items()):
        problems: dict[tuple[object, ...], Problem] = {}
        for other in versions:
            for problem in other.problems:
                assert isinstance(problem, Problem)
                problems.setdefault((problem.code, problem.line, problem.col, problem.message), problem)
        texts = {other.text for other in versions if other.text is not None}
        if not problems and not texts:
            continue  # read and fine: nothing to report
        report = FileReport(
            _display(Path(path)), "changed" if texts else "unchanged", list(problems.values())
        )
        if len(texts) > 1:
            report.status, report.error = (
                "failed",
                "DAGs using this template need different rewrites; left as it is",
            )
        elif texts and options.fix:
            text = texts.pop()
            if options.want_diff:
                report.diff = _diff(Path(path).read_bytes(), text.encode("utf-8"), report.path)
            if options.write:
                target = target_for(Path(path), discovery, options.out_dir)
                if target is None:
                    report.status, report.error = (
                        "failed",
                        "outside the folders given, so --out cannot hold it",
                    )
                else:
                    writes.append(PlannedWrite(target, text.encode("utf-8"), mode=_mode_of(Path(path))))
                    for problem in report.problems:
                        problem.fixed = problem.fixable
        results.append(report)
    return results


def _run_jobs(
    jobs: list[tuple[str, str | None, RunOptions, str]],
    workers: int,
    reports: list[FileReport],
    progress: Callable[[int], None] | None,
) -> None:
    if workers > 1 and len(jobs) >= PARALLEL_FROM:
        # imported here: a pre-commit run of a few files never starts a pool
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers, initializer=_tune_gc) as pool:
            for report in pool.map(_worker, jobs, chunksize=max(1, len(jobs) // (workers * 8))):
                reports.append(report)
                if progress:
                    progress(1)
    else:
        for job in jobs:
            reports.append(_worker(job))
            if progress:
                progress(1)


def _target(root: Root, path: Path, options: RunOptions) -> Path:
    if options.out_dir is None:
        return path
    return options.out_dir / relative_out(root, path)


def needs_change(result: RunResult) -> bool:
    """True when a file would change (scan, --check), was changed (fix), or still has a fix not applied."""
    return any(
        report.status == "changed"
        or any(p.fixable and not p.fixed and p.category != Category.INFO.value for p in report.problems)
        for report in result.files
    )


def needs_a_person(result: RunResult) -> bool:
    """True when a required or behaviour finding has no fix: a person must act (these fail with --strict)."""
    serious = (Category.REQUIRED.value, Category.BEHAVIOUR.value)
    return any(
        not p.fixable and not p.fixed and p.category in serious
        for report in result.files
        for p in report.problems
    )
