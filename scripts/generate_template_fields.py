#!/usr/bin/env python3
"""Generate src/airshift/upgrade/tables/template_fields.json: the templated fields of operators and sensors.

For every operator / sensor class of Airflow 1.10.15 (airflow.operators, airflow.sensors, airflow.contrib),
Airflow 2.11.2 (airflow.operators, airflow.sensors), Airflow 3.3 (the task SDK's base classes and the
standard provider) and the newest release of every provider `moves.json` names (their operators, sensors
and transfers), the table records `template_fields` and `template_ext` as the class sees them: its own
class-level assignment, else the one it inherits (C3 order over bases resolved through imports, across
modules and wheels). Values built from a base's fields (`(*Base.template_fields, "x")`,
`Base.template_fields + ("x",)`, `{...} | set(...)`) are evaluated; what cannot be read statically is
recorded as far as it can be and listed in the printed report.

The wheels are read with zipfile + ast through scripts/generate_tables.py (same cache, same `--offline`);
nothing from Airflow is imported.

Run `python scripts/generate_template_fields.py` (add `--offline` to use only the wheel cache).
"""

from __future__ import annotations

import ast
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate_tables import (
    AIRFLOW_110,
    AIRFLOW_211,
    CORE_3X,
    REPO,
    Env,
    Fetcher,
    ModuleInfo,
    Wheel,
    _resolve_relative,
    run_generator,
)

OUTPUT = REPO / "src" / "airshift" / "upgrade" / "tables" / "template_fields.json"
MOVES = REPO / "src" / "airshift" / "upgrade" / "tables" / "moves.json"
CORE_33, SDK_33 = CORE_3X["3.3"]

# Providers read besides those moves.json lists (DAGs use them directly; common-compat is where newer
# providers import BaseOperator from, so it is read to follow their inheritance).
EXTRA_PROVIDERS = [
    "apache-airflow-providers-amazon",
    "apache-airflow-providers-cncf-kubernetes",
    "apache-airflow-providers-common-compat",
    "apache-airflow-providers-common-sql",
    "apache-airflow-providers-databricks",
    "apache-airflow-providers-docker",
    "apache-airflow-providers-google",
    "apache-airflow-providers-http",
    "apache-airflow-providers-mysql",
    "apache-airflow-providers-postgres",
    "apache-airflow-providers-slack",
    "apache-airflow-providers-smtp",
    "apache-airflow-providers-snowflake",
    "apache-airflow-providers-ssh",
    "apache-airflow-providers-standard",
]

PROVIDER_SCOPE = re.compile(r"^airflow\.providers\.(?:[a-z0-9_]+\.)*?(?:operators|sensors|transfers)(?:\.|$)")
ATTRS = ("template_fields", "template_ext")
MAX_DEPTH = 12


# --------------------------------------------------------------------------------------------------
# Classes and names, read statically


@dataclass
class ClassDef:
    module: str
    name: str
    node: ast.ClassDef
    origin: str  # wheel label

    @property
    def qualname(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass
class FunctionRef:
    module: str
    node: ast.FunctionDef


Symbol = ClassDef | FunctionRef | tuple[str, ast.expr]

# A base that could not be resolved to a class in the wheels read stays a plain dotted string.
Base = ClassDef | str


@dataclass
class Value:
    """A statically evaluated list of strings; `complete` is False when some part could not be read."""

    items: list[str] = field(default_factory=list)
    complete: bool = True
    notes: list[str] = field(default_factory=list)

    def copy(self) -> Value:
        return Value(list(self.items), self.complete, list(self.notes))

    def extend(self, other: Value) -> None:
        for item in other.items:
            if item not in self.items:
                self.items.append(item)
        self.complete = self.complete and other.complete
        self.notes.extend(n for n in other.notes if n not in self.notes)


def _unreadable(note: str) -> Value:
    return Value([], False, [note])


@dataclass
class Resolved:
    value: Value
    defined_by: str | None  # qualname of the class whose assignment is used; None = nobody sets it


class World:
    """Every class in a set of wheels that are installed together, with name resolution over imports."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self._classes: dict[str, dict[str, ast.ClassDef]] = {}
        self._imports: dict[str, dict[str, list[str]]] = {}
        self._modules: dict[str, dict[str, str]] = {}  # `import a.b as c` -> {"c": "a.b"}
        self._assigns: dict[str, dict[str, ast.expr]] = {}
        self._functions: dict[str, dict[str, ast.FunctionDef]] = {}
        self._lazy: dict[str, dict[str, list[str]]] = {}  # module __getattr__ maps: name -> modules
        self._mro: dict[str, list[Base]] = {}
        self._resolved: dict[tuple[str, str], Resolved] = {}
        self._stack: set[tuple[str, str]] = set()

    # -- per-module tables ----------------------------------------------------------------------------
    def info(self, module: str) -> ModuleInfo | None:
        return self.env.info(module)

    def origin(self, module: str) -> str:
        found = self.env.module_file(module)
        return found[0].label if found else self.env.label

    def _load(self, module: str) -> None:
        if module in self._classes:
            return
        classes: dict[str, ast.ClassDef] = {}
        imports: dict[str, list[str]] = {}
        modules: dict[str, str] = {}
        assigns: dict[str, ast.expr] = {}
        functions: dict[str, ast.FunctionDef] = {}
        lazy: dict[str, list[str]] = {}
        info = self.info(module)
        found = self.env.module_file(module)
        if info is not None and info.tree is not None and found is not None:
            package = module if found[2] else module.rpartition(".")[0]
            for node in _all_statements(info.tree.body):
                if isinstance(node, ast.ClassDef):
                    classes.setdefault(node.name, node)
                elif isinstance(node, ast.FunctionDef):
                    functions.setdefault(node.name, node)
                elif isinstance(node, ast.ImportFrom):
                    source = _resolve_relative(package, node.level, node.module)
                    for alias in node.names:
                        if alias.name != "*":
                            imports.setdefault(alias.asname or alias.name, []).append(
                                f"{source}.{alias.name}"
                            )
                elif isinstance(node, ast.Import):
                    for alias in node.names:
                        if alias.asname:
                            modules[alias.asname] = alias.name
                        else:
                            top = alias.name.split(".")[0]
                            modules[top] = top
                elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                    target = node.targets[0]
                    if isinstance(target, ast.Name):
                        assigns.setdefault(target.id, node.value)
                elif (
                    isinstance(node, ast.AnnAssign)
                    and isinstance(node.target, ast.Name)
                    and node.value is not None
                ):
                    assigns.setdefault(node.target.id, node.value)
            if "__getattr__" in functions or "__getattr__" in assigns:
                lazy = _lazy_import_map(assigns)
        self._classes[module] = classes
        self._functions[module] = functions
        self._lazy[module] = lazy
        self._imports[module] = imports
        self._modules[module] = modules
        self._assigns[module] = assigns

    def classes_in(self, module: str) -> list[ClassDef]:
        self._load(module)
        origin = self.origin(module)
        return [ClassDef(module, name, node, origin) for name, node in self._classes[module].items()]

    # -- name resolution ------------------------------------------------------------------------------
    def symbol(self, module: str, name: str, depth: int = 0) -> Symbol | None:
        """What `from module import name` gives: a class, a module-level expression (module, expr), or None."""
        if depth > MAX_DEPTH:
            return None
        self._load(module)
        node = self._classes[module].get(name)
        if node is not None:
            return ClassDef(module, name, node, self.origin(module))
        func = self._functions[module].get(name)
        if func is not None:
            return FunctionRef(module, func)
        for candidate in self._imports[module].get(name, []):
            src, _, attr = candidate.rpartition(".")
            found = self.symbol(src, attr, depth + 1)
            if found is not None:
                return found
        expr = self._assigns[module].get(name)
        if expr is not None:
            if isinstance(expr, ast.Name | ast.Attribute):
                target = self.expr_symbol(module, expr, depth + 1)
                if target is not None:
                    return target
            return module, expr
        info = self.info(module)
        if info is not None:
            served = info.served.get(name)
            own = info.virtual.get("", {}).get(name)
            for target in (served, own):
                if target:
                    src, _, attr = target.rpartition(".")
                    found = self.symbol(src, attr, depth + 1)
                    if found is not None:
                        return found
            for src in self._lazy[module].get(name, []):
                found = self.symbol(src, name, depth + 1)
                if found is not None:
                    return found
            for star in info.star_imports:
                found = self.symbol(star, name, depth + 1)
                if found is not None:
                    return found
        parent, _, leaf = module.rpartition(".")
        virtual = self.env.virtual_table(module)
        if parent and virtual and name in virtual:
            src, _, attr = virtual[name].rpartition(".")
            return self.symbol(src, attr, depth + 1)
        del leaf
        return None

    def expr_symbol(self, module: str, expr: ast.expr, depth: int = 0) -> Symbol | None:
        """Resolve a Name or dotted Attribute used in `module`."""
        if isinstance(expr, ast.Name):
            return self.symbol(module, expr.id, depth)
        dotted = _dotted(expr)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        self._load(module)
        if head in self._modules[module]:
            full = f"{self._modules[module][head]}.{rest}"
            src, _, attr = full.rpartition(".")
            return self.symbol(src, attr, depth + 1)
        # `SomeClass.attr` is not a class; `pkg.mod.Class` written in full is
        src, _, attr = dotted.rpartition(".")
        if self.env.module_file(src) is not None:
            return self.symbol(src, attr, depth + 1)
        return None

    def bases(self, cls: ClassDef) -> list[Base]:
        out: list[Base] = []
        for base in cls.node.bases:
            if isinstance(base, ast.Subscript):  # Generic[T], SomeBase[Foo]
                base = base.value
            found = self.expr_symbol(cls.module, base)
            if isinstance(found, ClassDef):
                if found.qualname != cls.qualname:
                    out.append(found)
            else:
                text = _dotted(base)
                if text and text not in {"object", "Generic", "Protocol", "ABC"}:
                    out.append(text)
        return out

    def mro(self, cls: ClassDef) -> list[Base]:
        key = cls.qualname
        if key in self._mro:
            return self._mro[key]
        self._mro[key] = [cls]  # cycle guard
        seqs: list[list[Base]] = []
        bases = self.bases(cls)
        for base in bases:
            seqs.append(self.mro(base) if isinstance(base, ClassDef) else [base])
        seqs.append(list(bases))
        result = [cls, *_c3(seqs)]
        self._mro[key] = result
        return result

    # -- template_fields / template_ext ---------------------------------------------------------------
    def resolve(self, cls: ClassDef, attr: str) -> Resolved:
        key = (cls.qualname, attr)
        if key in self._resolved:
            return self._resolved[key]
        if key in self._stack:
            return Resolved(_unreadable(f"{attr} of {cls.qualname} refers to itself"), cls.qualname)
        self._stack.add(key)
        try:
            result = Resolved(Value(), None)
            for klass in self.mro(cls):
                if isinstance(klass, str):
                    continue
                expr = _class_assignment(klass.node, attr)
                if expr is not None:
                    value = self.evaluate(klass, expr, attr)
                    result = Resolved(value, klass.qualname)
                    break
                if _class_property(klass.node, attr):
                    result = Resolved(
                        _unreadable(f"{attr} is a property of {klass.qualname}"), klass.qualname
                    )
                    break
        finally:
            self._stack.discard(key)
        self._resolved[key] = result
        return result

    def evaluate(
        self,
        cls: ClassDef,
        expr: ast.expr,
        attr: str,
        depth: int = 0,
        local: dict[str, Value] | None = None,
    ) -> Value:
        """Strings of a class-level expression in `cls`'s body (`local`: a called function's arguments)."""
        if depth > MAX_DEPTH:
            return _unreadable(f"{attr} of {cls.qualname}: nested too deep")
        if local and isinstance(expr, ast.Name) and expr.id in local:
            return local[expr.id].copy()

        def ev(node: ast.expr) -> Value:
            return self.evaluate(cls, node, attr, depth + 1, local)

        if isinstance(expr, ast.Constant):
            if isinstance(expr.value, str):
                return Value([expr.value], True, [f"{cls.qualname}.{attr} is a bare string"])
            if expr.value is None:
                return Value()
        if isinstance(expr, ast.Tuple | ast.List | ast.Set):
            out = Value()
            for elt in expr.elts:
                inner = elt.value if isinstance(elt, ast.Starred) else elt
                if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
                    out.extend(Value([inner.value]))
                else:
                    out.extend(ev(inner))
            if isinstance(expr, ast.Set):
                out.items.sort()
            return out
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add | ast.BitOr | ast.Sub):
            left = ev(expr.left)
            right = ev(expr.right)
            if isinstance(expr.op, ast.Sub):
                out = Value([i for i in left.items if i not in right.items], left.complete and right.complete)
                out.notes = left.notes + right.notes
            else:
                out = Value()
                out.extend(left)
                out.extend(right)
            if isinstance(expr.op, ast.BitOr | ast.Sub):
                out.items.sort()
            return out
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
            fname = expr.func.id
            if fname in {"tuple", "list", "set", "frozenset", "sorted"} and len(expr.args) <= 1:
                if not expr.args:
                    return Value()
                out = ev(expr.args[0])
                if fname in {"set", "frozenset", "sorted"}:
                    out.items.sort()
                return out
        if (
            isinstance(expr, ast.Call)
            and isinstance(expr.func, ast.Attribute)
            and expr.func.attr in {"union", "difference", "intersection"}
            and not expr.keywords
        ):
            out = ev(expr.func.value)
            for arg in expr.args:
                other = ev(arg)
                if expr.func.attr == "union":
                    out.extend(other)
                elif expr.func.attr == "difference":
                    out.items = [i for i in out.items if i not in other.items]
                else:
                    out.items = [i for i in out.items if i in other.items]
                out.complete = out.complete and other.complete
            out.items.sort()
            return out
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name | ast.Attribute):
            func = self.expr_symbol(cls.module, expr.func)
            if isinstance(func, FunctionRef):
                return self._call(cls, func, expr, attr, depth, local)
        if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Slice):
            base = ev(expr.value)
            lower, upper = _int(expr.slice.lower), _int(expr.slice.upper)
            if expr.slice.step is None and lower is not False and upper is not False:
                base.items = base.items[lower:upper]
                return base
        if isinstance(expr, ast.GeneratorExp | ast.ListComp | ast.SetComp):
            return self._comprehension(cls, expr, attr, depth, local)
        if isinstance(expr, ast.Name):
            # an earlier name in the class body, then the module's names
            for stmt in cls.node.body:
                if isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None:
                    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                    if any(isinstance(t, ast.Name) and t.id == expr.id for t in targets) and expr.id != attr:
                        return self.evaluate(cls, stmt.value, attr, depth + 1)
            return self._module_value(cls, cls.module, expr, attr, depth)
        if isinstance(expr, ast.Attribute):
            owner = self.expr_symbol(cls.module, expr.value)
            if isinstance(owner, ClassDef):
                if expr.attr in ATTRS:
                    return self.resolve(owner, expr.attr).value.copy()
                inner = _class_assignment(owner.node, expr.attr)
                if inner is not None:
                    return self.evaluate(owner, inner, attr, depth + 1)
            found = self.expr_symbol(cls.module, expr)
            if isinstance(found, tuple):
                module, value = found
                return self.evaluate(ClassDef(module, cls.name, cls.node, cls.origin), value, attr, depth + 1)
        text = ast.unparse(expr)
        return _unreadable(f"{cls.qualname}.{attr} = {text[:80]}")

    def _module_value(self, cls: ClassDef, module: str, expr: ast.Name, attr: str, depth: int) -> Value:
        found = self.symbol(module, expr.id)
        if isinstance(found, tuple):
            where, value = found
            # evaluate in the defining module (its names), keeping the class for messages
            return self.evaluate(ClassDef(where, cls.name, cls.node, cls.origin), value, attr, depth + 1)
        return _unreadable(f"{cls.qualname}.{attr}: name {expr.id} not found")

    def _call(
        self,
        cls: ClassDef,
        func: FunctionRef,
        call: ast.Call,
        attr: str,
        depth: int,
        local: dict[str, Value] | None,
    ) -> Value:
        """A helper like `aws_template_fields("a", "b")`: evaluate its final `return` with the arguments bound."""
        text = f"{cls.qualname}.{attr} = {ast.unparse(call)[:80]}"
        returns = [s for s in func.node.body if isinstance(s, ast.Return) and s.value is not None]
        args = func.node.args
        if len(returns) != 1 or call.keywords or args.kwonlyargs or args.kwarg:
            return _unreadable(text)
        params = [a.arg for a in [*args.posonlyargs, *args.args]]
        if any(isinstance(a, ast.Starred) for a in call.args):
            if args.vararg is None or params:
                return _unreadable(text)
            rest = Value()
            for a in call.args:
                rest.extend(
                    self.evaluate(cls, a.value if isinstance(a, ast.Starred) else a, attr, depth + 1, local)
                )
            values = [rest]
        else:
            values = [self.evaluate(cls, a, attr, depth + 1, local) for a in call.args]
        bound: dict[str, Value] = {}
        for param, value in zip(params, values, strict=False):
            bound[param] = value
        missing = params[len(values) :]
        defaults = args.defaults[len(args.defaults) - len(missing) :] if missing else []
        if len(defaults) < len(missing):
            return _unreadable(text)
        for param, default in zip(missing, defaults, strict=True):
            bound[param] = self.evaluate(cls, default, attr, depth + 1, local)
        if args.vararg is not None:
            rest = Value()
            for value in values[len(params) :]:
                rest.extend(value)
            bound[args.vararg.arg] = rest
        elif len(values) > len(params):
            return _unreadable(text)
        owner = ClassDef(func.module, cls.name, cls.node, cls.origin)
        value = returns[0].value
        assert value is not None
        out = self.evaluate(owner, value, attr, depth + 1, bound)
        out.notes = [n.replace(f"{owner.qualname}.", f"{cls.qualname}.") for n in out.notes]
        return out

    def _comprehension(
        self,
        cls: ClassDef,
        expr: ast.GeneratorExp | ast.ListComp | ast.SetComp,
        attr: str,
        depth: int,
        local: dict[str, Value] | None,
    ) -> Value:
        """`(f for f in X if f != "a")` / `... if f not in ("a", "b")`: a filter over one evaluated source."""
        if len(expr.generators) != 1:
            return _unreadable(f"{cls.qualname}.{attr} = {ast.unparse(expr)[:80]}")
        gen = expr.generators[0]
        if not (isinstance(gen.target, ast.Name) and isinstance(expr.elt, ast.Name)):
            return _unreadable(f"{cls.qualname}.{attr} = {ast.unparse(expr)[:80]}")
        var = gen.target.id
        source = self.evaluate(cls, gen.iter, attr, depth + 1, local)
        items = list(source.items)
        for cond in gen.ifs:
            if not (
                isinstance(cond, ast.Compare)
                and isinstance(cond.left, ast.Name)
                and cond.left.id == var
                and len(cond.ops) == 1
            ):
                return _unreadable(f"{cls.qualname}.{attr} = {ast.unparse(expr)[:80]}")
            other = self.evaluate(cls, cond.comparators[0], attr, depth + 1, local)
            op = cond.ops[0]
            if isinstance(op, ast.NotEq | ast.NotIn):
                items = [i for i in items if i not in other.items]
            elif isinstance(op, ast.Eq | ast.In):
                items = [i for i in items if i in other.items]
            else:
                return _unreadable(f"{cls.qualname}.{attr} = {ast.unparse(expr)[:80]}")
        out = Value(items, source.complete, source.notes)
        if isinstance(expr, ast.SetComp):
            out.items.sort()
        return out


def _lazy_import_map(assigns: dict[str, ast.expr]) -> dict[str, list[str]]:
    """Module-level `{"Name": "module"}` / `{"Name": ("module", "fallback")}` maps a module `__getattr__`
    imports from (common-compat's `_IMPORT_MAP` style)."""
    out: dict[str, list[str]] = {}
    for value in assigns.values():
        if not isinstance(value, ast.Dict):
            continue
        for key, target in zip(value.keys, value.values, strict=True):
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                continue
            elts = target.elts if isinstance(target, ast.Tuple) else [target]
            modules = [e.value for e in elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            if modules and all(m.startswith("airflow") for m in modules):
                out.setdefault(key.value, []).extend(modules)
    return out


def _int(node: ast.expr | None) -> int | bool | None:
    """An int slice bound, None when absent, False when not a constant."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
    ):
        value = node.operand.value
        return -value if isinstance(value, int) else False
    return False


def _all_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-level statements in source order, looking into if/try/with blocks, TYPE_CHECKING ones
    included (their imports name the 3.x paths that version-compat modules pick at runtime)."""
    for node in body:
        yield node
        if isinstance(node, ast.If):
            yield from _all_statements(node.body)
            yield from _all_statements(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _all_statements(block)
            for handler in node.handlers:
                yield from _all_statements(handler.body)
        elif isinstance(node, ast.With):
            yield from _all_statements(node.body)


def _dotted(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        head = _dotted(expr.value)
        return f"{head}.{expr.attr}" if head else None
    return None


def _class_body(node: ast.ClassDef) -> Iterator[ast.stmt]:
    """Class-level statements, looking into if/try blocks."""
    for stmt in node.body:
        yield stmt
        if isinstance(stmt, ast.If):
            yield from stmt.body
            yield from stmt.orelse
        elif isinstance(stmt, ast.Try):
            for block in (stmt.body, stmt.orelse, stmt.finalbody):
                yield from block


def _class_assignment(node: ast.ClassDef, attr: str) -> ast.expr | None:
    value: ast.expr | None = None
    for stmt in _class_body(node):
        if isinstance(stmt, ast.Assign):
            if any(isinstance(t, ast.Name) and t.id == attr for t in stmt.targets):
                value = stmt.value
        elif (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and stmt.target.id == attr
            and stmt.value is not None
        ):
            value = stmt.value
    return value


def _class_property(node: ast.ClassDef, attr: str) -> bool:
    return any(
        isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) and stmt.name == attr for stmt in node.body
    )


def _runtime_assignment(node: ast.ClassDef, attr: str) -> bool:
    """`self.template_fields = ...` (or `+=`) in a method."""
    for sub in ast.walk(node):
        targets: list[ast.expr] = []
        if isinstance(sub, ast.Assign):
            targets = sub.targets
        elif isinstance(sub, ast.AugAssign | ast.AnnAssign):
            targets = [sub.target]
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and target.attr == attr
                and isinstance(target.value, ast.Name)
                and target.value.id == "self"
            ):
                return True
    return False


def _c3(seqs: list[list[Base]]) -> list[Base]:
    def key(item: Base) -> str:
        return item if isinstance(item, str) else item.qualname

    seqs = [[*s] for s in seqs if s]
    out: list[Base] = []
    while seqs:
        head: Base | None = None
        for seq in seqs:
            candidate = seq[0]
            if not any(key(candidate) in {key(x) for x in other[1:]} for other in seqs):
                head = candidate
                break
        if head is None:  # inconsistent hierarchy: fall back to depth-first order
            seen = {key(x) for x in out}
            for seq in seqs:
                for item in seq:
                    if key(item) not in seen:
                        seen.add(key(item))
                        out.append(item)
            return out
        out.append(head)
        seqs = [[x for x in seq if key(x) != key(head)] for seq in seqs]
        seqs = [s for s in seqs if s]
    return out


# --------------------------------------------------------------------------------------------------
# The table


@dataclass
class Source:
    """One release line read: its world and which of its modules hold the classes to record."""

    name: str
    world: World
    prefixes: list[str]
    scope: re.Pattern[str] | None = None

    def modules(self) -> list[str]:
        found: set[str] = set()
        for prefix in self.prefixes:
            found.update(self.world.env.iter_modules(prefix))
        if self.scope is not None:
            found = {m for m in found if self.scope.match(m)}
        return sorted(found)


class Generator:
    def __init__(self, fetcher: Fetcher) -> None:
        self.fetcher = fetcher
        self.versions: dict[str, str] = {}
        self.classes: dict[str, dict[str, Any]] = {}
        self.counts: Counter[str] = Counter()
        self.partial: list[str] = []
        self.runtime: Counter[str] = Counter()  # runtime assignment -> classes it reaches
        self.unresolved_bases: Counter[str] = Counter()
        self.collisions: list[str] = []
        self.notes: list[str] = []

    def _wheel(self, dist: str, version: str, label: str) -> Wheel:
        path = self.fetcher.wheel(dist, version)
        if path is None:
            raise SystemExit(f"missing wheel {dist}=={version} (run without --offline)")
        return Wheel(path, label)

    def provider_dists(self) -> list[str]:
        listed = json.loads(MOVES.read_text())["sources"]["providers"]
        return sorted(set(listed) | set(EXTRA_PROVIDERS))

    def sources(self) -> list[Source]:
        airflow_110 = self._wheel("apache-airflow", AIRFLOW_110, f"airflow-{AIRFLOW_110}")
        airflow_211 = self._wheel("apache-airflow", AIRFLOW_211, f"airflow-{AIRFLOW_211}")
        core = self._wheel("apache-airflow-core", CORE_33, f"airflow-core-{CORE_33}")
        sdk = self._wheel("apache-airflow-task-sdk", SDK_33, f"airflow-task-sdk-{SDK_33}")
        providers: list[Wheel] = []
        for dist in self.provider_dists():
            versions = self.fetcher.versions(dist)
            if not versions:
                raise SystemExit(f"no release list for {dist} (run without --offline)")
            self.versions[dist] = versions[-1]
            providers.append(self._wheel(dist, versions[-1], f"{dist}-{versions[-1]}"))
        modern = World(Env(f"airflow-core-{CORE_33}", [sdk, core, *providers]))
        return [
            Source(
                "1.10",
                World(Env(airflow_110.label, [airflow_110])),
                ["airflow.operators", "airflow.sensors", "airflow.contrib", "airflow.models.baseoperator"],
            ),
            Source(
                "2.11",
                World(Env(airflow_211.label, [airflow_211])),
                ["airflow.operators", "airflow.sensors", "airflow.models.baseoperator"],
            ),
            Source("3.3 task-sdk", modern, ["airflow.sdk.bases"]),
            Source("3.3 standard provider", modern, ["airflow.providers.standard"]),
            Source(
                "providers",
                modern,
                ["airflow.providers"],
                PROVIDER_SCOPE,
            ),
        ]

    def is_operator(self, world: World, cls: ClassDef) -> bool:
        for klass in world.mro(cls):
            name = klass.rpartition(".")[2] if isinstance(klass, str) else klass.name
            if name in {"BaseOperator", "BaseSensorOperator"}:
                return True
            if isinstance(klass, ClassDef) and any(_class_assignment(klass.node, a) for a in ATTRS):
                return True
        return False

    def record(self, source: Source, cls: ClassDef) -> dict[str, Any]:
        world = source.world
        entry: dict[str, Any] = {"origin": cls.origin}
        notes: list[str] = []
        for attr, key in (("template_fields", "fields"), ("template_ext", "ext")):
            resolved = world.resolve(cls, attr)
            entry[key] = list(resolved.value.items)
            if not resolved.value.complete:
                notes.extend(resolved.value.notes)
        for klass in world.mro(cls):
            if isinstance(klass, str):
                self.unresolved_bases[klass] += 1
                if not notes or "unresolved base" not in notes[-1]:
                    notes.append(f"unresolved base {klass}")
            elif klass.name not in {"BaseOperator", "BaseSensorOperator"}:  # those only wrap a bare string
                for a in ATTRS:
                    if _runtime_assignment(klass.node, a):
                        self.runtime[f"{klass.qualname} sets self.{a} in a method"] += 1
        if notes:
            # fields may be missing: the note says what could not be read
            entry["partial"] = True
            entry["note"] = "; ".join(dict.fromkeys(notes))
            self.partial.append(f"{cls.qualname}: {entry['note']}")
        return entry

    def build(self) -> dict[str, Any]:
        done: set[tuple[int, str]] = set()  # (world, module): the 3.3 sources share one world
        for source in self.sources_cache:
            world = source.world
            for module in source.modules():
                if (id(world), module) in done:
                    continue
                done.add((id(world), module))
                for cls in world.classes_in(module):
                    if self.is_operator(world, cls):
                        self.add(cls.qualname, self.record(source, cls), source.name)
            self.add_aliases(source)
        self.add_sdk_exports(next(s for s in self.sources_cache if s.name == "3.3 task-sdk"))
        return {
            "schema": 1,
            "generated_by": "scripts/generate_template_fields.py",
            "sources": {
                "apache-airflow": [AIRFLOW_110, AIRFLOW_211],
                "apache-airflow-core": [CORE_33],
                "apache-airflow-task-sdk": [SDK_33],
                "providers": dict(sorted(self.versions.items())),
            },
            "classes": dict(sorted(self.classes.items())),
        }

    @property
    def sources_cache(self) -> list[Source]:
        if not hasattr(self, "_sources"):
            self._sources = self.sources()
        return self._sources

    def add(self, key: str, entry: dict[str, Any], source: str) -> None:
        existing = self.classes.get(key)
        if existing is not None:
            same = existing["fields"] == entry["fields"] and existing["ext"] == entry["ext"]
            self.collisions.append(
                f"{key}: {existing['origin']} and {entry['origin']}" + ("" if same else " (values differ)")
            )
            # the newer release wins; the older one stays listed when it differs
            if not same:
                older = {k: existing[k] for k in ("fields", "ext", "origin")}
                entry.setdefault("also", []).extend([*existing.get("also", []), older])
        self.classes[key] = entry
        self.counts[source] += existing is None

    def add_aliases(self, source: Source) -> None:
        """Module-level `Old = New` in scope modules (kept for compatibility): same fields as the class."""
        world = source.world
        for module in source.modules():
            world._load(module)
            for name, expr in sorted(world._assigns[module].items()):
                if not isinstance(expr, ast.Name | ast.Attribute):
                    continue
                key = f"{module}.{name}"
                target = world.expr_symbol(module, expr)
                if (
                    not isinstance(target, ClassDef)
                    or target.qualname not in self.classes
                    or key in self.classes
                ):
                    continue
                entry = {**self.classes[target.qualname], "alias_of": target.qualname}
                entry.pop("also", None)
                self.classes[key] = entry
                self.counts[f"{source.name} (aliases)"] += 1

    def add_sdk_exports(self, source: Source) -> None:
        """Public `airflow.sdk.X` names (lazy exports of the task SDK) for the base classes recorded."""
        info = source.world.info("airflow.sdk")
        if info is None:
            return
        for name, target in sorted(info.served.items()):
            if target and target in self.classes and f"airflow.sdk.{name}" not in self.classes:
                entry = {**self.classes[target], "alias_of": target}
                self.classes[f"airflow.sdk.{name}"] = entry
                self.counts[f"{source.name} (public exports)"] += 1

    def summary(self) -> str:
        lines = ["classes per source:"]
        lines.extend(f"  {count:5d}  {name}" for name, count in sorted(self.counts.items()))
        lines.append(f"  {len(self.classes):5d}  total entries")
        lines.append(f"not read statically ({len(self.partial)}; recorded as far as read, with a note):")
        lines.extend(f"  {p}" for p in self.partial)
        lines.append("assigned at runtime too (the table has the class-level value; classes affected):")
        lines.extend(f"  {n:5d}  {r}" for r, n in sorted(self.runtime.items()))
        lines.append("unresolved bases (treated as contributing nothing):")
        lines.extend(f"  {n:5d}  {b}" for b, n in self.unresolved_bases.most_common())
        differ = [c for c in self.collisions if c.endswith("(values differ)")]
        lines.append(f"paths defined in more than one release: {len(self.collisions)} ({len(differ)} differ)")
        lines.extend(f"  {c}" for c in differ)
        lines.extend(f"  {n}" for n in sorted(set(self.fetcher.log)))
        lines.append("providers read:")
        lines.extend(f"  {d} {v}" for d, v in sorted(self.versions.items()))
        return "\n".join(lines)


def _build(fetcher: Fetcher) -> tuple[dict[str, Any], str]:
    generator = Generator(fetcher)
    data = generator.build()
    return data, generator.summary()


def main(argv: list[str] | None = None) -> int:
    return run_generator(argv, __doc__, OUTPUT, _build, lambda data: f"{len(data['classes'])} classes")


if __name__ == "__main__":
    raise SystemExit(main())
