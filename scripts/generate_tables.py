#!/usr/bin/env python3
"""Generate src/airshift/upgrade/tables/moves.json from real Airflow and provider wheels.

Everything here is read statically: wheels are downloaded with `pip download --no-deps` into a cache
outside the repository, opened with zipfile and parsed with `ast`. Nothing from Airflow is imported, so
every version (1.10 to 3.3) can be read by one interpreter.

A name "resolves" in a set of wheels when its module file is there (or a parent package creates it with
`add_deprecated_classes`) and the name is defined, imported, listed in a deprecation table or served by
a module `__getattr__` table.

Run `python scripts/generate_tables.py` (add `--offline` to use only the wheel cache).
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
OUTPUT = REPO / "src" / "airshift" / "upgrade" / "tables" / "moves.json"
DEFAULT_CACHE = Path("/tmp/airshift-wheels")

# Airflow releases read. The 3.x task SDK is pinned by the matching core release.
AIRFLOW_110 = "1.10.15"
AIRFLOW_20 = "2.0.2"
AIRFLOW_211 = "2.11.2"
CORE_3X = {
    "3.0": ("3.0.6", "1.0.6"),
    "3.1": ("3.1.8", "1.1.8"),
    "3.2": ("3.2.2", "1.2.2"),
    "3.3": ("3.3.2", "1.3.2"),
}
TARGETS_3X = list(CORE_3X)
# Every Airflow version we talk about, in order; used for deprecated_from / removed_in.
ALL_TARGETS = ["2.0", "2.11", *TARGETS_3X]

# Provider distributions whose top package is a namespace shared by several providers.
PROVIDER_NAMESPACES = {"apache", "microsoft", "cncf", "common", "dbt", "atlassian", "ibm"}
MIN_VERSION_DOWNLOADS = 8  # bound on extra downloads per provider when bisecting min_version
RENAME_DOWNLOADS = 8  # bound on downloads per provider when looking for a removed name's last release

# Authoring API that moved to the Task SDK in 3.x (old names as DAG authors wrote them in 2.x).
SDK_MOVES: dict[str, str] = {
    "airflow.DAG": "airflow.sdk.DAG",
    "airflow.models.DAG": "airflow.sdk.DAG",
    "airflow.models.dag.DAG": "airflow.sdk.DAG",
    "airflow.models.dag.dag": "airflow.sdk.dag",
    "airflow.decorators.dag": "airflow.sdk.dag",
    "airflow.decorators.task": "airflow.sdk.task",
    "airflow.decorators.task_group": "airflow.sdk.task_group",
    "airflow.decorators.setup": "airflow.sdk.setup",
    "airflow.decorators.teardown": "airflow.sdk.teardown",
    "airflow.decorators.task_group.task_group": "airflow.sdk.task_group",
    "airflow.models.BaseOperator": "airflow.sdk.BaseOperator",
    "airflow.models.baseoperator.BaseOperator": "airflow.sdk.BaseOperator",
    "airflow.models.baseoperator.chain": "airflow.sdk.chain",
    "airflow.models.baseoperator.chain_linear": "airflow.sdk.chain_linear",
    "airflow.models.baseoperator.cross_downstream": "airflow.sdk.cross_downstream",
    "airflow.models.baseoperatorlink.BaseOperatorLink": "airflow.sdk.BaseOperatorLink",
    "airflow.models.BaseOperatorLink": "airflow.sdk.BaseOperatorLink",
    "airflow.sensors.base.BaseSensorOperator": "airflow.sdk.BaseSensorOperator",
    "airflow.sensors.base.PokeReturnValue": "airflow.sdk.PokeReturnValue",
    "airflow.hooks.base.BaseHook": "airflow.sdk.BaseHook",
    "airflow.notifications.basenotifier.BaseNotifier": "airflow.sdk.BaseNotifier",
    "airflow.models.Param": "airflow.sdk.Param",
    "airflow.models.param.Param": "airflow.sdk.Param",
    "airflow.models.param.ParamsDict": "airflow.sdk.ParamsDict",
    "airflow.models.Variable": "airflow.sdk.Variable",
    "airflow.models.variable.Variable": "airflow.sdk.Variable",
    "airflow.models.Connection": "airflow.sdk.Connection",
    "airflow.models.connection.Connection": "airflow.sdk.Connection",
    "airflow.utils.context.Context": "airflow.sdk.Context",
    "airflow.operators.python.get_current_context": "airflow.sdk.get_current_context",
    "airflow.utils.dag_parsing_context.get_parsing_context": "airflow.sdk.get_parsing_context",
    "airflow.utils.edgemodifier.Label": "airflow.sdk.Label",
    "airflow.utils.edgemodifier.EdgeModifier": "airflow.sdk.EdgeModifier",
    "airflow.models.xcom_arg.XComArg": "airflow.sdk.XComArg",
    "airflow.XComArg": "airflow.sdk.XComArg",
    "airflow.utils.task_group.TaskGroup": "airflow.sdk.TaskGroup",
    "airflow.Dataset": "airflow.sdk.Asset",
    "airflow.datasets.Dataset": "airflow.sdk.Asset",
    "airflow.datasets.DatasetAlias": "airflow.sdk.AssetAlias",
    "airflow.datasets.DatasetAll": "airflow.sdk.AssetAll",
    "airflow.datasets.DatasetAny": "airflow.sdk.AssetAny",
    "airflow.datasets.metadata.Metadata": "airflow.sdk.Metadata",
    "airflow.io.path.ObjectStoragePath": "airflow.sdk.ObjectStoragePath",
}

# Helpers DAG code commonly imports that went away; None = no replacement.
REMOVED_HELPERS: dict[str, str | None] = {
    "airflow.utils.dates.days_ago": None,
    "airflow.utils.dates.date_range": None,
    "airflow.utils.dates.scale_time_units": None,
    "airflow.utils.dates.infer_time_unit": None,
    "airflow.utils.dates.round_time": None,
    "airflow.utils.decorators.apply_defaults": None,
    "airflow.operators.subdag.SubDagOperator": None,
    "airflow.operators.subdag.SkippedStatePropagationOptions": None,
    "airflow.utils.helpers.chain": "airflow.models.baseoperator.chain",
    "airflow.utils.helpers.cross_downstream": "airflow.models.baseoperator.cross_downstream",
}
# Core modules whose public names DAG code imports; names missing on 3.x are recorded as removed.
AUTHORING_MODULES = (
    "airflow.settings",
    "airflow.configuration",
    "airflow.utils.",
    "airflow.macros",
    "airflow.timetables",
    "airflow.exceptions",
    "airflow.datasets",
    "airflow.models.baseoperator",
    "airflow.models.dag",
    "airflow.models.param",
    "airflow.models.variable",
    "airflow.models.connection",
    "airflow.decorators",
    "airflow.secrets",
    "airflow.hooks.base",
    "airflow.sensors.base",
    "airflow.template",
    "airflow.io",
)
NOT_AUTHORING = ("airflow.utils.log.", "airflow.utils.db", "airflow.utils.cli", "airflow.utils.orm")
# Where a name removed from core went, when the release notes name an exact replacement.
CORE_REPLACEMENTS: dict[str, str] = {
    "airflow.utils.template.literal": "airflow.sdk.literal",
    "airflow.timetables.datasets.DatasetOrTimeSchedule": "airflow.timetables.assets.AssetOrTimeSchedule",
    "airflow.utils.dag_parsing_context.get_parsing_context": "airflow.sdk.get_parsing_context",
    # the fab and common-sql moves of 3.0 (Airflow 3 release notes; ruff AIR302)
    "airflow.hooks.dbapi.DbApiHook": "airflow.providers.common.sql.hooks.sql.DbApiHook",
    "airflow.hooks.dbapi.ConnectorProtocol": "airflow.providers.common.sql.hooks.sql.ConnectorProtocol",
    "airflow.www.security.FabAirflowSecurityManagerOverride": (
        "airflow.providers.fab.auth_manager.security_manager.override.FabAirflowSecurityManagerOverride"
    ),
    "airflow.auth.managers.fab.fab_auth_manager.FabAuthManager": (
        "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
    ),
    "airflow.auth.managers.fab.security_manager.override.FabAirflowSecurityManagerOverride": (
        "airflow.providers.fab.auth_manager.security_manager.override.FabAirflowSecurityManagerOverride"
    ),
    "airflow.api.auth.backend.basic_auth.auth_current_user": (
        "airflow.providers.fab.auth_manager.api.auth.backend.basic_auth.auth_current_user"
    ),
}


def _imported_modules(info: ModuleInfo) -> set[str]:
    """Local names bound by `import x` (modules, not API)."""
    if info.tree is None:
        return set()
    found: set[str] = set()
    for node in info.tree.body:
        if isinstance(node, ast.Import):
            found.update(alias.asname or alias.name.split(".")[0] for alias in node.names)
    return found


# 1.10's own Kubernetes objects for KubernetesPodOperator; 2.0 takes the kubernetes client's models instead.
_K8S = "use the kubernetes client's models (from kubernetes.client import models as k8s): "
KUBERNETES_REMOVED: dict[str, str] = {
    "airflow.contrib.kubernetes.volume.Volume": _K8S + "k8s.V1Volume",
    "airflow.contrib.kubernetes.volume_mount.VolumeMount": _K8S + "k8s.V1VolumeMount",
    "airflow.contrib.kubernetes.pod.Resources": _K8S + "k8s.V1ResourceRequirements (container_resources=)",
    "airflow.contrib.kubernetes.pod.Port": _K8S + "k8s.V1ContainerPort",
    "airflow.kubernetes.volume.Volume": _K8S + "k8s.V1Volume",
    "airflow.kubernetes.volume_mount.VolumeMount": _K8S + "k8s.V1VolumeMount",
    "airflow.kubernetes.pod.Resources": _K8S + "k8s.V1ResourceRequirements (container_resources=)",
    "airflow.kubernetes.pod.Port": _K8S + "k8s.V1ContainerPort",
}
REMOVED_MODULES: dict[str, str | None] = {
    "airflow.operators.subdag": None,
}


# --------------------------------------------------------------------------------------------------
# Downloads


@dataclass
class Fetcher:
    cache: Path
    offline: bool
    log: list[str] = field(default_factory=list)

    def wheel(self, dist: str, version: str) -> Path | None:
        stem = f"{re.sub(r'[-_.]+', '_', dist).lower()}-{version}-"
        hits = sorted(p for p in self.cache.glob("*.whl") if p.name.lower().startswith(stem))
        if hits:
            return hits[0]
        if self.offline:
            return None
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q"]
        cmd += ["-d", str(self.cache), f"{dist}=={version}"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            self.log.append(f"download failed: {dist}=={version}")
            return None
        hits = sorted(p for p in self.cache.glob("*.whl") if p.name.lower().startswith(stem))
        return hits[0] if hits else None

    def versions(self, dist: str) -> list[str]:
        """Final releases, oldest first (cached so --offline works)."""
        index = self.cache / "index" / f"{dist}.txt"
        if not index.exists():
            if self.offline:
                return []
            cmd = [sys.executable, "-m", "pip", "index", "versions", dist]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("Available versions:")), "")
            if not line:
                return []
            index.parent.mkdir(parents=True, exist_ok=True)
            index.write_text(line.split(":", 1)[1].strip() + "\n")
        found = [v.strip() for v in index.read_text().split(",") if v.strip()]
        final = [v for v in found if re.fullmatch(r"\d+(\.\d+)*", v)]
        return sorted(final, key=version_key)


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


# --------------------------------------------------------------------------------------------------
# Static reading of one module


@dataclass
class ModuleInfo:
    names: set[str] = field(default_factory=set)
    imported_from: dict[str, str] = field(default_factory=dict)  # local name -> source module.name
    star_imports: list[str] = field(default_factory=list)
    # add_deprecated_classes: submodule -> {name: target}; key "" is this module itself
    virtual: dict[str, dict[str, str]] = field(default_factory=dict)
    # names served by module __getattr__, with a target when one can be read
    served: dict[str, str | None] = field(default_factory=dict)
    deprecated_served: set[str] = field(default_factory=set)
    deprecated_strings: list[str] = field(default_factory=list)  # module-level warnings text
    tree: ast.Module | None = None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _top_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-level statements, looking into if/try/with blocks but not TYPE_CHECKING ones."""
    for node in body:
        yield node
        if isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _top_statements(node.body)
            yield from _top_statements(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _top_statements(block)
            for handler in node.handlers:
                yield from _top_statements(handler.body)
        elif isinstance(node, ast.With):
            yield from _top_statements(node.body)


def _target_names(target: ast.expr) -> Iterator[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Tuple | ast.List):
        for elt in target.elts:
            yield from _target_names(elt)


def _str(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _resolve_relative(package: str, level: int, module: str | None) -> str:
    if level == 0:
        return module or ""
    parts = package.split(".")
    base = parts[: len(parts) - level + 1]
    return ".".join([*base, module] if module else base)


def _calls_warn(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in {"warn", "deprecated"}:
                return True
    return False


def parse_module(source: str, module: str, is_package: bool) -> ModuleInfo:
    info = ModuleInfo()
    try:
        tree = ast.parse(source)
    except SyntaxError:  # 1.10 ships a few Python-2-only files
        return info
    info.tree = tree
    package = module if is_package else module.rpartition(".")[0]
    dicts: dict[str, ast.Dict] = {}
    for node in _top_statements(tree.body):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            info.names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                info.names.update(_target_names(target))
                if isinstance(target, ast.Name) and isinstance(node.value, ast.Dict):
                    dicts[target.id] = node.value
        elif isinstance(node, ast.Import):
            for alias in node.names:
                info.names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            source_module = _resolve_relative(package, node.level, node.module)
            for alias in node.names:
                if alias.name == "*":
                    info.star_imports.append(source_module)
                else:
                    info.names.add(alias.asname or alias.name)
                    info.imported_from[alias.asname or alias.name] = f"{source_module}.{alias.name}"
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            _read_add_deprecated(node.value, dicts, info)
            if _calls_warn(node):
                info.deprecated_strings.extend(_strings(node))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "__getattr__":
            _read_getattr(node, dicts, package, info)
    return info


def _strings(node: ast.AST) -> list[str]:
    out = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            out.append(sub.value)
        elif isinstance(sub, ast.JoinedStr):
            out.append("".join(v.value for v in sub.values if isinstance(v, ast.Constant)))
    return out


def _read_add_deprecated(call: ast.Call, dicts: dict[str, ast.Dict], info: ModuleInfo) -> None:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if name != "add_deprecated_classes" or not call.args:
        return
    table = call.args[0]
    if isinstance(table, ast.Name):
        table = dicts.get(table.id)  # type: ignore[assignment]
    if not isinstance(table, ast.Dict):
        return
    for key, value in zip(table.keys, table.values, strict=True):
        if isinstance(key, ast.Name) and key.id == "__name__":
            sub = ""
        else:
            sub = _str(key) or ""
            if not sub:
                continue
        if not isinstance(value, ast.Dict):
            continue
        entries = info.virtual.setdefault(sub, {})
        for k, v in zip(value.keys, value.values, strict=True):
            old, new = _str(k), _str(v)
            if old and new:
                entries[old] = new


def _read_getattr(func: ast.FunctionDef, dicts: dict[str, ast.Dict], package: str, info: ModuleInfo) -> None:
    warns = _calls_warn(func)
    used = {n.id for n in ast.walk(func) if isinstance(n, ast.Name)}
    for dict_name in sorted(used & set(dicts)):
        table = dicts[dict_name]
        for key, value in zip(table.keys, table.values, strict=True):
            name = _str(key)
            if not name:
                continue
            target: str | None = None
            deprecated = warns
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                target = f"{_absolute(value.value, package)}.{name}"
            elif isinstance(value, ast.Tuple) and value.elts:
                mod = _str(value.elts[0])
                attr = _str(value.elts[1]) if len(value.elts) > 1 else name
                if mod is not None:
                    base = _absolute(mod, package)
                    target = f"{base}.{attr}" if attr else base
                if len(value.elts) > 2 and isinstance(value.elts[2], ast.Constant):
                    deprecated = value.elts[2].value is True
            info.served[name] = target
            if deprecated:
                info.deprecated_served.add(name)
    # `if name == "X":` branches
    for node in ast.walk(func):
        if isinstance(node, ast.Compare) and len(node.comparators) == 1:
            value = _str(node.comparators[0])
            if value and isinstance(node.ops[0], ast.Eq):
                info.served.setdefault(value, None)
                if warns:
                    info.deprecated_served.add(value)


def _absolute(path: str, package: str) -> str:
    if not path.startswith("."):
        return path
    level = len(path) - len(path.lstrip("."))
    return _resolve_relative(package, level, path.lstrip(".") or None)


# --------------------------------------------------------------------------------------------------
# A set of wheels read together (one Airflow version, or one provider release)


class Wheel:
    def __init__(self, path: Path, label: str) -> None:
        self.path = path
        self.label = label
        self.zip = zipfile.ZipFile(path)
        self.files = {n for n in self.zip.namelist() if n.endswith(".py")}
        self.dirs = {n.rsplit("/", 1)[0] for n in self.files}
        prefixes: set[str] = set()
        for d in self.dirs:
            parts = d.split("/")
            prefixes.update("/".join(parts[: i + 1]) for i in range(len(parts)))
        self.dirs = prefixes

    def read(self, name: str) -> str:
        return self.zip.read(name).decode("utf-8", errors="replace")


class Env:
    """Static view of `import` over several wheels."""

    def __init__(self, label: str, wheels: list[Wheel]) -> None:
        self.label = label
        self.wheels = wheels
        self._infos: dict[str, tuple[ModuleInfo, str, Wheel] | None] = {}

    def module_file(self, module: str) -> tuple[Wheel, str, bool] | None:
        base = module.replace(".", "/")
        for wheel in self.wheels:
            if f"{base}/__init__.py" in wheel.files:
                return wheel, f"{base}/__init__.py", True
            if f"{base}.py" in wheel.files:
                return wheel, f"{base}.py", False
        return None

    def info(self, module: str) -> ModuleInfo | None:
        if module not in self._infos:
            found = self.module_file(module)
            if found is None:
                self._infos[module] = None
            else:
                wheel, path, is_package = found
                self._infos[module] = (parse_module(wheel.read(path), module, is_package), path, wheel)
        entry = self._infos[module]
        return entry[0] if entry else None

    def origin(self, module: str) -> str:
        self.info(module)
        entry = self._infos.get(module)
        return f"{entry[2].label}:{entry[1]}" if entry else self.label

    def virtual_table(self, module: str) -> dict[str, str] | None:
        parent, _, leaf = module.rpartition(".")
        info = self.info(parent) if parent else None
        return info.virtual.get(leaf) if info else None

    def module_exists(self, module: str) -> bool:
        if self.module_file(module) is not None or self.virtual_table(module) is not None:
            return True
        base = module.replace(".", "/")  # namespace packages (airflow/providers)
        return any(base in w.dirs for w in self.wheels)

    def resolves(self, name: str, _depth: int = 0) -> bool:
        """True when `import name` or `from module import attr` works (statically)."""
        module, _, attr = name.rpartition(".")
        if not module:
            return self.module_exists(name)
        virtual = self.virtual_table(module)
        if virtual is not None and (attr in virtual or "*" in virtual):
            return True
        info = self.info(module)
        if info is None:
            return self.module_exists(name)
        if attr in info.names or attr in info.served or self.module_exists(name):
            return True
        own = info.virtual.get("", {})
        if attr in own or "*" in own:
            return True
        return _depth < 3 and any(self.resolves(f"{star}.{attr}", _depth + 1) for star in info.star_imports)

    def iter_modules(self, prefix: str) -> Iterator[str]:
        base = prefix.replace(".", "/")
        for wheel in self.wheels:
            for name in sorted(wheel.files):
                if name.startswith(base + "/") or name == base + ".py":
                    mod = name[:-3].replace("/", ".")
                    yield mod[: -len(".__init__")] if mod.endswith(".__init__") else mod


# --------------------------------------------------------------------------------------------------
# The table being built


@dataclass
class Entry:
    new: str | None
    deprecated_from: str | None
    removed_in: str | None
    origin: str
    note: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "new": self.new,
            "deprecated_from": self.deprecated_from,
            "removed_in": self.removed_in,
            "origin": self.origin,
        }
        if self.note:
            out["note"] = self.note
        return out


class Generator:
    def __init__(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher
        self.moves: dict[str, Entry] = {}
        self.modules: dict[str, Entry] = {}
        self.kinds: Counter[str] = Counter()
        self.kind_of: dict[str, str] = {}
        self.providers: dict[str, dict[str, str]] = {}
        self.provider_current: dict[str, str] = {}
        self.provider_envs: dict[tuple[str, str], Env | None] = {}
        self.report: list[str] = []
        self.unresolved: list[str] = []

    # -- wheels -------------------------------------------------------------------------------------
    def _wheel(self, dist: str, version: str) -> Wheel:
        path = self.fetcher.wheel(dist, version)
        if path is None:
            raise SystemExit(f"missing wheel {dist}=={version} (run without --offline)")
        return Wheel(path, f"{dist.removeprefix('apache-')}-{version}")

    def load_airflow(self) -> None:
        self.standard_version = self.fetcher.versions("apache-airflow-providers-standard")[-1]
        standard = self._wheel("apache-airflow-providers-standard", self.standard_version)
        self.env: dict[str, Env] = {
            "1.10": Env("airflow-" + AIRFLOW_110, [self._wheel("apache-airflow", AIRFLOW_110)]),
            "2.0": Env("airflow-" + AIRFLOW_20, [self._wheel("apache-airflow", AIRFLOW_20)]),
            "2.11": Env("airflow-" + AIRFLOW_211, [self._wheel("apache-airflow", AIRFLOW_211)]),
        }
        for target, (core, sdk) in CORE_3X.items():
            wheels = [self._wheel("apache-airflow-core", core), self._wheel("apache-airflow-task-sdk", sdk)]
            self.env[target] = Env(f"airflow-core-{core}", [*wheels, standard])
        self.provider_current["apache-airflow-providers-standard"] = self.standard_version
        self.provider_envs[("apache-airflow-providers-standard", self.standard_version)] = Env(
            standard.label, [standard]
        )

    # -- helpers ------------------------------------------------------------------------------------
    def first_missing(self, name: str, after: str, module: bool = False) -> str | None:
        """First target version after `after` where `name` no longer resolves."""
        for target in ALL_TARGETS[ALL_TARGETS.index(after) + 1 :] if after in ALL_TARGETS else ALL_TARGETS:
            env = self.env[target]
            ok = env.module_exists(name) if module else env.resolves(name)
            if not ok:
                return target
        return None

    def add(self, table: dict[str, Entry], kind: str, old: str, entry: Entry, override: bool = False) -> None:
        if old == entry.new:
            return
        if old in table and not override:
            return
        table[old] = entry
        self.kind_of[("m:" if table is self.modules else "s:") + old] = kind

    def sdk_exports(self, target: str) -> dict[str, str]:
        """airflow.sdk public name -> defining module, for a 3.x target."""
        info = self.env[target].info("airflow.sdk")
        if info is None:
            return {}
        return {k: v.rpartition(".")[0] for k, v in info.served.items() if v}

    def canonical(self, new: str | None, target: str) -> str | None:
        """Point airflow.sdk internals at the public `airflow.sdk.X` when the SDK exports them."""
        if not new or not new.startswith("airflow.sdk.") or target not in CORE_3X:
            return new
        module, _, attr = new.rpartition(".")
        exports = self.sdk_exports(target)
        if module != "airflow.sdk" and exports.get(attr) == module:
            return f"airflow.sdk.{attr}"
        return new

    # -- sources ------------------------------------------------------------------------------------
    def read_211_tables(self) -> None:
        env = self.env["2.11"]
        for module in sorted(set(env.iter_modules("airflow"))):
            if module.startswith("airflow.providers."):
                continue
            info = env.info(module)
            if not info or not info.virtual:
                continue
            origin = env.origin(module)
            for sub, table in sorted(info.virtual.items()):
                old_module = f"{module}.{sub}" if sub else module
                for name, target in sorted(table.items()):
                    old = f"{old_module}.{name}"
                    new = target.rstrip(".")
                    if new != target:
                        self.report.append(
                            f"airflow {AIRFLOW_211} table target with a trailing dot: {old} -> {target}"
                        )
                    removed = self.first_missing(old, "2.11")
                    self.add(
                        self.moves, "airflow-2.11 deprecation tables", old, Entry(new, "2.0", removed, origin)
                    )
                if sub:
                    self._module_entry(
                        old_module, table, "2.0", "2.11", origin, "airflow-2.11 deprecation tables"
                    )

    def _module_entry(
        self, old_module: str, table: dict[str, str], since: str, seen_in: str, origin: str, kind: str
    ) -> None:
        if not old_module or "*" in table:
            return
        targets = {new.rpartition(".")[0] for new in table.values()}
        if len(targets) == 1:
            new_module = targets.pop()
            removed = self.first_missing(old_module, seen_in, module=True)
            self.add(self.modules, kind, old_module, Entry(new_module, since, removed, origin))

    def read_3x_tables(self) -> None:
        kind = "airflow-3.x deprecation tables"
        seen: dict[str, tuple[str, str, str]] = {}  # old -> (new, first target, origin)
        seen_modules: dict[str, tuple[str, str, str, dict[str, str]]] = {}
        for target in TARGETS_3X:
            env = self.env[target]
            for module in sorted(set(env.iter_modules("airflow"))):
                if module.startswith("airflow.providers."):
                    continue
                info = env.info(module)
                if not info:
                    continue
                origin = env.origin(module)
                for sub, table in info.virtual.items():
                    old_module = f"{module}.{sub}" if sub else module
                    for name, new in table.items():
                        if name == "*":
                            if old_module not in seen_modules:
                                seen_modules[old_module] = (new, target, origin, {})
                            continue
                        old = f"{old_module}.{name}"
                        if old not in seen:
                            seen[old] = (new, target, origin)
                    if sub and "*" not in table:
                        seen_modules.setdefault(old_module, ("", target, origin, table))
                for name in sorted(info.deprecated_served):
                    new = info.served.get(name)
                    old = f"{module}.{name}"
                    if new and old not in seen:
                        seen[old] = (new, target, origin)
        for old, (new, first, origin) in sorted(seen.items()):
            if self.env[first].module_exists(new) and self.env[first].module_file(new) is not None:
                self.add(
                    self.modules, kind, old, Entry(new, first, self.first_missing(old, first, True), origin)
                )
                continue
            new = self.canonical(new, first)
            self.add(
                self.moves,
                kind,
                old,
                Entry(new, first, self.first_missing(old, first), origin),
                override=True,
            )
        for old_module, (new_module, first, origin, table) in sorted(seen_modules.items()):
            if new_module:
                removed = self.first_missing(old_module, first, module=True)
                self.add(
                    self.modules, kind, old_module, Entry(new_module, first, removed, origin), override=True
                )
            else:
                self._module_entry(old_module, table, first, first, origin, kind)

    def read_sdk_moves(self) -> None:
        kind = "task-sdk authoring API"
        for old, new in sorted(SDK_MOVES.items()):
            if not self.env["2.11"].resolves(old):
                self.report.append(f"sdk move skipped, {old} not in airflow {AIRFLOW_211}")
                continue
            first = next((t for t in TARGETS_3X if self.env[t].resolves(new)), None)
            if first is None:
                self.report.append(f"sdk move skipped, {new} not in any 3.x task-sdk")
                continue
            if old == new:
                continue
            existing = self.moves.get(old)
            if existing and existing.new and self.canonical(existing.new, first) == new:
                # a deprecation table already says it; the SDK name works from `first` on
                if ALL_TARGETS.index(first) < ALL_TARGETS.index(existing.deprecated_from or "3.3"):
                    existing.deprecated_from = first
                continue
            sdk_version = CORE_3X[first][1]
            origin = f"airflow-task-sdk-{sdk_version}:airflow/sdk/__init__.py"
            entry = Entry(new, first, self.first_missing(old, first), origin)
            self.add(self.moves, kind, old, entry, override=existing is None or existing.new != new)

    def read_110_plugin_tables(self) -> None:
        kind = "airflow-1.10 plugin-style tables"
        env = self.env["1.10"]
        for module in sorted(set(env.iter_modules("airflow"))):
            path = env.module_file(module)
            if path is None or not path[1].endswith("__init__.py"):
                continue
            text = path[0].read(path[1])
            if "AirflowImporter" not in text:
                continue
            tree = ast.parse(text)
            origin = env.origin(module)
            for node in tree.body:
                if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)):
                    continue
                for key, value in zip(node.value.keys, node.value.values, strict=True):
                    sub = _str(key)
                    if not sub or not isinstance(value, ast.List):
                        continue
                    for elt in value.elts:
                        name = _str(elt)
                        if not name:
                            continue
                        old, new = f"{module}.{name}", f"{module}.{sub}.{name}"
                        if not env.resolves(new):
                            self.report.append(
                                f"1.10 plugin table entry {old} -> {new}: target missing in 1.10"
                            )
                            continue
                        removed = self.first_missing(old, "1.10")
                        self.add(self.moves, kind, old, Entry(new, "2.0", removed, origin))

    def read_removed_helpers(self) -> None:
        kind = "removed helpers"
        for old, new in sorted(REMOVED_HELPERS.items()):
            self._removed(old, new, kind, module=False)
        for old, new in sorted(REMOVED_MODULES.items()):
            self._removed(old, new, kind, module=True)

    def _removed(self, old: str, new: str | None, kind: str, module: bool) -> None:
        env = self.env["2.11"]
        if not (env.module_exists(old) if module else env.resolves(old)):
            self.report.append(f"removed helper {old} not in airflow {AIRFLOW_211}")
            return
        removed = self.first_missing(old, "2.11", module)
        if removed is None:
            self.report.append(f"removed helper {old} still resolves in 3.3: not recorded")
            return
        mod = old if module else old.rpartition(".")[0]
        info = env.info(mod)
        deprecated = bool(
            info and info.tree and _is_deprecated(info.tree, None if module else old.rpartition(".")[2])
        )
        entry = Entry(new, "2.11" if deprecated else removed, removed, env.origin(mod))
        if new is None:
            entry.note = "removed without replacement" + (" (deprecated in 2.11)" if deprecated else "")
        self.add(self.modules if module else self.moves, kind, old, entry, override=True)

    def read_20_contrib_shims(self) -> None:
        """1.10 contrib modules that 2.11's tables no longer redirect but 2.0 still shipped as shims
        (`from airflow.providers.amazon.aws.operators.emr_add_steps import EmrAddStepsOperator`). A class the
        shim re-exports under another name (GcsToGDriveOperator -> GCSToGoogleDriveOperator) is paired when
        the 1.10 module defines one class the shim lacks and the shim imports one class 1.10 lacked."""
        kind = "airflow-2.0 contrib shims"
        old_env, shim_env = self.env["1.10"], self.env["2.0"]
        for module in sorted(set(old_env.iter_modules("airflow.contrib"))):
            if ".example_dags" in module:
                continue
            shim = shim_env.info(module)
            old = old_env.info(module)
            if old is None:
                continue
            origin = shim_env.origin(module)
            if shim is None and old.deprecated_strings:  # 1.10's own shim (contrib.kubernetes.secret)
                shim, origin = old, old_env.origin(module)
            if shim is None:
                continue
            targets = {
                local: target
                for local, target in shim.imported_from.items()
                if target.startswith("airflow.providers.") or target.startswith("airflow.kubernetes.")
            }
            if not targets:
                continue
            removed = self.first_missing(module, "2.0", module=True) or "2.11"
            classes = {n.name for n in old.tree.body if isinstance(n, ast.ClassDef)} if old.tree else set()
            redirected = module in self.modules  # 2.11 redirects the module; names may still differ
            for name, target in sorted(targets.items()):
                if f"{module}.{name}" not in self.moves and not redirected:
                    self.add(self.moves, kind, f"{module}.{name}", Entry(target, "2.0", removed, origin))
            missing_old = sorted(c for c in classes if c not in targets and not c.startswith("_"))
            new_only = sorted(n for n in targets if n not in old.names or n not in classes)
            if len(missing_old) == 1 and len(new_only) == 1:
                old_name = f"{module}.{missing_old[0]}"
                entry = Entry(targets[new_only[0]], "2.0", removed, origin)
                entry.note = f"renamed to {targets[new_only[0]].rpartition('.')[2]}"
                self.add(self.moves, kind + " (renamed class)", old_name, entry)
            if not redirected:
                self._module_entry(module, targets, "2.0", "2.0", origin, kind)

    def read_kubernetes_compat(self) -> None:
        """2.11 redirects airflow.kubernetes.* to airflow.kubernetes.pre_7_4_0_compatibility.*, a core module
        that 3.x dropped; the same classes live in the cncf-kubernetes provider."""
        kind = "airflow-2.11 kubernetes compatibility -> cncf-kubernetes"
        compat = "airflow.kubernetes.pre_7_4_0_compatibility."
        provider = "airflow.providers.cncf.kubernetes."
        env = self.current_env("apache-airflow-providers-cncf-kubernetes")
        if env is None:
            self.report.append("cncf-kubernetes provider not read: kubernetes compat names not mapped")
            return
        for entry in list(self.moves.values()):
            new = entry.new or ""
            if not new.startswith(compat):
                continue
            candidate = provider + new[len(compat) :]
            if candidate in self.moves or not env.resolves(candidate):
                continue
            removed = self.first_missing(new, "2.11") or "3.0"
            self.add(
                self.moves, kind, new, Entry(candidate, "2.11", removed, "airflow-2.11.2 + cncf-kubernetes")
            )
        for name, note in KUBERNETES_REMOVED.items():
            if name not in self.moves:
                entry = Entry(None, "2.0", "2.0", "airflow-1.10.15", note)
                self.add(self.moves, "airflow-1.10 kubernetes objects", name, entry)

    def read_removed_core_names(self) -> None:
        """Names DAG code imports from Airflow 2.11's core modules that a 3.x release no longer has and
        no table redirects (airflow.utils.file.TemporaryDirectory, airflow.PY36, airflow.settings
        constants...). Recorded with the replacement from CORE_REPLACEMENTS when one exists, else with
        none, so `scan` reports them instead of leaving an import error for the DAG processor."""
        kind = "airflow-2.11 names missing in 3.x"
        env = self.env["2.11"]
        for module in sorted(set(env.iter_modules("airflow"))):
            if module != "airflow" and (
                not module.startswith(AUTHORING_MODULES) or module.startswith(NOT_AUTHORING)
            ):
                continue
            found = env.module_file(module)
            info = env.info(module)
            if found is None or info is None:
                continue
            is_package = found[2]
            names = set(info.names) - set(info.imported_from)
            if is_package:  # a package re-exports what it imports from Airflow, not typing helpers
                names |= {n for n, source in info.imported_from.items() if source.startswith("airflow.")}
            names -= _imported_modules(info) | {"TYPE_CHECKING", "annotations"}
            for name in sorted(names):
                old = f"{module}.{name}"
                if name.startswith("_") or old in self.moves or self.hop(old)[0]:
                    continue
                removed = next((t for t in TARGETS_3X if not self.env[t].resolves(old)), None)
                if removed is None:
                    continue
                new = CORE_REPLACEMENTS.get(old)
                entry = Entry(new, removed, removed, env.origin(module))
                if new is None:
                    entry.note = "removed in Airflow 3 without a replacement"
                self.add(self.moves, kind, old, entry)
        for old, new in sorted(CORE_REPLACEMENTS.items()):
            if old not in self.moves and not self.hop(old)[0] and env.resolves(old):
                removed = next((t for t in TARGETS_3X if not self.env[t].resolves(old)), "3.0")
                self.add(
                    self.moves, kind, old, Entry(new, removed, removed, env.origin(old.rpartition(".")[0]))
                )

    def read_110_contrib_leftovers(self) -> None:
        """airflow.contrib modules of 1.10 that 2.x neither ships nor redirects."""
        kind = "airflow-1.10 contrib without redirect"
        env = self.env["1.10"]
        for module in sorted(set(env.iter_modules("airflow.contrib"))):
            if ".example_dags" in module or module in self.modules:
                continue
            if any(m.startswith(module + ".") for m in self.moves):
                continue
            removed = self.first_missing(module, "1.10", module=True)
            if removed is None or not env.module_file(module) or env.module_file(module)[2]:  # type: ignore[index]
                continue
            entry = Entry(None, removed, removed, env.origin(module), "removed without redirect")
            self.add(self.modules, kind, module, entry)

    # -- chains and providers -----------------------------------------------------------------------
    def hop(self, name: str) -> tuple[bool, str | None]:
        """One step as the engine takes it: a symbol move, else the longest moved module prefix."""
        if name in self.moves:
            return True, self.moves[name].new
        module = name.rpartition(".")[0]
        while module:
            if module in self.modules:
                new = self.modules[module].new
                return True, (new + name[len(module) :]) if new else None
            module = module.rpartition(".")[0]
        return False, name

    def final(self, name: str | None) -> str | None:
        seen: set[str] = set()
        while name and name not in seen:
            seen.add(name)
            moved, new = self.hop(name)
            if not moved:
                return name
            name = new
        return name

    def finals(self) -> set[str]:
        ends = {self.final(entry.new) for entry in self.moves.values()}
        return {e for e in ends if e}

    @staticmethod
    def distribution(name: str) -> str | None:
        parts = name.split(".")
        if len(parts) < 3 or parts[:2] != ["airflow", "providers"]:
            return None
        rest = parts[2:]
        take = 2 if rest[0] in PROVIDER_NAMESPACES and len(rest) > 1 else 1
        return "apache-airflow-providers-" + "-".join(rest[:take]).replace("_", "-")

    def provider_env(self, dist: str, version: str) -> Env | None:
        key = (dist, version)
        if key not in self.provider_envs:
            path = self.fetcher.wheel(dist, version)
            self.provider_envs[key] = (
                Env(
                    f"{dist.removeprefix('apache-')}-{version}",
                    [Wheel(path, f"{dist.removeprefix('apache-')}-{version}")],
                )
                if path
                else None
            )
        return self.provider_envs[key]

    def current_env(self, dist: str) -> Env | None:
        if dist not in self.provider_current:
            found = self.fetcher.versions(dist)
            if not found:
                return None
            self.provider_current[dist] = found[-1]
        return self.provider_env(dist, self.provider_current[dist])

    def prefetch(self, pairs: Iterable[tuple[str, str]]) -> None:
        todo = [p for p in pairs if p not in self.provider_envs]
        with ThreadPoolExecutor(max_workers=6) as pool:
            list(pool.map(lambda p: self.fetcher.wheel(*p), todo))
        for dist, version in todo:
            self.provider_env(dist, version)

    def resolve_providers(self) -> None:
        """Check chain ends against current providers; follow provider-level renames; bisect min_version."""
        for _round in range(3):
            ends = sorted(n for n in self.finals() if self.distribution(n))
            by_dist: dict[str, list[str]] = defaultdict(list)
            for name in ends:
                by_dist[self.distribution(name) or ""].append(name)
            releases = {}
            for dist in sorted(by_dist):
                if dist not in self.provider_current:
                    found = self.fetcher.versions(dist)
                    if found:
                        self.provider_current[dist] = found[-1]
                releases[dist] = self.fetcher.versions(dist)
            self.prefetch((d, v) for d, v in self.provider_current.items() if d in by_dist)
            added = False
            missing: dict[str, list[str]] = {}
            for dist, names in sorted(by_dist.items()):
                version = self.provider_current.get(dist)
                env = self.provider_env(dist, version) if version else None
                gone = [n for n in names if env is None or not env.resolves(n)]
                if gone and env is not None:
                    missing[dist] = gone
                for name in names:
                    if env is None:
                        self._unresolved(name, f"distribution {dist} not found on the package index")
                    elif name not in gone and name not in self.moves:
                        added |= self._provider_deprecation(dist, version or "", env, name)
            for dist, gone in sorted(missing.items()):
                added |= self._find_renames(dist, releases[dist], gone)
            if not added:
                break
        self._min_versions()

    def _unresolved(self, name: str, reason: str) -> None:
        if name in self.moves and self.moves[name].new is None:
            return
        self.unresolved.append(f"{name}: {reason}")
        self.add(
            self.moves,
            "unresolved chain ends",
            name,
            Entry(None, "2.0", "2.0", "generate_tables", reason),
            override=True,
        )

    def _provider_deprecation(self, dist: str, version: str, env: Env, name: str) -> bool:
        """A name still shipped by the current provider but marked deprecated there."""
        module, _, attr = name.rpartition(".")
        info = env.info(module)
        if not info or not info.tree:
            return False
        strings = _deprecation_strings(info.tree, attr)
        if strings is None:
            return False
        new = self._pick_replacement(env, name, strings)
        if not new:
            return False
        origin = f"{env.label}:{module.replace('.', '/')}.py (deprecated, still present)"
        self.add(self.moves, "provider renames", name, Entry(new, "2.0", None, origin))
        return True

    def _find_renames(self, dist: str, versions: list[str], gone: list[str]) -> bool:
        """Find the last release holding each gone name and the replacement its deprecation names."""
        current = self.provider_current[dist]
        current_env = self.provider_env(dist, current)
        assert current_env is not None
        candidates = [v for v in versions if version_key(v) >= (1, 0, 0) and v != current]
        added = False
        downloads = 0
        pending = {n: (0, len(candidates) - 1) for n in gone}
        last_has: dict[str, str] = {}
        while pending and downloads < RENAME_DOWNLOADS:
            probes = sorted({(lo + hi + 1) // 2 for lo, hi in pending.values() if lo <= hi})
            if not probes:
                break
            probes = probes[: max(1, RENAME_DOWNLOADS - downloads)]
            self.prefetch((dist, candidates[i]) for i in probes)
            downloads += len(probes)
            for name, (lo, hi) in list(pending.items()):
                if lo > hi:
                    pending.pop(name)
                    continue
                mid = (lo + hi + 1) // 2
                if mid not in probes:
                    continue
                env = self.provider_env(dist, candidates[mid])
                if env is not None and env.resolves(name):
                    last_has[name] = candidates[mid]
                    pending[name] = (mid + 1, hi)
                else:
                    pending[name] = (lo, mid - 1)
        for name in gone:
            if name not in last_has:
                self._unresolved(name, f"not in {dist} {current}; no release >= 1.0.0 checked has it")
                continue
            last = last_has[name]
            idx = candidates.index(last)
            lo, hi = pending.get(name, (idx + 1, idx))
            exact = lo > hi
            removed_by = candidates[idx + 1] if exact and idx + 1 < len(candidates) else current
            env = self.provider_env(dist, last)
            assert env is not None
            module, _, attr = name.rpartition(".")
            info = env.info(module)
            strings = (_deprecation_strings(info.tree, attr) if info and info.tree else None) or []
            new = self._pick_replacement(current_env, name, strings)
            where = f"{env.label}:{module.replace('.', '/')}.py"
            gone_note = (
                f"removed in {dist} {removed_by}" if exact else f"present in {last}, gone by {current}"
            )
            if new:
                origin = f"{where} ({gone_note})"
                self.add(
                    self.moves, "provider renames", name, Entry(new, "2.0", "2.0", origin), override=True
                )
                added = True
            else:
                self._unresolved(name, f"{gone_note}; no replacement named in its deprecation ({where})")
        return added

    def _pick_replacement(self, env: Env, old: str, strings: list[str]) -> str | None:
        module, _, attr = old.rpartition(".")
        text = " ".join(strings)
        for found in re.findall(r"(?<![\w.])(?:airflow\.)?providers\.[A-Za-z0-9_.]+[A-Za-z0-9_]", text):
            dotted = found if found.startswith("airflow.") else f"airflow.{found}"
            dist = self.distribution(dotted)
            other = self.current_env(dist) if dist else None
            if other is None:
                continue
            if dotted != old and other.resolves(dotted) and not other.module_exists(dotted):
                return dotted
            if (
                other.module_exists(dotted)
                and other.resolves(f"{dotted}.{attr}")
                and f"{dotted}.{attr}" != old
            ):
                return f"{dotted}.{attr}"
        idents = re.findall(r"`?([A-Z][A-Za-z0-9_]+)`?", text)
        for ident in idents:
            if (
                ident == attr
                or ident.endswith("Warning")
                or ident in {"Please", "Use", "The", "This", "Airflow"}
            ):
                continue
            if env.resolves(f"{module}.{ident}"):
                return f"{module}.{ident}"
            hits = [
                m
                for m in env.iter_modules("airflow.providers")
                if (env.info(m) or ModuleInfo()).names.__contains__(ident)
            ]
            defining = [m for m in hits if _defines(env, m, ident)]
            if defining:
                best = min(defining, key=lambda m: (_distance(m, module), m))
                return f"{best}.{ident}"
        return None

    def _min_versions(self) -> None:
        ends = sorted(n for n in self.finals() if self.distribution(n) and self.moves.get(n) is None)
        by_dist: dict[str, list[str]] = defaultdict(list)
        for name in ends:
            by_dist[self.distribution(name) or ""].append(name)
        for dist, names in sorted(by_dist.items()):
            current = self.provider_current.get(dist)
            if not current:
                continue
            versions = [v for v in self.fetcher.versions(dist) if version_key(v) >= (1, 0, 0)] or [current]
            if current not in versions:
                versions.append(current)
            hi_idx = versions.index(current)
            bounds = {n: (0, hi_idx) for n in names}  # min index known to have it: hi
            downloads = 0
            lows = [versions[0]] if versions[0] != current else []
            self.prefetch((dist, v) for v in lows)
            downloads += len(lows)
            first_env = self.provider_env(dist, versions[0])
            for name in names:
                if first_env is not None and first_env.resolves(name):
                    bounds[name] = (0, 0)
                else:
                    bounds[name] = (1, hi_idx)
            while downloads < MIN_VERSION_DOWNLOADS:
                probes = sorted({(lo + hi) // 2 for lo, hi in bounds.values() if lo < hi})
                if not probes:
                    break
                probes = probes[: MIN_VERSION_DOWNLOADS - downloads]
                self.prefetch((dist, versions[i]) for i in probes)
                downloads += len(probes)
                for name, (lo, hi) in bounds.items():
                    mid = (lo + hi) // 2
                    if lo >= hi or mid not in probes:
                        continue
                    env = self.provider_env(dist, versions[mid])
                    bounds[name] = (lo, mid) if env is not None and env.resolves(name) else (mid + 1, hi)
            approx = 0
            for name, (lo, hi) in bounds.items():
                if lo < hi:
                    approx += 1
                self.providers[name] = {"distribution": dist, "min_version": versions[hi]}
            if approx:
                self.report.append(
                    f"{dist}: min_version of {approx} name(s) is the lowest release checked that has it "
                    f"(download bound {MIN_VERSION_DOWNLOADS} reached)"
                )

    def check_core_ends(self) -> None:
        """Chain ends outside providers must exist in some target's core or task SDK."""
        for name in sorted(self.finals()):
            if self.distribution(name) or name in self.moves:
                continue
            present = [t for t in ["2.11", *TARGETS_3X] if self.env[t].resolves(name)]
            if not present and self.env["1.10"].resolves(name):
                self._from_110(name)
                continue
            if not present:
                self._unresolved(name, f"not found in airflow {AIRFLOW_211} nor in any 3.x core/task-sdk")
                continue
            if "3.3" not in present:
                removed = self.first_missing(name, present[0])
                if removed:
                    mod = name.rpartition(".")[0]
                    origin = self.env[present[-1]].origin(mod) + f" (gone in {removed})"
                    note = "removed without replacement (static check)"
                    self.add(
                        self.moves, "removed chain ends", name, Entry(None, removed, removed, origin, note)
                    )

    def check_module_ends(self) -> None:
        """Note module moves whose provider module is gone from the current release."""
        for old, entry in sorted(self.modules.items()):
            dist = self.distribution(entry.new or "")
            if not dist or not entry.new:
                continue
            env = self.current_env(dist)
            if env is not None and not env.module_exists(entry.new):
                version = self.provider_current[dist]
                entry.note = f"module gone from {dist} {version}; only the symbol moves of its names apply"
                self.report.append(f"module move {old} -> {entry.new}: {entry.note}")

    def _from_110(self, name: str) -> None:
        """A 1.10 name that no 2.x/3.x release has: follow a 1.10 re-export, else record the removal."""
        env = self.env["1.10"]
        module, _, attr = name.rpartition(".")
        info = env.info(module)
        removed = self.first_missing(name, "1.10") or "2.0"
        source = info.imported_from.get(attr) if info else None
        if source is None and info is not None:
            source = _thin_subclass_source(info, attr)
        if source and source != name:
            entry = Entry(source, "2.0", removed, env.origin(module) + " (re-export)")
            self.add(self.moves, "airflow-1.10 re-exports", name, entry)
        else:
            note = f"removed in {removed} without redirect"
            entry = Entry(None, removed, removed, env.origin(module), note)
            self.add(self.moves, "airflow-1.10 removals", name, entry)

    # -- output -------------------------------------------------------------------------------------
    def build(self) -> dict[str, Any]:
        self.load_airflow()
        self.read_211_tables()
        self.read_110_plugin_tables()
        self.read_removed_helpers()
        self.read_3x_tables()
        self.read_sdk_moves()
        self.read_20_contrib_shims()
        self.read_kubernetes_compat()
        self.read_110_contrib_leftovers()
        self.read_removed_core_names()
        self.resolve_providers()
        for _round in range(4):  # new chain ends can appear after each pass
            before = len(self.moves)
            self.check_core_ends()
            self.resolve_providers()
            if len(self.moves) == before:
                break
        self.check_module_ends()
        sources = {
            "apache-airflow": [AIRFLOW_110, AIRFLOW_20, AIRFLOW_211],
            "apache-airflow-core": [core for core, _ in CORE_3X.values()],
            "apache-airflow-task-sdk": [sdk for _, sdk in CORE_3X.values()],
            "providers": dict(sorted(self.provider_current.items())),
        }
        return {
            "schema": 1,
            "generated_by": "scripts/generate_tables.py",
            "sources": sources,
            "moves": {k: v.as_json() for k, v in sorted(self.moves.items())},
            "modules": {k: v.as_json() for k, v in sorted(self.modules.items())},
            "providers": dict(sorted(self.providers.items())),
        }

    def summary(self) -> str:
        lines = ["moves by origin:"]
        counts: Counter[str] = Counter(k.split(":", 1)[0] + " " + v for k, v in self.kind_of.items())
        for key, count in sorted(counts.items()):
            lines.append(f"  {count:5d}  {'modules' if key.startswith('m') else 'symbols'}: {key[2:]}")
        lines.append(f"unresolved chains: {len(self.unresolved)}")
        lines.extend(f"  {u}" for u in sorted(self.unresolved))
        lines.append("notes:")
        lines.extend(f"  {r}" for r in sorted(set(self.report)))
        lines.extend(f"  {r}" for r in sorted(set(self.fetcher.log)))
        lines.append("providers read (current release):")
        lines.extend(f"  {d} {v}" for d, v in sorted(self.provider_current.items()))
        return "\n".join(lines)


def _thin_subclass_source(info: ModuleInfo, name: str) -> str | None:
    """1.10's airflow.operators.sensors defines `class X(XImp): pass` over `from airflow.sensors.x import X as
    XImp`: such an empty subclass is the imported class under another path, so it moves where that one did."""
    if info.tree is None:
        return None
    for node in info.tree.body:
        if (
            isinstance(node, ast.ClassDef)
            and node.name == name
            and len(node.bases) == 1
            and isinstance(node.bases[0], ast.Name)
            and all(
                isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
                for s in node.body
            )
        ):
            return info.imported_from.get(node.bases[0].id)
    return None


def _defines(env: Env, module: str, ident: str) -> bool:
    info = env.info(module)
    if not info or not info.tree:
        return False
    return any(isinstance(n, ast.ClassDef | ast.FunctionDef) and n.name == ident for n in info.tree.body)


def _distance(a: str, b: str) -> int:
    pa, pb = a.split("."), b.split(".")
    common = 0
    for x, y in zip(pa, pb, strict=False):
        if x != y:
            break
        common += 1
    return len(pa) + len(pb) - 2 * common


def _is_deprecated(tree: ast.Module, name: str | None) -> bool:
    if name is None:
        return any(_calls_warn(n) for n in tree.body if isinstance(n, ast.Expr))
    return _deprecation_strings(tree, name) is not None


def _deprecation_strings(tree: ast.Module, name: str) -> list[str] | None:
    """Text of the deprecation of `name` in a module: decorator args or warnings in its body; None if none."""
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            for deco in node.decorator_list:
                func = deco.func if isinstance(deco, ast.Call) else deco
                label = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if "deprecat" in label.lower():
                    return _strings(deco)
            body = node.body
            if isinstance(node, ast.ClassDef):
                init = [n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"]
                body = init[0].body if init else []
            for stmt in body:
                if isinstance(stmt, ast.Expr) and _calls_warn(stmt):
                    texts = _strings(stmt)
                    if any(name in t or "class is deprecated" in t.lower() for t in texts) and any(
                        "deprecat" in t.lower() for t in texts
                    ):
                        return texts
            return None
        # `Old = New` aliases kept for compatibility
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Name)
            and any(name in _target_names(t) for t in node.targets)
        ):
            return [node.value.id]
    module_warnings = [n for n in tree.body if isinstance(n, ast.Expr) and _calls_warn(n)]
    if module_warnings:
        return [s for n in module_warnings for s in _strings(n)]
    return None


def run_generator(
    argv: list[str] | None,
    description: str | None,
    output: Path,
    build: Callable[[Fetcher], tuple[dict[str, Any], str]],
    counts: Callable[[dict[str, Any]], str],
) -> int:
    """The command line both table generators share: options, wheel cache, writing the JSON, the report.
    `build` returns the data and its printed summary; `counts` describes the written file."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--offline", action="store_true", help="use only wheels already in the cache")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="wheel cache (outside the repo)")
    parser.add_argument("--output", type=Path, default=output)
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    data, summary = build(Fetcher(args.cache, args.offline))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    print(summary)
    print(f"wrote {args.output} ({counts(data)})")
    return 0


def _build(fetcher: Fetcher) -> tuple[dict[str, Any], str]:
    generator = Generator(fetcher)
    data = generator.build()
    return data, generator.summary()


def main(argv: list[str] | None = None) -> int:
    return run_generator(
        argv,
        __doc__,
        OUTPUT,
        _build,
        lambda data: (
            f"{len(data['moves'])} moves, {len(data['modules'])} modules, {len(data['providers'])} provider names"
        ),
    )


if __name__ == "__main__":
    raise SystemExit(main())
