"""What happens to each configuration option on the way to the target, independent of the file format.

The chain follows the releases a configuration would have passed through:

1. 1.10.15 `deprecated_options` / `deprecated_values` (the `[celery] celeryd_*`, `[elasticsearch]
   elasticsearch_*`, `[scheduler] max_threads` names no later table knows);
2. 2.11.2 `deprecated_sections`, `deprecated_options`, `many_to_one_deprecated_options` and
   `deprecated_values` (the 2.0 moves of logging to `[logging]`, `sql_alchemy_*` to `[database]`, ...);
3. for a 3.x target, 3.3.2 `CONFIGS_CHANGES` (what `airflow config lint/update` use), the 3.3.2
   read-time fallbacks and `deprecated_values`;
4. what the target does not know at all is removed when its section belongs to Airflow or the
   providers airshift knows, and kept (with a note) in sections nobody knows (a plugin's own).

Unlike `airflow config update --fix`, an option whose default changed keeps the source's behaviour:
an explicit `catchup_by_default = True` stays, and an unset one is written with the old default,
unless the user adopts the new defaults."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from airshift.platform.config_tables import EXTRA_BEHAVIOUR_DEFAULTS, Key, Rename, Tables, ValueRewrite
from airshift.verify.redact import is_sensitive_key

FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
AUTH_MANAGERS = {"fab": FAB_AUTH_MANAGER, "simple": SIMPLE_AUTH_MANAGER}
DEFAULT_BASE_URL = "http://localhost:8080"

# Settings a 3.x deployment needs that no 1.10/2.x configuration has.
BASE_URL: Key = ("api", "base_url")
EXECUTION_API_URL: Key = ("core", "execution_api_server_url")
AUTH_MANAGER: Key = ("core", "auth_manager")
API_SECRET_KEY: Key = ("api", "secret_key")
JWT_SECRET: Key = ("api_auth", "jwt_secret")
GENERATED_SECRETS: tuple[Key, ...] = (API_SECRET_KEY, JWT_SECRET)


def show(key: Key) -> str:
    return f"[{key[0]}] {key[1]}"


@dataclass(frozen=True)
class Entry:
    """One option as the source file holds it; `ref` lets the format find it again."""

    section: str
    option: str
    value: str
    ref: int

    @property
    def key(self) -> Key:
        return (self.section.lower(), self.option.lower())


@dataclass(frozen=True)
class Step:
    kind: str  # rename | move | value | remove | keep | note
    old: Key
    new: Key | None
    why: str


@dataclass
class Fate:
    """Where one source entry ends up: `key` None means removed."""

    entry: Entry
    key: Key | None
    value: str
    steps: list[Step] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.key != self.entry.key or self.value != self.entry.value


@dataclass(frozen=True)
class Addition:
    key: Key
    value: str
    why: str
    secret: bool = False


@dataclass
class Plan:
    source: str
    target: str
    fates: list[Fate]
    additions: list[Addition]
    notes: list[Step]

    @property
    def changes(self) -> list[Step]:
        """Every step that changes a file, in source order, then additions."""
        steps = [step for fate in self.fates for step in fate.steps if step.kind != "note"]
        steps += [Step("add", add.key, add.key, add.why) for add in self.additions]
        return steps

    @property
    def needs_changes(self) -> bool:
        return any(fate.changed for fate in self.fates) or bool(self.additions)


@dataclass(frozen=True)
class Options:
    target: str = "3.3"  # "3.3" or "2.11"
    source: str = "auto"  # "auto", "1.10" or "2"
    adopt_new_defaults: bool = False
    auth_manager: str = "fab"
    base_url: str | None = None
    # Additions the deployment format supplies by itself (the Helm chart sets the execution API URL
    # and the auth manager), so the plan leaves them out.
    skip_additions: frozenset[Key] = frozenset()


def is_secret(tables: Tables, key: Key) -> bool:
    return key in tables.sensitive or is_sensitive_key(key[1]) or key[1].endswith(("_conn", "_dsn"))


_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]+)(?P<at>@)", re.IGNORECASE)


def mask_value(tables: Tables, key: Key, value: str) -> str:
    """The value as it may be shown: secrets masked, passwords in URLs masked."""
    if is_secret(tables, key) and value.strip():
        return "***"
    return _URL_PASSWORD.sub(lambda m: m["head"] + "***" + m["at"], value)


def detect_source(tables: Tables, keys: Iterable[Key]) -> str:
    """1.10 when an option only 1.10 had (or a 1.10-only name) is set; 2 otherwise."""
    only_110 = set(tables.source_110.options) - set(tables.source_2.options)
    old_names = {rename.old for rename in tables.renames_110}
    for key in keys:
        if key in only_110 or key in old_names:
            return "1.10"
    return "2"


def _apply_value_rewrites(fate: Fate, rewrites: Sequence[ValueRewrite], tables: Tables) -> None:
    if fate.key is None:
        return
    for rewrite in rewrites:
        if rewrite.key != fate.key:
            continue
        try:
            pattern = re.compile(rewrite.pattern)
        except re.error:
            continue
        if pattern.search(fate.value):
            new_value = pattern.sub(rewrite.replacement.replace("\\", "\\\\"), fate.value)
            if new_value != fate.value:
                shown_old = mask_value(tables, fate.key, fate.value)
                shown_new = mask_value(tables, fate.key, new_value)
                fate.steps.append(
                    Step(
                        "value",
                        fate.key,
                        fate.key,
                        f"value {shown_old!r} -> {shown_new!r}: deprecated since {rewrite.since or '?'} "
                        f"({rewrite.origin})",
                    )
                )
                fate.value = new_value


def _rename(fate: Fate, table: dict[Key, Rename]) -> None:
    if fate.key is None or fate.key not in table:
        return
    rename = table[fate.key]
    kind = "rename" if rename.old[0] == rename.new[0] else "move"
    since = f" in {rename.since}" if rename.since else ""
    fate.steps.append(Step(kind, fate.key, rename.new, f"{kind}d{since} ({rename.origin})"))
    fate.key = rename.new


def _by_old(renames: Iterable[Rename]) -> dict[Key, Rename]:
    table: dict[Key, Rename] = {}
    for rename in renames:
        table.setdefault(rename.old, rename)
    return table


def _chain_to_2(fate: Fate, tables: Tables) -> None:
    _rename(fate, _by_old(tables.renames_110))
    _apply_value_rewrites(fate, tables.values_110, tables)
    if fate.key is not None and fate.key[0] in tables.sections_2:
        new_section, since = tables.sections_2[fate.key[0]]
        new = (new_section, fate.key[1])
        fate.steps.append(
            Step("move", fate.key, new, f"section [{fate.key[0]}] renamed to [{new_section}] in {since}")
        )
        fate.key = new
    _rename(fate, _by_old([*tables.renames_2, *tables.many_to_one_2]))
    _apply_value_rewrites(fate, tables.values_2, tables)


def _chain_to_3(fate: Fate, tables: Tables, options: Options) -> None:
    # CONFIGS_CHANGES can hold several entries for one option (log_filename_template is removed when
    # it equals either of two old defaults), so every entry for the key is consulted.
    for change in [c for c in tables.changes_3 if c.key == fate.key]:
        if fate.key is None:
            return
        if change.renamed_to is not None:
            kind = "rename" if change.key[0] == change.renamed_to[0] else "move"
            fate.steps.append(
                Step(kind, fate.key, change.renamed_to, f"{kind}d in 3.0 (3.3.2 CONFIGS_CHANGES)")
            )
            fate.key = change.renamed_to
            break
        if change.default_change:
            continue  # handled with the other behaviour defaults
        if change.was_removed and (change.remove_if_equals is None or fate.value == change.remove_if_equals):
            why = change.suggestion.strip() or "removed in Airflow 3"
            fate.steps.append(Step("remove", fate.key, None, f"{why} (3.3.2 CONFIGS_CHANGES)"))
            fate.key = None
            return
        if change.is_invalid_if is not None and fate.value == change.is_invalid_if:
            fate.steps.append(
                Step("note", fate.key, fate.key, f"invalid on Airflow 3: {change.suggestion.strip()}")
            )
    _rename(fate, _by_old(tables.renames_3_fallback))
    _apply_value_rewrites(fate, tables.values_3, tables)


def _known_sections(tables: Tables, target: str) -> set[str]:
    """Sections that belong to Airflow or its providers: unknown options there are dead weight."""
    sections = set(tables.source_110.sections) | set(tables.source_2.sections)
    if target != "2.11":
        sections |= tables.target_3.sections
    return sections


def _drop_unknown(fate: Fate, tables: Tables, options: Options) -> None:
    if fate.key is None:
        return
    target = tables.source_2 if options.target == "2.11" else tables.target_3
    if fate.key in target.options:
        return
    if fate.key[0] in _known_sections(tables, options.target) and not _dynamic_section(fate.key[0]):
        version = target.version
        fate.steps.append(
            Step("remove", fate.key, None, f"not an option of Airflow {version} (no longer read)")
        )
        fate.key = None
    else:
        fate.steps.append(Step("note", fate.key, fate.key, "section unknown to Airflow: kept as is"))


def _dynamic_section(section: str) -> bool:
    # Sections whose keys are free-form by design (labels, secrets mounted into pods, broker options).
    return section in {
        "kubernetes_labels",
        "kubernetes_secrets",
        "kubernetes_annotations",
        "kubernetes_environment_variables",
        "celery_broker_transport_options",
        "secrets",
    }


def _resolve_duplicates(fates: list[Fate], tables: Tables) -> None:
    """Two entries landing on one key: the one the source wrote under the new name wins, as in
    Airflow, which reads the current name before the deprecated one."""
    by_key: dict[Key, list[Fate]] = {}
    for fate in fates:
        if fate.key is not None:
            by_key.setdefault(fate.key, []).append(fate)
    for key, group in by_key.items():
        if len(group) < 2:
            continue
        native = [fate for fate in group if fate.entry.key == key]
        keep = native[-1] if native else group[0]  # configparser keeps the last duplicate
        for fate in group:
            if fate is keep:
                continue
            fate.steps.append(
                Step(
                    "remove",
                    fate.entry.key,
                    None,
                    f"{show(key)} is set too and wins (Airflow reads it first)",
                )
            )
            fate.key = None


def _source_default(tables: Tables, source: str, key: Key) -> str | None:
    if source == "1.10":
        value = tables.source_110.default(key)
        if value is not None:
            return value
    return tables.source_2.default(key)


def _same(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.strip().lower() == b.strip().lower()


def _behaviour_defaults(plan: Plan, tables: Tables, options: Options, source: str) -> None:
    keys = [c.key for c in tables.changes_3 if c.default_change and c.key != ("core", "executor")]
    keys += [key for key in EXTRA_BEHAVIOUR_DEFAULTS if key not in keys]
    live = {fate.key: fate for fate in plan.fates if fate.key is not None}
    for key in keys:
        old = _source_default(tables, source, key)
        new = tables.target_3.default(key)
        if old is None or _same(old, new):
            continue
        fate = live.get(key)
        if fate is None:
            if options.adopt_new_defaults:
                plan.notes.append(Step("note", key, key, f"adopting the 3.x default {new!r} (was {old!r})"))
            else:
                plan.additions.append(
                    Addition(
                        key, old, f"keeps the source behaviour: the default changed from {old!r} to {new!r}"
                    )
                )
        elif options.adopt_new_defaults and _same(fate.value, old):
            fate.steps.append(
                Step(
                    "remove",
                    key,
                    None,
                    f"--adopt-new-defaults: the 3.x default {new!r} applies (was {old!r})",
                )
            )
            fate.key = None
        elif not _same(fate.value, new):
            fate.steps.append(
                Step("keep", key, key, f"kept explicit {fate.value!r}; the 3.x default is {new!r}")
            )


def _moved_class_defaults(plan: Plan, tables: Tables, source: str) -> None:
    """An explicit old default that is a class path whose class moved (`airflow.models.xcom.BaseXCom`
    -> `airflow.sdk.execution_time.xcom.BaseXCom`) follows the move: same class, new home. A default
    that names another class (FabAuthManager -> SimpleAuthManager) is a behaviour change, not a move."""
    for fate in plan.fates:
        if fate.key is None:
            continue
        old = _source_default(tables, source, fate.key)
        new = tables.target_3.default(fate.key)
        if not old or not new or old == new or fate.value.strip() != old:
            continue
        if (
            _CLASS_PATH.match(old)
            and _CLASS_PATH.match(new)
            and old.rsplit(".", 1)[1] == new.rsplit(".", 1)[1]
        ):
            fate.steps.append(
                Step("value", fate.key, fate.key, f"value {old!r} -> {new!r}: the class moved in Airflow 3")
            )
            fate.value = new


_CLASS_PATH = re.compile(r"^[a-z_][\w]*(\.[a-z_][\w]*)+\.[A-Z]\w*$")


def _additions_3x(plan: Plan, tables: Tables, options: Options) -> None:
    live = {fate.key: fate for fate in plan.fates if fate.key is not None}
    live_keys = set(live) | {add.key for add in plan.additions}
    base_url = options.base_url or (live[BASE_URL].value if BASE_URL in live else DEFAULT_BASE_URL)

    def add(key: Key, value: str, why: str, secret: bool = False) -> None:
        if key not in live_keys and key not in options.skip_additions:
            plan.additions.append(Addition(key, value, why, secret))

    add(BASE_URL, base_url, "the URL users reach the API server and UI at (Airflow 3 links and redirects)")
    add(
        EXECUTION_API_URL,
        base_url.rstrip("/") + "/execution/",
        "workers reach the Task Execution API here (Airflow 3 tasks no longer use the metadata DB)",
    )
    manager = AUTH_MANAGERS.get(options.auth_manager, options.auth_manager)
    why = (
        "keeps the users and roles of the 2.x UI (needs apache-airflow-providers-fab)"
        if manager == FAB_AUTH_MANAGER
        else "the auth manager that signs users in to the Airflow 3 UI and API"
    )
    add(AUTH_MANAGER, manager, why)
    add(API_SECRET_KEY, "", "signs UI sessions; must be the same on every API server", secret=True)
    add(JWT_SECRET, "", "signs the tokens of the Task Execution and public APIs", secret=True)


def plan_migration(tables: Tables, entries: Sequence[Entry], options: Options) -> Plan:
    source = options.source if options.source != "auto" else detect_source(tables, (e.key for e in entries))
    plan = Plan(source=source, target=options.target, fates=[], additions=[], notes=[])
    for entry in entries:
        fate = Fate(entry, entry.key, entry.value)
        _chain_to_2(fate, tables)
        if options.target != "2.11":
            _chain_to_3(fate, tables, options)
        _drop_unknown(fate, tables, options)
        plan.fates.append(fate)
    _resolve_duplicates(plan.fates, tables)
    if options.target != "2.11":
        _behaviour_defaults(plan, tables, options, source)
        _moved_class_defaults(plan, tables, source)
        _additions_3x(plan, tables, options)
        if not any(fate.key == ("core", "executor") for fate in plan.fates):
            plan.notes.append(
                Step(
                    "note",
                    ("core", "executor"),
                    ("core", "executor"),
                    "no executor set: the source ran SequentialExecutor, Airflow 3 runs LocalExecutor",
                )
            )
    return plan
