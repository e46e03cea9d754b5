"""The opt-in conversion of Python tasks to Kubernetes pods: the request, and what makes a function fit.

`@task.kubernetes` ships a function's *source text* into the pod and calls it there with its pickled
arguments (cncf-kubernetes provider, decorators/kubernetes.py; reference/kafka-and-kpo.md section 4). So only
a self-contained function can move: a top-level `def` of the DAG file that uses no module-level name
(imports included), writes no local file (it would vanish with the pod), needs no Airflow context (the pod
gets none) and takes only arguments that pickle. This module holds the conversion settings and the checks;
the rule (rules/kubernetes_conversion.py) makes the edits.
"""

from __future__ import annotations

import ast
import builtins
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airshift.errors import AirshiftError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

CONVERSIONS = ("python-to-kubernetes",)
_BUILTINS = frozenset(dir(builtins))
CONTEXT_NAMES = frozenset(
    {
        "context",
        "ti",
        "task_instance",
        "dag_run",
        "ds",
        "ds_nodash",
        "ts",
        "execution_date",
        "logical_date",
        "data_interval_start",
        "data_interval_end",
        "params",
        "macros",
        "conf",
        "templates_dict",
        "run_id",
        "dag",
        "task",
    }
)
_WRITE_MODES = ("w", "a", "x", "+")
_WRITERS = frozenset({"write_text", "write_bytes", "to_csv", "to_parquet", "to_json", "to_excel", "savefig"})
_FILE_FUNCTIONS = frozenset(
    {
        "shutil.copy",
        "shutil.copy2",
        "shutil.copyfile",
        "shutil.move",
        "shutil.rmtree",
        "os.makedirs",
        "os.mkdir",
        "os.remove",
        "os.unlink",
        "os.rename",
    }
)


@dataclass(frozen=True)
class Resources:
    requests: tuple[tuple[str, str], ...] = ()
    limits: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class KubernetesConversion:
    """`fix --convert python-to-kubernetes --image IMAGE [--namespace NS] [--resources FILE]`."""

    image: str
    namespace: str | None = None
    resources: tuple[tuple[str, Resources], ...] = ()  # task id -> requests/limits

    def for_task(self, task_id: str) -> Resources | None:
        return dict(self.resources).get(task_id)


def load_resources(path: Path) -> tuple[tuple[str, Resources], ...]:
    """A YAML, TOML or JSON mapping `task_id: {requests: {cpu: ..., memory: ...}, limits: {...}}`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise AirshiftError(f"--resources {path}: cannot read it: {error.strerror or error}") from None
    data: Any
    try:
        if path.suffix == ".json":
            data = json.loads(text)
        elif path.suffix == ".toml":
            data = tomllib.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            raise AirshiftError(f"--resources {path}: use a .yaml, .yml, .toml or .json file")
    except AirshiftError:
        raise
    except Exception as error:  # each parser has its own error class; all mean the same to the user
        raise AirshiftError(f"--resources {path}: not valid {path.suffix[1:].upper()}: {error}") from None
    if not isinstance(data, dict):
        raise AirshiftError(f"--resources {path}: expected a mapping of task id to requests/limits")
    result: list[tuple[str, Resources]] = []
    for task_id, spec in data.items():
        if not isinstance(spec, dict) or not set(spec) <= {"requests", "limits"}:
            raise AirshiftError(f"--resources {path}: task {task_id!r}: give `requests` and/or `limits` only")
        parts: dict[str, tuple[tuple[str, str], ...]] = {}
        for kind in ("requests", "limits"):
            values = spec.get(kind) or {}
            if not isinstance(values, dict):
                raise AirshiftError(
                    f"--resources {path}: task {task_id!r}: {kind} must map a resource to a quantity"
                )
            parts[kind] = tuple(sorted((str(k), str(v)) for k, v in values.items()))
        result.append((str(task_id), Resources(parts["requests"], parts["limits"])))
    return tuple(sorted(result))


def parse_conversion(
    convert: list[str], image: str | None, namespace: str | None, resources: Path | None
) -> KubernetesConversion | None:
    """The conversion asked for on the command line, checked; None when none was."""
    unknown = [c for c in convert if c not in CONVERSIONS]
    if unknown:
        raise AirshiftError(
            f"--convert {unknown[0]}: unknown conversion; choose one of {', '.join(CONVERSIONS)}"
        )
    if not convert:
        if image or namespace or resources:
            raise AirshiftError("--image, --namespace and --resources need --convert python-to-kubernetes")
        return None
    if not image or not image.strip():
        raise AirshiftError("--convert python-to-kubernetes needs --image IMAGE (the pod's container image)")
    return KubernetesConversion(
        image.strip(),
        namespace.strip() if namespace else None,
        load_resources(resources) if resources else (),
    )


# -- what keeps a function from running in a pod ----------------------------------------------------


def _bound_in(function: ast.FunctionDef) -> set[str]:
    """Names the function binds itself: parameters, assignments, imports, loop and comprehension targets."""
    args = function.args
    names = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
    names |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.ExceptHandler)):
            if node is not function and node.name:
                names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


def outside_names(function: ast.FunctionDef) -> list[str]:
    """Names the function reads but does not bind (module imports, constants, helpers, an enclosing
    function's variables): only the function's own source reaches the pod, so none of them exist there."""
    bound = _bound_in(function)
    body = [*function.body, *function.args.defaults, *function.args.kw_defaults]
    used = {
        node.id
        for part in body
        if part is not None
        for node in ast.walk(part)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }
    return sorted(n for n in used if n not in bound and n not in _BUILTINS)


def writes_local_files(function: ast.FunctionDef, qualified: Any) -> str | None:
    """The first call that writes to the local file system, as written in the source."""
    for node in ast.walk(function):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "open":
            mode = (
                node.args[1]
                if len(node.args) > 1
                else next((k.value for k in node.keywords if k.arg == "mode"), None)
            )
            if (
                isinstance(mode, ast.Constant)
                and isinstance(mode.value, str)
                and any(m in mode.value for m in _WRITE_MODES)
            ):
                return f"open(..., {mode.value!r})"
        if isinstance(func, ast.Attribute):
            name = qualified(func) or ""
            if name in _FILE_FUNCTIONS or (
                func.attr in _FILE_FUNCTIONS_LAST and name.startswith(("os.", "shutil."))
            ):
                return f"{name}()"
            if func.attr in _WRITERS:
                return f".{func.attr}()"
    return None


_FILE_FUNCTIONS_LAST = frozenset(name.rpartition(".")[2] for name in _FILE_FUNCTIONS)


def needs_context(function: ast.FunctionDef, qualified: Any) -> str | None:
    """Why the function needs the Airflow task context, if it does."""
    args = function.args
    if args.kwarg is not None:
        return f"**{args.kwarg.arg} receives the task context"
    for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
        if arg.arg in CONTEXT_NAMES:
            return f"parameter `{arg.arg}` is a context value"
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            name = qualified(node.func) or ""
            if name.endswith("get_current_context") or (
                isinstance(node.func, ast.Name) and node.func.id == "get_current_context"
            ):
                return "it calls get_current_context()"
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
            if module and (module == "airflow" or module.startswith("airflow.")):
                return f"it imports {module} (Airflow models and sessions are not in the pod)"
    return None


def unpicklable(node: ast.expr, module_functions: set[str]) -> str | None:
    """Why an argument value cannot be pickled into the pod, when the source shows it."""
    for child in ast.walk(node):
        if isinstance(child, ast.Lambda):
            return "a lambda"
        if isinstance(child, (ast.GeneratorExp,)):
            return "a generator"
        if isinstance(child, ast.Call) and isinstance(child.func, ast.Name) and child.func.id == "open":
            return "an open file"
        if isinstance(child, ast.Name) and child.id in module_functions:
            return (
                f"`{child.id}`, a function of this DAG file (pickled by reference; the pod cannot import it)"
            )
    return None
