"""A DAG folder: the upgrader's scan (rules, source version, providers) plus what the inventory adds:
DAG ids, operators by class, queues and pools named in code, files that reach into the metadata DB.

The scan is the same `airshift scan` runs (same discovery, same rules, same cache). The extra facts
come from one `ast` pass per file; only literal values count (a queue computed at run time cannot be
known without running the code, and `airshift verify` covers that)."""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from airshift.platform.inventory_model import DagFolder, DagInfo
from airshift.platform.inventory_plugins import read_plugins

# Names whose use in a DAG file means the file talks to the metadata DB directly (Airflow 3 forbids it
# in tasks: they go through the Task Execution API).
_DB_NAMES = {
    "airflow.settings.Session",
    "airflow.utils.session.create_session",
    "airflow.utils.session.provide_session",
    "airflow.utils.db.provide_session",
    "airflow.utils.db.create_session",
    "airflow.settings.engine",
    "sqlalchemy.orm.Session",
}
_DAG_CLASSES = {"DAG"}
_DAG_DECORATORS = {"dag"}


def _call_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _literal(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _schedule(keywords: list[ast.keyword]) -> str | None:
    for keyword in keywords:
        if keyword.arg in ("schedule", "schedule_interval"):
            value = keyword.value
            if isinstance(value, ast.Constant) and value.value is None:
                return "none"
            return _literal(value) or ast.unparse(value)
    return None


class _FileFacts(ast.NodeVisitor):
    def __init__(self) -> None:
        self.dags: list[tuple[str, int, str | None]] = []
        self.operators: Counter[str] = Counter()
        self.queues: Counter[str] = Counter()
        self.pools: Counter[str] = Counter()
        self.imported: set[str] = set()

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.imported.add(alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            self.imported.add(f"{node.module or ''}.{alias.name}")

    def visit_Call(self, node: ast.Call) -> None:
        name = _call_name(node.func)
        if name in _DAG_CLASSES:
            dag_id = _literal(node.args[0]) if node.args else None
            for keyword in node.keywords:
                if keyword.arg == "dag_id":
                    dag_id = _literal(keyword.value)
            if dag_id:
                self.dags.append((dag_id, node.lineno, _schedule(node.keywords)))
        elif name and name.endswith(("Operator", "Sensor")):
            self.operators[name] += 1
        for keyword in node.keywords:
            value = _literal(keyword.value)
            if value is None:
                continue
            if keyword.arg == "queue":
                self.queues[value] += 1
            elif keyword.arg == "pool":
                self.pools[value] += 1
        self.generic_visit(node)

    def _decorated(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if _call_name(target) in _DAG_DECORATORS:
                dag_id = node.name
                if isinstance(decorator, ast.Call):
                    first = _literal(decorator.args[0]) if decorator.args else None
                    for keyword in decorator.keywords:
                        if keyword.arg == "dag_id":
                            first = _literal(keyword.value)
                    dag_id = first or dag_id
                keywords = decorator.keywords if isinstance(decorator, ast.Call) else []
                self.dags.append((dag_id, node.lineno, _schedule(keywords)))
        self.generic_visit(node)

    visit_FunctionDef = _decorated
    visit_AsyncFunctionDef = _decorated

    def visit_Dict(self, node: ast.Dict) -> None:
        # default_args={"queue": "..."} / {"pool": "..."}
        for key, value in zip(node.keys, node.values, strict=True):
            key_text, value_text = _literal(key), _literal(value)
            if key_text == "queue" and value_text:
                self.queues[value_text] += 1
            elif key_text == "pool" and value_text:
                self.pools[value_text] += 1
        self.generic_visit(node)


def read_dag_folder(path: Path, progress: Callable[[int], None] | None = None) -> DagFolder:
    from airshift.upgrade.context import Settings
    from airshift.upgrade.discovery import discover
    from airshift.upgrade.registry import Selection
    from airshift.upgrade.runner import RunOptions, run

    found = discover([path])
    options = RunOptions(settings=Settings(), selection=Selection(), fix=False, write=False)
    result = run(found, options, progress)
    folder = DagFolder(path=str(path))
    operators: Counter[str] = Counter()
    queues: Counter[str] = Counter()
    pools: Counter[str] = Counter()
    versions: Counter[str] = Counter()
    rules: Counter[str] = Counter()
    plugin_dirs = {path / "plugins", path.parent / "plugins"}
    for _root, file in found.python:
        if any(plugin_dir in file.parents for plugin_dir in plugin_dirs):
            continue
        folder.python_files += 1
        try:
            tree = ast.parse(file.read_bytes(), filename=str(file))
        except (SyntaxError, ValueError, OSError):
            continue  # the scan reports why
        facts = _FileFacts()
        facts.visit(tree)
        relative = str(file.relative_to(path)) if file.is_relative_to(path) else str(file)
        if facts.dags:
            folder.dag_files += 1
        folder.dags.extend(
            DagInfo(dag_id=dag_id, file=relative, line=line, schedule=schedule)
            for dag_id, line, schedule in facts.dags
        )
        operators.update(facts.operators)
        queues.update(facts.queues)
        pools.update(facts.pools)
        if facts.imported & _DB_NAMES:
            folder.uses_metadata_db.append(relative)
    for report in result.files:
        if report.status == "failed":
            folder.failed_files[report.path] = report.error or "failed"
            continue
        if report.source_version:
            versions[report.source_version] += 1
        rules.update(problem.code for problem in report.problems)
    folder.providers = {
        requirement.distribution: requirement.min_version for requirement in result.requirements
    }
    folder.operators = dict(operators.most_common())
    folder.queues = dict(sorted(queues.items()))
    folder.pools = dict(sorted(pools.items()))
    folder.source_versions = dict(sorted(versions.items()))
    folder.rules = dict(sorted(rules.items()))
    for plugin_dir in (path / "plugins", path.parent / "plugins"):
        if plugin_dir.is_dir():
            folder.plugins.extend(read_plugins(plugin_dir))
            break
    return folder
