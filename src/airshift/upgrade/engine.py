"""The upgrade engine: parse, let rules find problems and propose edits, apply, re-parse, repeat.

A pass runs every selected rule on the current text. Edits of different findings that overlap are not
applied together: the later finding waits for the next pass, which sees the text the earlier one made.
A finding whose edits would break parsing or compiling (a repeated keyword parses but does not compile) is
dropped and reported. Passes repeat until no rule has an edit (a fixed point), so a second run on the output
makes no edits. A text that does not compile, before or after fixing, is never called fine: `not_compiling`
says why, and the runner reports the file as failed.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from airshift.upgrade.context import FileContext, Settings
from airshift.upgrade.dag_calls import dag_ids
from airshift.upgrade.imports_insert import plan_import_edits
from airshift.upgrade.model import Edit, Finding, Requirement
from airshift.upgrade.moves import MoveTable, newer
from airshift.upgrade.names import ImportTable
from airshift.upgrade.other_files import TEMPLATE_FILES_READ
from airshift.upgrade.registry import Rule, Selection
from airshift.upgrade.rule_gates import acting_codes
from airshift.upgrade.source import LineIndex
from airshift.upgrade.source_version import detect_source_version
from airshift.upgrade.versions import Version

MAX_PASSES = 10


@dataclass
class Analysis:
    """What the engine made of one text."""

    text: str  # the final text (equal to the input when nothing was fixed)
    findings: list[Finding] = field(default_factory=list)
    source_version: str = "2"
    dropped: list[str] = field(default_factory=list)  # fixes not applied, with the reason
    imported: set[Requirement] = field(default_factory=set)  # providers the final text imports
    # Why the text does not compile: the input's own problem, or fixes that were dropped because they would
    # have broken compiling. Empty when the final text compiles.
    not_compiling: list[str] = field(default_factory=list)
    dag_ids: list[tuple[str, int]] = field(default_factory=list)  # literal DAG ids, compared across files
    read_files: set[str] = field(default_factory=set)  # template files the rules read (for the cache)

    @property
    def requirements(self) -> set[Requirement]:
        """Distributions the (fixed) file needs: those its fixes brought in and those it imports."""
        needed = {r for f in self.findings for r in f.requirements if f.fixed or not f.fixable}
        by_name: dict[str, Requirement] = {}
        for requirement in [*needed, *self.imported]:  # the highest minimum wins, as in scan
            known = by_name.get(requirement.distribution)
            if known is None or (
                requirement.min_version is not None
                and (known.min_version is None or newer(requirement.min_version, known.min_version))
            ):
                by_name[requirement.distribution] = requirement
        return set(by_name.values())


def provider_requirements(imports: ImportTable, table: MoveTable) -> set[Requirement]:
    """Every provider distribution a file's (unguarded) imports need."""
    found: set[Requirement] = set()
    for binding in imports.all_bindings:
        if binding.guarded:
            continue
        name = binding.qualified
        if isinstance(binding.statement, ast.Import) and not binding.alias.asname:
            name = binding.alias.name
        if name.startswith("airflow.providers."):
            requirement = table.requirement(name)
            if requirement is not None:
                found.add(requirement)
    return found


class SyntaxProblem(Exception):
    """The input does not parse; the message names the line and a likely reason."""


def parse(text: str, path: str = "<string>") -> ast.Module:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences in user code are not our business
            return ast.parse(text, filename=path)
    except SyntaxError as error:
        message = error.msg or "invalid syntax"
        if "Missing parentheses in call to 'print'" in message or "print" in (error.text or "").split("(")[0]:
            message += " (this looks like a Python 2 file)"
        raise SyntaxProblem(f"syntax error at line {error.lineno}: {message}") from None
    except (ValueError, RecursionError, MemoryError) as error:
        raise SyntaxProblem(f"cannot parse: {error}") from None


def _run_rules(ctx: FileContext, rules: Sequence[Rule], codes: frozenset[str]) -> list[Finding]:
    """Findings of the codes that are on: selected, and acting on this target and source generation."""
    findings: list[Finding] = []
    for rule in rules:
        for finding in rule.check(ctx):
            if finding.code in codes:
                findings.append(finding)
    return findings


_ACTING: dict[tuple[object, ...], tuple[list[Rule], frozenset[str]]] = {}


def _acting(
    rules: Sequence[Rule], selection: Selection, target: Version, source: str
) -> tuple[list[Rule], frozenset[str]]:
    """The rules to run on one file and the codes they may report there (the central version gate). The
    answer depends on nothing in the file but its source generation, so a run computes it once or twice."""
    key = (tuple(rules), selection, target, source)
    known = _ACTING.get(key)
    if known is None:
        known = _ACTING[key] = _acting_now(rules, selection, target, source)
    return known[0], known[1]


def _acting_now(
    rules: Sequence[Rule], selection: Selection, target: Version, source: str
) -> tuple[list[Rule], frozenset[str]]:
    metas = [meta for rule in rules for meta in rule.metas if selection.accepts(meta.code)]
    codes = acting_codes(metas, target, source)
    return [rule for rule in rules if any(meta.code in codes for meta in rule.metas)], codes


def _overlaps(edit: Edit, taken: list[Edit]) -> bool:
    for other in taken:
        if edit.start < other.end and other.start < edit.end:
            return True
        if edit.start == edit.end == other.start == other.end:
            return True  # two insertions at one point: order would be arbitrary
        if edit.start == edit.end and other.start < edit.start < other.end:
            return True
        if other.start == other.end and edit.start < other.start < edit.end:
            return True
    return False


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits in one reverse pass."""
    parts: list[str] = []
    cursor = len(text)
    for edit in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        parts.append(text[edit.end : cursor])
        parts.append(edit.text)
        cursor = edit.start
    parts.append(text[:cursor])
    return "".join(reversed(parts))


def _map_back(offset: int, edits: list[Edit]) -> int:
    """Map an offset in the edited text to the text before `edits` were applied."""
    shift = 0
    for edit in sorted(edits, key=lambda e: e.start):
        new_start = edit.start + shift
        new_end = new_start + len(edit.text)
        if offset < new_start:
            break
        if offset < new_end:
            return edit.start
        shift += len(edit.text) - (edit.end - edit.start)
    return offset - shift


def compile_problem(tree: ast.Module, path: str = "<string>") -> str | None:
    """Why a parsed module does not compile (repeated keywords, `return` outside a function...), or None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(tree, path, "exec", dont_inherit=True)
    except SyntaxError as error:
        return f"line {error.lineno}: {error.msg}"
    except (ValueError, RecursionError, MemoryError) as error:
        return f"cannot compile: {error}"
    return None


def _repeated_names(ctx: FileContext) -> str | None:
    """The compile errors a parse does not catch that DAG files have in practice: a keyword argument or a
    parameter given twice. Same wording as the compiler's."""
    for call in ctx.nodes.calls:
        if len(call.keywords) > 1:
            seen: set[str] = set()
            for item in call.keywords:
                if item.arg is not None:
                    if item.arg in seen:
                        return f"line {item.lineno}: keyword argument repeated: {item.arg}"
                    seen.add(item.arg)
    for function in ctx.nodes.functions:
        args = function.args
        names = [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]]
        names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
        if len(set(names)) != len(names):
            repeated = next(n for n in names if names.count(n) > 1)
            return f"line {function.lineno}: duplicate argument '{repeated}' in function definition"
    return None


def _problem(text: str) -> str | None:
    """Why a text does not parse or compile, or None when it does both."""
    try:
        tree = parse(text)
    except SyntaxProblem as problem:
        return str(problem)
    return compile_problem(tree)


def _units(findings: list[Finding]) -> list[list[Finding]]:
    """Findings that share a group (one import statement rewritten for several names) form one unit."""
    units: list[list[Finding]] = []
    grouped: dict[int, list[Finding]] = {}
    for finding in findings:
        if not finding.edits and finding.group is None:
            continue
        if finding.group is None:
            units.append([finding])
        elif finding.group in grouped:
            grouped[finding.group].append(finding)
        else:
            grouped[finding.group] = [finding]
            units.append(grouped[finding.group])
    return [unit for unit in units if any(f.edits for f in unit)]


def _choose(findings: list[Finding], allow_unsafe: bool) -> tuple[list[Finding], list[Edit]]:
    """Pick units of findings whose edits do not overlap one another, in source order."""
    chosen: list[Finding] = []
    taken: list[Edit] = []
    units = _units(findings)
    units.sort(key=lambda unit: min(e.start for f in unit for e in f.edits))
    for unit in units:
        if not allow_unsafe and any(f.unsafe for f in unit):
            continue
        edits = list(dict.fromkeys(e for f in unit for e in f.edits))
        if any(_overlaps(edit, taken) for edit in edits):
            continue
        chosen.extend(unit)
        taken.extend(edits)
    return chosen, taken


def analyse(
    text: str,
    rules: Sequence[Rule],
    table: MoveTable,
    settings: Settings,
    selection: Selection,
    fix: bool,
    path: str = "<string>",
    module: str = "",
) -> Analysis:
    """Find (and with `fix`, repair) everything the rules know about in one file's text."""
    tree = parse(text, path)  # even files without Airflow: a syntax error is worth reporting
    if "airflow" not in text:
        return Analysis(text=text)  # rules only concern files that use Airflow
    imports = ImportTable(tree)
    source_version = detect_source_version((s for s, _, _ in imports.statements), settings.source)
    first_imports: ImportTable | None = imports  # the first pass reuses it; later passes build their own
    analysis = Analysis(text=text, source_version=source_version)
    history: list[list[Edit]] = []  # edits applied in each pass, to map positions back to the input
    original_lines: LineIndex | None = None  # built on first use: only later-pass findings need it
    current, current_tree = text, tree
    # Findings about template files carry the new file text instead of edits; they are kept from the pass
    # that made them, since a later pass may no longer see the DAG-file text that led to them.
    other_files: dict[tuple[object, ...], Finding] = {}
    # The input's own compile problem is reported (and edits are then not blamed for it). Compiling every
    # file would cost a scan about a tenth of its time, so the first pass checks the compile errors DAG
    # code actually has (repeated keywords, repeated parameters) on the tree it walks anyway. `fix`
    # compiles every text it would write, and compiles the input only when that tells something: an
    # output that does not compile (were the edits to blame?), a file it did not edit, or a repeated name
    # (then in the compiler's own words). Left unknown: an input whose other compile error the edits
    # removed, which would need a rule deleting an `await` or `return` at module level.
    input_problem: str | None = None
    input_known = not fix  # whether input_problem is settled (for fix: the input was compiled)
    compiles = True  # the input compiles, as far as is known: outputs must then compile too
    refused: set[tuple[object, ...]] = set()  # fixes dropped for breaking the file: report-only from then on
    first_pass = True
    rules, codes = _acting(rules, selection, settings.target, source_version)
    for _ in range(MAX_PASSES):
        ctx = FileContext(
            current, current_tree, settings, table, source_version, path, first_imports, module, codes
        )
        first_imports = None
        findings = _run_rules(ctx, rules, codes)
        for finding in findings:
            if finding.edits and _signature(finding) in refused:
                finding.edits = ()
        analysis.dag_ids = dag_ids(ctx)
        read: set[str] = ctx.memo(TEMPLATE_FILES_READ, set)
        analysis.read_files |= read
        if first_pass:
            first_pass = False
            input_problem = _repeated_names(ctx)
            if fix and input_problem is not None:
                input_problem, input_known = compile_problem(tree, path), True
            if input_problem is not None:
                compiles = False
                analysis.not_compiling.append(f"the file does not compile: {input_problem}")
        if not fix:
            analysis.findings = sorted(findings, key=lambda f: (f.line, f.col, f.code))
            analysis.imported = provider_requirements(ctx.imports, table)
            return analysis
        for finding in findings:
            if finding.other_file is not None:
                key = (finding.other_file, finding.code, finding.line, finding.col, finding.message)
                other_files.setdefault(key, finding)
        findings = [f for f in findings if f.other_file is None]
        chosen, edits = _choose(findings, settings.allow_unsafe)
        if not chosen:
            analysis.findings.extend(f for f in findings if not f.edits)
            for finding in findings:
                if finding.edits:  # edits that never fitted: report, do not loop forever
                    analysis.dropped.append(f"line {finding.line}: {finding.code} fix could not be applied")
            break
        import_edits = plan_import_edits(ctx, [spec for f in chosen for spec in f.imports], edits)
        new_text = apply_edits(current, [*edits, *import_edits])
        try:
            new_tree = parse(new_text, path)
            problem = compile_problem(new_tree, path) if compiles else None
            if problem is not None and not input_known:
                input_problem, input_known = compile_problem(tree, path), True
                if input_problem is not None:  # the input does not compile either: the edits are not to blame
                    compiles, problem = False, None
                    analysis.not_compiling.insert(0, f"the file does not compile: {input_problem}")
        except SyntaxProblem as error:
            problem = str(error)
        if problem is not None:
            # Rare: find the fixes that break parsing or compiling, drop them, and try the rest once more.
            chosen, edits = _drop_breaking(current, chosen, analysis, refused, check_compile=compiles)
            import_edits = plan_import_edits(ctx, [spec for f in chosen for spec in f.imports], edits)
            new_text = apply_edits(current, [*edits, *import_edits])
            try:
                new_tree = parse(new_text, path)
                problem = compile_problem(new_tree, path) if compiles else None
            except SyntaxProblem as error:
                problem = str(error)
            if problem is not None or not chosen:
                if problem is not None:
                    analysis.dropped.append(
                        f"fixes of this pass were not applied: they would cause: {problem}"
                    )
                    analysis.not_compiling.append(f"the fixes of one pass would break the file ({problem})")
                analysis.findings.extend(f for f in findings if not f.edits)
                break
        for finding in chosen:
            finding.fixed = True
            if history:
                original_lines = original_lines or LineIndex(text)
                _place(finding, history, original_lines)
            analysis.findings.append(finding)
        history.append([*edits, *import_edits])
        if new_text == current:
            break  # nothing changed: a rule proposed a no-op edit; stop rather than loop
        current, current_tree = new_text, new_tree
    else:
        analysis.dropped.append(f"stopped after {MAX_PASSES} passes; the result may still need another run")
    if not input_known and not history:  # nothing edited: the input's own compile problem is the report
        input_problem = compile_problem(tree, path)
        if input_problem is not None:
            analysis.not_compiling.insert(0, f"the file does not compile: {input_problem}")
    analysis.findings.extend(other_files.values())
    analysis.text = current
    # The last pass read the final text unless the pass limit stopped the loop after an edit.
    final_imports = ctx.imports if ctx.tree is current_tree else ImportTable(current_tree)
    analysis.imported = provider_requirements(final_imports, table)
    analysis.findings.sort(key=lambda f: (not f.fixed, f.line, f.col, f.code))
    return analysis


def _place(finding: Finding, history: list[list[Edit]], original: LineIndex) -> None:
    """Give a finding made in a later pass its position in the original text."""
    if not history:
        return
    offset = finding.offset
    for edits in reversed(history):
        offset = _map_back(offset, edits)
    finding.offset = offset
    line = original.line_of(offset)
    finding.line = line
    finding.col = offset - original.line_start(line) + 1


def _signature(finding: Finding) -> tuple[object, ...]:
    """What identifies a fix across passes (offsets move as other fixes apply; code, message and new text
    do not)."""
    return (finding.code, finding.message, tuple(e.text for e in finding.edits))


def _drop_breaking(
    text: str,
    chosen: list[Finding],
    analysis: Analysis,
    refused: set[tuple[object, ...]],
    check_compile: bool,
) -> tuple[list[Finding], list[Edit]]:
    """Keep the units of findings whose edits, added one unit at a time, leave the file parseable (and
    compilable)."""

    def edits_of(findings: list[Finding]) -> list[Edit]:
        return list(dict.fromkeys(e for f in findings for e in f.edits))

    def problem_of(findings: list[Finding]) -> str | None:
        new_text = apply_edits(text, edits_of(findings))
        if check_compile:
            return _problem(new_text)
        try:
            parse(new_text)
        except SyntaxProblem as error:
            return str(error)
        return None

    kept: list[Finding] = []
    for unit in _units(chosen):  # greedy, in source order: two fixes may each be fine and break together
        problem = problem_of([*kept, *unit])
        if problem is None:
            kept.extend(unit)
            continue
        for finding in unit:
            message = f"line {finding.line}: {finding.code} fix dropped: it would break the file ({problem})"
            analysis.dropped.append(message)
            analysis.not_compiling.append(message)
            refused.add(_signature(finding))
            finding.edits = ()
    return kept, edits_of(kept)
