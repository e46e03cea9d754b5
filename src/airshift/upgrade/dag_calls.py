"""Facts about a DAG file's calls that several rules (and the engine) share: DAG constructors and their
literal ids, operator calls, keywords, default_args dicts and their keys."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from airshift.upgrade.context import FileContext

DAG_CLASSES = frozenset(
    {
        "airflow.DAG",
        "airflow.models.DAG",
        "airflow.models.dag.DAG",
        "airflow.sdk.DAG",
        "airflow.sdk.definitions.dag.DAG",
        "airflow.decorators.dag",
        "airflow.models.dag.dag",
        "airflow.sdk.dag",
        "airflow.sdk.definitions.dag.dag",
    }
)


@dataclass(slots=True)
class CallSite:
    """One call of the file with what rules ask about its callee, worked out once per file instead of by
    every rule for every call."""

    node: ast.Call
    qualified: str | None  # through the file's imports: `airflow.operators.bash.BashOperator`, else None
    written: str  # the last identifier of the callee as written: `Op` of `Op(...)` and `mod.Op(...)`, else ""
    last: str  # the last identifier of `qualified`, else `written`
    guarded: bool  # the callee is bound by a compat shim (`try/except ImportError`): rules leave it alone
    dag: bool  # builds a DAG (the DAG class or the @dag decorator)

    def operator(self, local_classes: set[str]) -> bool:
        """Calls an operator or sensor class (by its name, or a class of this file deriving from one)."""
        return _names_operator(self.last, local_classes)

    @property
    def airflow(self) -> bool:
        """An unguarded call of something imported from Airflow (or a provider)."""
        return self.qualified is not None and self.qualified.startswith("airflow") and not self.guarded


class CallSites:
    """Every call of a file, in source order, classified once: the seam through which rules get the
    calls they handle (all, Airflow's, DAG constructors, operators) rather than each re-resolving every
    call's callee. Built by `call_sites(ctx)`, once per file and pass."""

    def __init__(self, ctx: FileContext) -> None:
        imports = ctx.imports
        own = module_definitions(ctx)
        self.all: list[CallSite] = []
        self._by_id: dict[int, CallSite] = {}
        for call in ctx.nodes.calls:
            func = call.func
            written = func.attr if func.__class__ is ast.Attribute else getattr(func, "id", "")
            qualified = imports.qualified(func)
            binding = imports.root_binding(func)
            if func.__class__ is ast.Name and written in own:
                # the file's own `def DAG(...)` or `class DAG`: not Airflow's, whatever it imports
                dag = False
            else:
                dag = qualified in DAG_CLASSES if qualified is not None else written == "DAG"
            site = CallSite(
                call,
                qualified,
                written,
                qualified.rpartition(".")[2] if qualified is not None else written,
                binding is not None and binding.guarded,
                dag,
            )
            self.all.append(site)
            self._by_id[id(call)] = site
        self.airflow = [site for site in self.all if site.airflow]
        self.dags = [site.node for site in self.all if site.dag]

    def of(self, call: ast.Call) -> CallSite | None:
        """The site of a call of this file's tree; None for a node from elsewhere."""
        site = self._by_id.get(id(call))
        return site if site is not None and site.node is call else None


def call_sites(ctx: FileContext) -> CallSites:
    return ctx.memo("call_sites", lambda: CallSites(ctx))


def _names_operator(last: str, local_classes: set[str]) -> bool:
    return last.endswith(("Operator", "Sensor")) or last in local_classes


def callee_last(call: ast.Call) -> str:
    """The last identifier of what a call calls: `Op` for `Op(...)` and `mod.Op(...)`, else ""."""
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def callee_name(ctx: FileContext, call: ast.Call) -> tuple[str | None, str]:
    """(qualified name through imports or None, the last identifier) of what a call calls."""
    site = call_sites(ctx).of(call)
    if site is not None:
        return site.qualified, site.written
    return ctx.imports.qualified(call.func), callee_last(call)


def is_dag_call(ctx: FileContext, call: ast.Call) -> bool:
    site = call_sites(ctx).of(call)
    if site is not None:
        return site.dag
    if isinstance(call.func, ast.Name) and call.func.id in module_definitions(ctx):
        return False  # the file's own `def DAG(...)` or `class DAG`: not Airflow's, whatever it imports
    qualified, last = callee_name(ctx, call)
    if qualified is not None:
        return qualified in DAG_CLASSES
    return last == "DAG"


def module_definitions(ctx: FileContext) -> frozenset[str]:
    """Names of the functions and classes the module itself defines at its top level."""
    return ctx.memo(
        "module_definitions",
        lambda: frozenset(
            node.name
            for node in ctx.tree.body
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        ),
    )


def dag_calls(ctx: FileContext) -> list[ast.Call]:
    """The calls that build a DAG, in source order. Several rules and the schedule look for them; the
    answer is computed once per file."""
    return call_sites(ctx).dags


def local_operator_classes(ctx: FileContext) -> set[str]:
    """Classes defined in this file that derive from an operator or sensor."""
    return ctx.memo("local_operator_classes", lambda: _local_operator_classes(ctx))


def _local_operator_classes(ctx: FileContext) -> set[str]:
    names: set[str] = set()
    for cls in ctx.nodes.classes:
        for base in cls.bases:
            last = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
            if last.endswith(("Operator", "Sensor")) or last in names:
                names.add(cls.name)
    return names


def is_operator_call(ctx: FileContext, call: ast.Call, local_classes: set[str]) -> bool:
    site = call_sites(ctx).of(call)
    if site is not None:
        return _names_operator(site.last, local_classes)
    qualified, last = callee_name(ctx, call)
    return _names_operator(qualified.rpartition(".")[2] if qualified is not None else last, local_classes)


def keyword(call: ast.Call, name: str) -> ast.keyword | None:
    for item in call.keywords:
        if item.arg == name:
            return item
    return None


@dataclass
class DefaultArgs:
    """One place that defines default_args entries: a dict display or a dict(...) call."""

    node: ast.Dict | ast.Call


def _module_assignments(ctx: FileContext, name: str) -> Iterator[ast.expr]:
    for assign in ctx.nodes.assigns:
        if any(isinstance(t, ast.Name) and t.id == name for t in assign.targets):
            yield assign.value
    for call in ctx.nodes.calls:  # name.update({...}) / name.update(key=value)
        func = call.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "update"
            and isinstance(func.value, ast.Name)
            and func.value.id == name
        ):
            yield from call.args
            yield call


def _as_default_args(node: ast.expr) -> ast.Dict | ast.Call | None:
    if isinstance(node, ast.Dict):
        return node
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        return node
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "update":
        return node
    return None


def default_args_dicts(ctx: FileContext) -> list[ast.Dict | ast.Call]:
    """Every dict that feeds default_args: passed literally, via dict(...), or via a variable of this file
    (including later .update(...) calls). Variables named like default_args count even if the DAG that
    uses them lives in another file."""
    return ctx.memo("default_args_dicts", lambda: _default_args_dicts(ctx))


def _default_args_dicts(ctx: FileContext) -> list[ast.Dict | ast.Call]:
    found: dict[int, ast.Dict | ast.Call] = {}
    variable_names: set[str] = {
        name for name in ctx.nodes.names if "default_args" in name.lower() or name.lower() == "args"
    }
    for call in ctx.nodes.calls:
        item = keyword(call, "default_args")
        if item is None:
            continue
        direct = _as_default_args(item.value)
        if direct is not None:
            found[id(direct)] = direct
        elif isinstance(item.value, ast.Name):
            variable_names.add(item.value.id)
    for name in variable_names:
        for value in _module_assignments(ctx, name):
            candidate = _as_default_args(value)
            if candidate is not None and (name != "args" or _looks_like_default_args(candidate)):
                found[id(candidate)] = candidate
    return list(found.values())


def _looks_like_default_args(node: ast.Dict | ast.Call) -> bool:
    keys = (
        [k.value for k in node.keys if isinstance(k, ast.Constant)]
        if isinstance(node, ast.Dict)
        else [k.arg for k in node.keywords]
    )
    return any(
        k in {"owner", "start_date", "retries", "retry_delay", "depends_on_past", "email"} for k in keys
    )


def subscript_assignments(ctx: FileContext, names: set[str]) -> Iterator[tuple[ast.Assign, str]]:
    """`default_args["key"] = value` statements."""
    for assign in ctx.nodes.assigns:
        if len(assign.targets) != 1:
            continue
        target = assign.targets[0]
        if (
            isinstance(target, ast.Subscript)
            and isinstance(target.value, ast.Name)
            and target.value.id in names
            and isinstance(target.slice, ast.Constant)
            and isinstance(target.slice.value, str)
        ):
            yield assign, target.slice.value


def default_args_keys(ctx: FileContext) -> set[str]:
    """Every string key of every default_args dict in the file."""
    keys: set[str] = set()
    for node in default_args_dicts(ctx):
        if isinstance(node, ast.Dict):
            keys.update(
                k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)
            )
        else:
            keys.update(k.arg for k in node.keywords if k.arg)
    return keys


def string_literal(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def dag_id_of(call: ast.Call) -> str | None:
    item = keyword(call, "dag_id")
    if item is not None:
        return string_literal(item.value)
    return string_literal(call.args[0]) if call.args else None


def dag_ids(ctx: FileContext) -> list[tuple[str, int]]:
    """(dag id, line) of every DAG built with a literal id at the top level or in a `with` block."""
    found: list[tuple[str, int]] = []
    for call in dag_calls(ctx):
        dag_id = dag_id_of(call)
        if dag_id is not None and ctx.imports.imports_airflow():
            found.append((dag_id, call.lineno))
    return found
