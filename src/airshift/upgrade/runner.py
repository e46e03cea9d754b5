"""Running the engine over files: reading, caching, parallel workers, writing results in place or to --out."""

from __future__ import annotations

import dataclasses
import difflib
import gc
import os
import time
from collections.abc import Callable, Iterator
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
from airshift.upgrade.project import find_subdag_factories, module_names
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


@dataclass
class _Job:
    """One source file to analyse: its bytes are read once, by the main process, for the cache key."""

    path: Path
    target: Path | None
    module: str
    raw: bytes
    key: str


def _finish(
    report: FileReport,
    new_raw: bytes | None,
    path: Path,
    target: Path | None,
    raw: bytes,
    options: RunOptions,
) -> FileReport:
    """Add the diff and plan the write (in place, or under --out): `run` writes every planned file of the
    run together, or none. A file that cannot be handled (or read) is never modified; under --out it is
    copied byte for byte."""
    if options.want_diff and new_raw is not None and report.status == "changed":
        report.diff = _diff(raw, new_raw, report.path)
    if options.write and target is not None:
        target_path = target
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


def _read(path: Path) -> bytes | FileReport:
    """A source file's bytes, or the report of why it cannot be read. One open, one size question and
    reads on the descriptor: a warm scan reads every file of the estate, and pathlib's stat, open and
    buffered read cost it half as much again."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            size = os.fstat(fd).st_size
            if size <= MAX_FILE_BYTES:
                parts = [os.read(fd, size + 1)]  # normally all of it; the loop covers a file still growing
                size = len(parts[0])
                while parts[-1] and size <= MAX_FILE_BYTES:
                    parts.append(os.read(fd, 1 << 16))
                    size += len(parts[-1])
            if size > MAX_FILE_BYTES:
                return FileReport(
                    _display(path), "failed", error=f"too large ({size / 1024 / 1024:.1f} MiB; limit 10 MiB)"
                )
            return b"".join(parts)
        finally:
            os.close(fd)
    except OSError as error:
        return FileReport(_display(path), "failed", error=f"cannot read: {error.strerror or error}")


def _analyse_chunk(args: tuple[list[_Job], RunOptions]) -> list[FileReport]:
    """Analyse a chunk of files (in a worker, or in the main process for small runs) and append their
    results to the cache in one write per shard."""
    jobs, options = args
    cache = ResultCache(options.cache_dir, _context_key(options))
    reports: list[FileReport] = []
    entries: dict[str, dict[str, Any]] = {}
    for job in jobs:
        report, new_raw = _analyse(job.path, job.raw, options, job.module)
        entries[job.key] = _to_cache(report, new_raw)
        reports.append(_finish(report, new_raw, job.path, job.target, job.raw, options))
    cache.put_many(entries)
    return reports


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
        "problems": [_problem_row(p) for p in report.problems],
        "requirements": report.requirements,
        "dropped": report.dropped,
        "dag_ids": report.dag_ids,
        "new": new_raw.decode("latin-1") if new_raw is not None else None,
        "others": {
            path: {
                "text": other.text,
                "digest": other.digest,
                "problems": [_problem_row(p) for p in other.problems if isinstance(p, Problem)],
            }
            for path, other in report.others.items()
        },
    }


def _problem_row(problem: Problem) -> list[Any]:
    """A problem as a JSON array in Problem's field order: a warm scan parses tens of thousands of them,
    and the same nine keys repeated in every one made the cache a third larger and slower to read."""
    return [
        problem.code, problem.message, problem.line, problem.col, problem.category, problem.fixable,
        problem.fixed, problem.end_line, problem.requirements,
    ]  # fmt: skip


def _from_cache(display: str, data: dict[str, Any]) -> tuple[FileReport, bytes | None]:
    report = FileReport(
        display,
        data["status"],
        problems=[Problem(*row) for row in data["problems"]],
        error=data["error"],
        source_version=data["source_version"],
        requirements=[(r[0], r[1]) for r in data["requirements"]],
        dropped=data["dropped"],
        dag_ids=[(dag_id, line) for dag_id, line in data.get("dag_ids", [])],
        cached=True,
        others={
            path: OtherFile(other["text"], other["digest"], [Problem(*row) for row in other["problems"]])
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
    previous_gc = gc.get_threshold()
    _tune_gc()  # for the cached results read back too: tens of thousands of small objects
    try:
        return _run(discovery, options, progress, commit, started)
    finally:
        gc.set_threshold(*previous_gc)


def _run(
    discovery: Discovery,
    options: RunOptions,
    progress: Callable[[int], None] | None,
    commit: bool,
    started: float,
) -> RunResult:
    modules = module_names(discovery.python)
    reads = [_read(path) for _, path in discovery.python]  # each file is read once, here
    contents = {
        path: raw for (_, path), raw in zip(discovery.python, reads, strict=True) if isinstance(raw, bytes)
    }
    factories = find_subdag_factories(discovery, modules, contents)
    if factories:
        options = dataclasses.replace(
            options, settings=dataclasses.replace(options.settings, subdag_factories=factories)
        )
    reports = _reports(discovery, modules, reads, options, progress)
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


def _reports(
    discovery: Discovery,
    modules: list[str],
    reads: list[bytes | FileReport],
    options: RunOptions,
    progress: Callable[[int], None] | None,
) -> list[FileReport]:
    """One report per discovered source file, in order: cached results where the file (and every template
    file it read) is unchanged, the rest analysed, in worker processes when there are many."""
    cache = ResultCache(options.cache_dir, _context_key(options))
    reports: list[FileReport | None] = []
    jobs: list[tuple[int, _Job]] = []
    for (root, path), module, raw in zip(discovery.python, modules, reads, strict=True):
        target = _target(root, path, options) if options.write else None
        if isinstance(raw, FileReport):
            reports.append(_finish(raw, None, path, target, b"", options))
            continue
        jobs.append((len(reports), _Job(path, target, module, raw, cache.key(module.encode() + b"\0" + raw))))
        reports.append(None)
    cached = cache.lookup(job.key for _, job in jobs)
    misses: list[tuple[int, _Job]] = []
    for index, job in jobs:
        entry = cached.get(job.key)
        if entry is not None:
            report, new_raw = _from_cache(_display(job.path), entry)
            if still_current(report.others):  # template files it read are unchanged too
                reports[index] = _finish(report, new_raw, job.path, job.target, job.raw, options)
                continue
        misses.append((index, job))
    if progress:
        progress(len(reports) - len(misses))
    workers = options.jobs or os.cpu_count() or 1
    for (index, _), report in zip(
        misses, _analysed([job for _, job in misses], workers, options, progress), strict=True
    ):
        reports[index] = report
    return [report for report in reports if report is not None]


def _analysed(
    jobs: list[_Job], workers: int, options: RunOptions, progress: Callable[[int], None] | None
) -> Iterator[FileReport]:
    """The reports of `jobs`, in order."""
    if workers > 1 and len(jobs) >= PARALLEL_FROM:
        # imported here: a pre-commit run of a few files never starts a pool
        from concurrent.futures import ProcessPoolExecutor

        size = max(1, len(jobs) // (workers * 8))
        chunks = [(jobs[i : i + size], options) for i in range(0, len(jobs), size)]
        with ProcessPoolExecutor(max_workers=workers, initializer=_tune_gc) as pool:
            for reports in pool.map(_analyse_chunk, chunks):
                yield from reports
                if progress:
                    progress(len(reports))
    else:
        for job in jobs:  # one at a time, so the progress bar moves with each file
            yield from _analyse_chunk(([job], options))
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
