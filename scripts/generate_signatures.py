#!/usr/bin/env python3
"""Generate src/airshift/upgrade/tables/signatures.json: the keyword arguments each operator and sensor
accepts on Airflow 2.11 and 3.3, read statically from the same wheels as generate_template_fields.py.

A class accepts the parameters of every `__init__` along its MRO, as long as each passes `**kwargs` on,
down to BaseOperator (whose own `**kwargs` Airflow rejects: "Invalid arguments were passed"). A class
whose chain has a base that cannot be read, or an `__init__` with `*args`/`**kwargs` that are not
passed on, is left out: airshift then checks nothing for it. `required` lists the keyword-only
parameters without a default of the class's own `__init__` chain (`task_id` aside). BaseOperator's
parameters, which every class accepts, are stored once per target as `base`.

Run `python scripts/generate_signatures.py` (add `--offline` to use only the wheel cache).
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate_tables import run_generator
from generate_template_fields import ClassDef, Fetcher, Generator, Source

REPO = Path(__file__).resolve().parent.parent
OUTPUT = REPO / "src" / "airshift" / "upgrade" / "tables" / "signatures.json"
ROOTS = {"BaseOperator", "BaseSensorOperator"}  # their **kwargs are rejected by Airflow itself
SOURCES = {"2.11": ("2.11",), "3.3": ("3.3 task-sdk", "3.3 standard provider", "providers")}


def _init(cls: ClassDef) -> ast.FunctionDef | None:
    for node in cls.node.body:
        if isinstance(node, ast.FunctionDef) and node.name == "__init__":
            return node
    return None


def _passes_kwargs_on(function: ast.FunctionDef) -> bool:
    """True when __init__ hands its **kwargs to super().__init__ (the usual operator chain)."""
    kwarg = function.args.kwarg
    if kwarg is None:
        return False
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "__init__"
            and any(
                k.arg is None and isinstance(k.value, ast.Name) and k.value.id == kwarg.arg
                for k in node.keywords
            )
        ):
            return True
    return False


def signature(generator: Generator, source: Source, cls: ClassDef) -> dict[str, Any] | None:
    accepted: set[str] = set()
    required: set[str] = set()
    for klass in source.world.mro(cls):
        if isinstance(klass, str):
            return None  # a base we cannot read may take anything
        function = _init(klass)
        if function is None:
            if klass.name in ROOTS:
                return None  # BaseOperator without a readable __init__: do not guess
            continue
        args = function.args
        names = [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs] if a.arg != "self"]
        accepted.update(names)
        for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
            if default is None and arg.arg != "task_id":
                required.add(arg.arg)
        if klass.name == "BaseOperator":
            return {"accepted": sorted(accepted), "required": sorted(required - {"task_id"})}
        if args.vararg is not None or not _passes_kwargs_on(function):
            return None  # takes *args, or keeps **kwargs to itself: not a closed set
    return None


def build(fetcher: Fetcher) -> tuple[dict[str, Any], str]:
    generator = Generator(fetcher)
    targets: dict[str, dict[str, Any]] = {}
    lines = []
    for target, names in SOURCES.items():
        classes: dict[str, Any] = {}
        done: set[tuple[int, str]] = set()
        for source in generator.sources_cache:
            if source.name not in names:
                continue
            world = source.world
            for module in source.modules():
                if (id(world), module) in done:
                    continue
                done.add((id(world), module))
                for cls in world.classes_in(module):
                    if cls.name in ROOTS or not generator.is_operator(world, cls):
                        continue
                    found = signature(generator, source, cls)
                    if found is not None:
                        classes[cls.qualname] = found
        # Every class accepts BaseOperator's parameters: stored once as "base", each class lists its own.
        counts = Counter(p for c in classes.values() for p in c["accepted"])
        base = {p for p, n in counts.items() if n >= 0.9 * len(classes)}
        entries: dict[str, Any] = {}
        for name, c in sorted(classes.items()):
            accepted = set(c["accepted"])
            entries[name] = {"own": sorted(accepted - base), "required": c["required"]}
            if base - accepted:  # the rare class that does not take every base parameter
                entries[name]["not_base"] = sorted(base - accepted)
        targets[target] = {"base": sorted(base), "classes": entries}
        lines.append(f"{target}: {len(classes)} classes with a closed signature, {len(base)} base parameters")
    data = {
        "generated_by": "scripts/generate_signatures.py",
        "schema": 1,
        "sources": {"providers": dict(sorted(generator.versions.items()))},
        "targets": targets,
    }
    return data, "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    return run_generator(
        argv,
        __doc__,
        OUTPUT,
        build,
        lambda data: ", ".join(f"{t}: {len(c['classes'])}" for t, c in data["targets"].items()),
    )


if __name__ == "__main__":
    raise SystemExit(main())
