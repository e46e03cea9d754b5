"""One name per operator class, whatever release it was loaded from.

The same class lives at different paths across releases (airflow.operators.bash_operator.BashOperator in
1.10, airflow.operators.bash.BashOperator in 2.x, airflow.providers.standard.operators.bash.BashOperator
in 3.x). The upgrader's move table chains those paths; following every hop to its end gives the newest
path, which both snapshots share when the migration kept the class.
"""

from __future__ import annotations

from functools import cache

from airshift.upgrade.moves import load_table

# Past every release the table knows: follow every hop, whatever version introduced it.
_NEWEST = (99, 0)


@cache
def canonical_class(path: str) -> str:
    """The newest path of the class at `path` (the path itself when the table never moved it)."""
    if not path:
        return path
    module = path.rpartition(".")[0]
    if module and "." not in module:
        # 1.10 plugin-style imports (`from airflow.operators import bash_operator`) load the module
        # under its bare name, so the class reports `bash_operator.BashOperator`.
        for package in ("airflow.operators.", "airflow.sensors."):
            moved = load_table().resolve(package + path, _NEWEST)
            if moved is not None and moved.new is not None:
                return moved.new
    resolution = load_table().resolve(path, _NEWEST)
    if resolution is None or resolution.new is None:
        return path
    return resolution.new
