"""Airflow plugins (a plugins/ folder or an MWAA plugins.zip): each AirflowPlugin subclass and what it
registers, read with `ast` (plugins are not imported: they may need packages that are not here).

Extension points Airflow removed: operators, sensors, hooks, executors and macros registered through
plugins (gone in 2.0: import them as modules); Flask-Admin views and menu links (gone in 2.0); and
the Flask-AppBuilder UI hooks, which Airflow 3 serves only through the FAB provider's legacy support
(new UIs are FastAPI apps, external views and React apps)."""

from __future__ import annotations

import ast
import zipfile
from collections.abc import Iterator
from pathlib import Path

from airshift.platform.inventory_model import PluginInfo

REMOVED_IN_2 = ("operators", "sensors", "hooks", "executors", "macros", "admin_views", "menu_links")
LEGACY_IN_3 = ("flask_blueprints", "appbuilder_views", "appbuilder_menu_items")
EXTENSION_POINTS = (
    *REMOVED_IN_2,
    *LEGACY_IN_3,
    "global_operator_extra_links",
    "operator_extra_links",
    "source",
    "timetables",
    "listeners",
    "priority_weight_strategies",
    "fastapi_apps",
    "fastapi_root_middlewares",
    "external_views",
    "react_apps",
)


def _names(node: ast.AST) -> list[str]:
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        found = []
        for element in node.elts:
            if isinstance(element, ast.Name):
                found.append(element.id)
            elif isinstance(element, ast.Attribute):
                found.append(element.attr)
            elif isinstance(element, ast.Call) and isinstance(element.func, (ast.Name, ast.Attribute)):
                found.append(str(getattr(element.func, "id", None) or getattr(element.func, "attr", "?")))
            elif isinstance(element, ast.Dict):
                keys = [k.value for k in element.keys if isinstance(k, ast.Constant)]
                found.append(str(keys[0]) if keys else "{...}")
            else:
                found.append(type(element).__name__)
        return found
    if isinstance(node, ast.Name):
        return [node.id]
    return ["?"]


def plugins_in_source(source: bytes, display: str) -> list[PluginInfo]:
    try:
        tree = ast.parse(source, filename=display)
    except (SyntaxError, ValueError):
        return []
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        bases = {getattr(base, "id", None) or getattr(base, "attr", None) for base in node.bases}
        if "AirflowPlugin" not in bases:
            continue
        name = node.name
        registers: dict[str, list[str]] = {}
        for statement in node.body:
            if not isinstance(statement, ast.Assign):
                continue
            for target in statement.targets:
                if not isinstance(target, ast.Name):
                    continue
                if target.id == "name" and isinstance(statement.value, ast.Constant):
                    name = str(statement.value.value)
                elif target.id in EXTENSION_POINTS:
                    names = _names(statement.value)
                    if names:
                        registers[target.id] = names
        removed = [point for point in registers if point in REMOVED_IN_2 or point in LEGACY_IN_3]
        found.append(
            PluginInfo(file=display, name=name, registers=registers, removed_extension_points=removed)
        )
    return found


def _python_files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*.py")):
        if "__pycache__" not in path.parts:
            yield path


def read_plugins(folder: Path) -> list[PluginInfo]:
    found: list[PluginInfo] = []
    for path in _python_files(folder):
        try:
            found.extend(plugins_in_source(path.read_bytes(), str(path.relative_to(folder.parent))))
        except OSError:
            continue
    for archive in sorted(folder.glob("*.zip")):
        found.extend(read_plugins_zip(archive))
    return found


def read_plugins_zip(archive: Path) -> list[PluginInfo]:
    """MWAA ships plugins as plugins.zip; read its .py members without unpacking to disk."""
    found: list[PluginInfo] = []
    try:
        with zipfile.ZipFile(archive) as bundle:
            for member in sorted(bundle.namelist()):
                if member.endswith(".py") and "__pycache__" not in member:
                    found.extend(plugins_in_source(bundle.read(member), f"{archive.name}:{member}"))
    except (zipfile.BadZipFile, OSError):
        return found
    return found
