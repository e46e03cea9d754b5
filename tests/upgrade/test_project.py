"""project: module names (the fast path gives what module_name gives, for every shape of root and file)."""

from __future__ import annotations

from pathlib import Path

from airshift.upgrade.discovery import Root
from airshift.upgrade.project import module_name, module_names


def test_module_names_match_module_name_for_folders_files_packages_and_odd_names(tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    for relative in ["a.py", "pkg/__init__.py", "pkg/sub/b.py", "x.y.py", "pkg/c.pyw", "noext"]:
        (dags / relative).parent.mkdir(parents=True, exist_ok=True)
        (dags / relative).write_text("")
    folder = Root(dags, "")
    trailing = Root(Path(str(dags) + "/"), "")
    single = Root(dags / "a.py", "")
    files = [
        (folder, dags / r)
        for r in ["a.py", "pkg/__init__.py", "pkg/sub/b.py", "x.y.py", "pkg/c.pyw", "noext"]
    ]
    files += [(trailing, dags / "pkg/sub/b.py"), (single, dags / "a.py")]
    assert module_names(files) == [module_name(root, path) for root, path in files]
    assert module_names(files)[:3] == ["a", "pkg", "pkg.sub.b"]
