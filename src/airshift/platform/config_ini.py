"""airflow.cfg read and rewritten line by line, so comments, blank lines and order survive.

configparser would lose every comment and normalise the layout; Airflow's own `config update --fix`
rewrites the whole file for that reason. Here an option is its `key = value` line plus any indented
continuation lines, and the rewrite touches only the lines of options that change."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from airshift.errors import AirshiftError
from airshift.platform.config_plan import Entry, Plan, show

_SECTION = re.compile(r"^\[(?P<name>[^\]]+)\]\s*(?:[#;].*)?$")
_OPTION = re.compile(r"^(?P<key>[^\s#;\[=:][^=:]*?)(?P<sep>\s*[=:]\s*)(?P<value>.*?)(?P<eol>\r?\n)?$")


@dataclass
class _Option:
    section: str
    key: str
    sep: str
    value_lines: list[str]  # first: the value text after the separator; then continuation lines
    start: int
    end: int  # exclusive line index


@dataclass
class IniDocument:
    lines: list[str]
    options: list[_Option] = field(default_factory=list)
    sections: dict[str, tuple[int, int]] = field(default_factory=dict)  # lower name -> header, end
    section_names: dict[str, str] = field(default_factory=dict)  # lower -> as written

    def entries(self) -> list[Entry]:
        return [
            Entry(option.section, option.key, _value_text(option), index)
            for index, option in enumerate(self.options)
        ]


def _value_text(option: _Option) -> str:
    """The value as Airflow reads it: airflow.cfg is interpolated, so `%%` stands for `%`."""
    first, *rest = option.value_lines
    raw = "\n".join([first.rstrip("\r\n"), *(line.strip() for line in rest)]).strip()
    return raw.replace("%%", "%")


def parse_ini(text: str, name: str) -> IniDocument:
    lines = text.splitlines(keepends=True)
    document = IniDocument(lines)
    section: str | None = None
    current: _Option | None = None
    for index, line in enumerate(lines):
        stripped = line.strip()
        if (
            current is not None
            and line[:1] in (" ", "\t")
            and stripped
            and not stripped.startswith(("#", ";"))
        ):
            current.value_lines.append(line)
            current.end = index + 1
            continue
        current = None
        if not stripped or stripped.startswith(("#", ";")):
            continue
        header = _SECTION.match(stripped)
        if header:
            section = header["name"].strip()
            lower = section.lower()
            if lower in document.sections:
                raise AirshiftError(f"{name}: line {index + 1}: section [{section}] appears twice")
            document.sections[lower] = (index, len(lines))
            document.section_names[lower] = section
            if len(document.sections) > 1:
                previous = list(document.sections)[-2]
                document.sections[previous] = (document.sections[previous][0], index)
            continue
        match = _OPTION.match(line)
        if match is None or section is None:
            raise AirshiftError(
                f"{name}: line {index + 1}: not a section header, option or comment: {stripped[:40]!r}"
            )
        current = _Option(section, match["key"].strip(), match["sep"], [match["value"]], index, index + 1)
        document.options.append(current)
    return document


def _section_end(lines: list[str], header: int, end: int) -> int:
    """Insert point for new options: after the last non-blank line of the section."""
    position = end
    while position > header + 1 and not lines[position - 1].strip():
        position -= 1
    return position


def apply_ini(document: IniDocument, plan: Plan, secrets_note: str | None) -> str:
    """The rewritten file text."""
    newline = "\r\n" if document.lines and document.lines[0].endswith("\r\n") else "\n"
    replaced: dict[int, list[str]] = {}  # first line index -> replacement lines (option removed/rewritten)
    dropped: set[int] = set()
    appended: dict[str, list[str]] = {}  # lower section -> lines to add at its end
    for fate in plan.fates:
        option = document.options[fate.entry.ref]
        if not fate.changed:
            continue
        for index in range(option.start, option.end):
            dropped.add(index)
        if fate.key is None:
            why = fate.steps[-1].why if fate.steps else "removed"
            replaced[option.start] = [f"# airshift: removed {show(fate.entry.key)}: {why}{newline}"]
            continue
        text = _option_lines(fate.key[1], option, fate.value, newline)
        if fate.key[0] == option.section.lower():
            replaced[option.start] = text
        else:
            replaced[option.start] = [
                f"# airshift: {show(fate.entry.key)} moved to {show(fate.key)}{newline}"
            ]
            appended.setdefault(fate.key[0], []).extend(
                [f"# airshift: moved from {show(fate.entry.key)}{newline}", *text]
            )
    for addition in plan.additions:
        if addition.secret:
            continue
        appended.setdefault(addition.key[0], []).extend(
            [
                f"# airshift: added: {addition.why}{newline}",
                f"{addition.key[1]} = {addition.value.replace('%', '%%')}{newline}",
            ]
        )
    if secrets_note:
        for addition in plan.additions:
            if addition.secret:
                appended.setdefault(addition.key[0], []).append(
                    f"# airshift: {addition.key[1]} is set from {secrets_note}{newline}"
                )
    inserts: dict[int, list[str]] = {}
    new_sections: list[str] = []
    for section, lines in appended.items():
        if section in document.sections:
            header, end = document.sections[section]
            inserts.setdefault(_section_end(document.lines, header, end), []).extend(lines)
        else:
            new_sections.extend([newline, f"[{section}]{newline}", *lines])
    out: list[str] = []
    for index, line in enumerate(document.lines):
        out.extend(inserts.get(index, []))
        if index in replaced:
            out.extend(replaced[index])
        if index in dropped:
            continue
        out.append(line)
    out.extend(inserts.get(len(document.lines), []))
    if new_sections:
        if out and not out[-1].endswith("\n"):
            out[-1] += newline
        out.extend(new_sections)
    return "".join(out)


def _option_lines(key: str, option: _Option, value: str, newline: str) -> list[str]:
    if value == _value_text(option):
        return [f"{key}{option.sep}{option.value_lines[0]}{newline}", *option.value_lines[1:]]
    value_lines = value.replace("%", "%%").split("\n")
    return [f"{key}{option.sep}{value_lines[0]}{newline}", *(f"    {v}{newline}" for v in value_lines[1:])]
