"""Env files (`AIRFLOW__SECTION__OPTION=value`, as docker compose, systemd and shells read them).

Only the variable name changes when an option moves; the value text, quoting, comments, `export`
prefixes and every other line stay as written. `_CMD` and `_SECRET` variants move with their option."""

from __future__ import annotations

import re
from dataclasses import dataclass

from airshift.platform.config_plan import Entry, Plan, show
from airshift.platform.config_tables import Key, Tables

_ASSIGNMENT = re.compile(
    r"^(?P<indent>\s*)(?P<export>export\s+)?(?P<name>AIRFLOW__[A-Za-z0-9_]+?__[A-Za-z0-9_]+)"
    r"(?P<sep>\s*=\s*)(?P<value>.*?)(?P<eol>\r?\n)?$"
)
_SUFFIXES = ("_CMD", "_SECRET")


@dataclass
class _Variable:
    line: int
    section: str
    option: str
    suffix: str  # "", "_CMD" or "_SECRET"
    value: str


@dataclass
class EnvDocument:
    lines: list[str]
    variables: list[_Variable]

    def entries(self) -> list[Entry]:
        return [
            Entry(variable.section, variable.option, variable.value, index)
            for index, variable in enumerate(self.variables)
        ]


def env_name(key: Key, suffix: str = "") -> str:
    return f"AIRFLOW__{key[0].upper()}__{key[1].upper()}{suffix}"


def split_env_name(name: str, tables: Tables) -> tuple[str, str, str] | None:
    """`AIRFLOW__API_AUTH__JWT_SECRET` -> ("api_auth", "jwt_secret", ""): a known option wins over
    reading `_SECRET` as the secrets-backend suffix."""
    parts = name.split("__")
    if len(parts) != 3 or parts[0] != "AIRFLOW" or not parts[1] or not parts[2]:
        return None
    section, option = parts[1].lower(), parts[2].lower()
    known = {key for release in tables.releases.values() for key in release.options}
    if (section, option) not in known:
        for suffix in _SUFFIXES:
            stem = option[: -len(suffix)]
            if option.endswith(suffix.lower()) and (section, stem) in known:
                return section, stem, suffix
    return section, option, ""


def _unquote(value: str) -> str:
    text = value.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def parse_env(text: str, tables: Tables) -> EnvDocument:
    lines = text.splitlines(keepends=True)
    variables: list[_Variable] = []
    for index, line in enumerate(lines):
        match = _ASSIGNMENT.match(line)
        if match is None:
            continue
        parts = split_env_name(match["name"], tables)
        if parts is None:
            continue
        variables.append(_Variable(index, parts[0], parts[1], parts[2], _unquote(match["value"])))
    return EnvDocument(lines, variables)


def apply_env(document: EnvDocument, plan: Plan, secrets_note: str | None) -> str:
    newline = "\r\n" if document.lines and document.lines[0].endswith("\r\n") else "\n"
    out = list(document.lines)
    for fate in plan.fates:
        if not fate.changed:
            continue
        variable = document.variables[fate.entry.ref]
        line = out[variable.line]
        match = _ASSIGNMENT.match(line)
        assert match is not None  # parse_env matched this line
        if fate.key is None:
            why = fate.steps[-1].why if fate.steps else "removed"
            out[variable.line] = (
                f"# airshift: removed {match['name']} ({show(fate.entry.key)}): {why}{newline}"
            )
            continue
        value = match["value"] if fate.value == variable.value else _quote_like(match["value"], fate.value)
        out[variable.line] = (
            f"{match['indent']}{match['export'] or ''}{env_name(fate.key, variable.suffix)}"
            f"{match['sep']}{value}{match['eol'] or newline}"
        )
    if out and not out[-1].endswith("\n"):
        out[-1] += newline
    for addition in plan.additions:
        if addition.secret:
            if secrets_note:
                out.append(f"# airshift: {env_name(addition.key)} is in {secrets_note}{newline}")
            continue
        out.append(f"# airshift: added: {addition.why}{newline}")
        out.append(f"{env_name(addition.key)}={addition.value}{newline}")
    return "".join(out)


def _quote_like(original: str, value: str) -> str:
    text = original.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return f"{text[0]}{value}{text[0]}"
    return value
