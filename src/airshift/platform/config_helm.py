"""Helm values for the official chart: the `config:` tree (rendered into airflow.cfg) and `env:` items.

ruamel.yaml's round-trip mode keeps comments, key order and quoting; a renamed option keeps its place
in its section, a moved one goes to the end of its new section. Templated values (`{{ ... }}`) are
left alone: the chart renders them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airshift.errors import AirshiftError
from airshift.platform.config_env import env_name, split_env_name
from airshift.platform.config_plan import Entry, Plan, show
from airshift.platform.config_tables import Tables

# Chart values that point at Kubernetes Secrets holding what airshift generates (names only).
SECRET_VALUE_NAMES = {
    ("api", "secret_key"): ("apiSecretKeySecretName", "apiSecretKey", "api-secret-key"),
    ("api_auth", "jwt_secret"): ("jwtSecretName", "jwtSecret", "jwt-secret"),
}


def yaml_round_trip() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    # Plain booleans come back as YAML's `true`/`false` (the chart's own spelling), which Airflow
    # reads as it reads True/False.
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


@dataclass
class HelmDocument:
    data: Any  # ruamel CommentedMap
    config_refs: list[tuple[str, str]]  # ref -> (section, option) as written
    env_refs: list[int]  # ref - len(config_refs) -> index in env list
    entries_list: list[Entry]

    def entries(self) -> list[Entry]:
        return self.entries_list


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return "" if value is None else str(value)


def parse_helm(text: str, name: str, tables: Tables) -> HelmDocument:
    from ruamel.yaml.error import YAMLError

    try:
        data = yaml_round_trip().load(text)
    except YAMLError as error:
        raise AirshiftError(f"{name}: not valid YAML: {str(error).splitlines()[0]}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise AirshiftError(f"{name}: Helm values must be a mapping at the top level")
    config = data.get("config") or {}
    if not isinstance(config, dict):
        raise AirshiftError(f"{name}: `config:` must be a mapping of sections")
    entries: list[Entry] = []
    refs: list[tuple[str, str]] = []
    for section, options in config.items():
        if not isinstance(options, dict):
            raise AirshiftError(f"{name}: config.{section} must be a mapping of options")
        for option, value in options.items():
            entries.append(Entry(str(section), str(option), _text(value), len(refs)))
            refs.append((str(section), str(option)))
    env_refs: list[int] = []
    env = data.get("env") or []
    if isinstance(env, list):
        for index, item in enumerate(env):
            if isinstance(item, dict) and isinstance(item.get("name"), str) and "value" in item:
                parts = split_env_name(item["name"], tables)
                if parts is not None and not parts[2]:
                    entries.append(Entry(parts[0], parts[1], _text(item["value"]), len(refs) + len(env_refs)))
                    env_refs.append(index)
    return HelmDocument(data, refs, env_refs, entries)


def apply_helm(document: HelmDocument, plan: Plan, secret_names: dict[str, str]) -> str:
    """Apply the plan in place; `secret_names` maps chart value names to Kubernetes Secret names."""
    from ruamel.yaml.comments import CommentedMap

    data = document.data
    config = data.get("config")
    env = data.get("env")
    removed_env: list[int] = []
    for fate in plan.fates:
        if not fate.changed:
            continue
        ref = fate.entry.ref
        if ref >= len(document.config_refs):
            index = document.env_refs[ref - len(document.config_refs)]
            if fate.key is None:
                removed_env.append(index)
            else:
                env[index]["name"] = env_name(fate.key)
                if fate.value != fate.entry.value:
                    env[index]["value"] = fate.value
            continue
        section, option = document.config_refs[ref]
        options = config[section]
        value = options[option]
        if fate.value != fate.entry.value:
            value = fate.value
        if fate.key is None:
            del options[option]
        elif fate.key[0] == section.lower():
            position = list(options).index(option)
            comment = options.ca.items.pop(option, None)  # the end-of-line comment stays with it
            del options[option]
            options.insert(position, fate.key[1], value)
            if comment is not None:
                options.ca.items[fate.key[1]] = comment
        else:
            del options[option]
            target = _section(config, fate.key[0])
            target[fate.key[1]] = value
            target.yaml_add_eol_comment(f"airshift: moved from {show(fate.entry.key)}", fate.key[1])
    for index in sorted(removed_env, reverse=True):
        del env[index]
    if isinstance(config, dict):
        for section in [s for s, options in config.items() if isinstance(options, dict) and not options]:
            del config[section]
    for addition in plan.additions:
        if addition.secret:
            continue
        if config is None:
            config = data["config"] = CommentedMap()
        target = _section(config, addition.key[0])
        target[addition.key[1]] = addition.value
        target.yaml_add_eol_comment(f"airshift: added ({addition.why})", addition.key[1])
    for value_name, secret_name in secret_names.items():
        data[value_name] = secret_name
        data.yaml_add_eol_comment("airshift: Kubernetes Secret written by config migrate", value_name)
    from io import StringIO

    buffer = StringIO()
    yaml_round_trip().dump(data, buffer)
    return buffer.getvalue()


def _section(config: Any, name: str) -> Any:
    from ruamel.yaml.comments import CommentedMap

    for existing in config:
        if str(existing).lower() == name:
            return config[existing]
    config[name] = CommentedMap()
    return config[name]
