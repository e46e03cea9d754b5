"""Find a Python interpreter that a given Airflow version runs on.

Order: an explicit `--python` (a path, or a version such as `3.11`), then for each compatible Python
minor in order of preference: pyenv's installed versions by their full path (pyenv shims cannot be used:
uv inspects them and they exit 127 when the version is not the active one), then `pythonX.Y` on PATH.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from airshift.errors import AirshiftError

# Compatible Python minors per Airflow major, in order of preference. 1.10 also ran on 3.6/3.7, but the
# committed pins are for 3.8 only.
PYTHON_MINORS: dict[int, tuple[str, ...]] = {
    1: ("3.8", "3.7", "3.6"),
    2: ("3.12", "3.11", "3.10", "3.9"),
    3: ("3.12", "3.13", "3.11", "3.10"),
}

_VERSION_SNIPPET = "import sys; print('%d.%d.%d' % tuple(sys.version_info[:3]))"
_PYENV_VERSION_DIR = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
_MINOR_SPEC = re.compile(r"^(\d+)\.(\d+)$")


@dataclass(frozen=True)
class Interpreter:
    """A Python interpreter: its executable, full version and where it was found."""

    path: Path
    version: tuple[int, int, int]
    source: str  # "--python", "pyenv" or "PATH"

    @property
    def minor(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"

    @property
    def version_string(self) -> str:
        return ".".join(str(part) for part in self.version)


def python_minors_for(airflow_version: str) -> tuple[str, ...]:
    """The Python minors an Airflow version runs on, most preferred first."""
    major = int(airflow_version.split(".", 1)[0])
    try:
        return PYTHON_MINORS[major]
    except KeyError:
        raise AirshiftError(f"Airflow {airflow_version}: unknown major version {major}") from None


def inspect_interpreter(executable: Path | str, timeout: float = 15.0) -> tuple[int, int, int] | None:
    """Run the interpreter to read its version; None when it does not run (missing, broken, a shim)."""
    try:
        completed = subprocess.run(
            [str(executable), "-c", _VERSION_SNIPPET],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if completed.returncode != 0:
        return None
    match = _PYENV_VERSION_DIR.match(completed.stdout.strip())
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def pyenv_root() -> Path | None:
    """`$PYENV_ROOT`, else `pyenv root`, else `~/.pyenv` when it exists."""
    env_root = os.environ.get("PYENV_ROOT")
    if env_root:
        return Path(env_root)
    pyenv = shutil.which("pyenv")
    if pyenv is not None:
        try:
            completed = subprocess.run(
                [pyenv, "root"], capture_output=True, text=True, timeout=15, check=False
            )
        except (OSError, subprocess.SubprocessError):
            completed = None
        if completed is not None and completed.returncode == 0 and completed.stdout.strip():
            return Path(completed.stdout.strip())
    default = Path.home() / ".pyenv"
    return default if default.is_dir() else None


def pyenv_candidates(minor: str, root: Path | None) -> list[tuple[Path, tuple[int, int, int]]]:
    """pyenv-installed CPythons of one minor (`X.Y.Z` directories only), newest patch first."""
    if root is None:
        return []
    versions_dir = root / "versions"
    if not versions_dir.is_dir():
        return []
    found: list[tuple[Path, tuple[int, int, int]]] = []
    for entry in versions_dir.iterdir():
        match = _PYENV_VERSION_DIR.match(entry.name)
        if match is None or f"{match.group(1)}.{match.group(2)}" != minor:
            continue
        executable = entry / "bin" / "python"
        if executable.exists():
            found.append((executable, (int(match.group(1)), int(match.group(2)), int(match.group(3)))))
    found.sort(key=lambda item: item[1], reverse=True)
    return found


def _is_shim(path: Path, root: Path | None) -> bool:
    return root is not None and path.parent == root / "shims"


def _which_all(name: str) -> list[Path]:
    """Every executable `name` on PATH, in PATH order (a skipped shim must not hide a later one)."""
    found: list[Path] = []
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not directory:
            continue
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK) and candidate not in found:
            found.append(candidate)
    return found


def find_interpreter(airflow_version: str, python: str | Path | None = None) -> Interpreter:
    """Pick the interpreter for `airflow_version`; raise AirshiftError saying what was looked for."""
    minors = python_minors_for(airflow_version)
    if python is not None:
        spec = str(python)
        minor_match = _MINOR_SPEC.match(spec)
        if minor_match is None:
            return _explicit_interpreter(airflow_version, Path(spec).expanduser(), minors)
        if spec not in minors:
            raise AirshiftError(f"Airflow {airflow_version} runs on Python {', '.join(minors)}, not {spec}.")
        minors = (spec,)

    root = pyenv_root()
    looked: list[str] = []
    for minor in minors:
        for executable, version in pyenv_candidates(minor, root):
            looked.append(str(executable))
            inspected = inspect_interpreter(executable)
            if inspected is not None and inspected[:2] == version[:2]:
                return Interpreter(executable, inspected, "pyenv")
        name = f"python{minor}"
        looked.append(f"{name} on PATH")
        for on_path in _which_all(name):
            if _is_shim(on_path, root):
                continue
            inspected = inspect_interpreter(on_path)
            if inspected is not None and f"{inspected[0]}.{inspected[1]}" == minor:
                return Interpreter(on_path, inspected, "PATH")
    where = f"pyenv root {root}" if root is not None else "no pyenv"
    raise AirshiftError(
        f"No Python interpreter found for Airflow {airflow_version}: it needs Python "
        f"{' or '.join(minors)}. Looked in {where} (versions/X.Y.Z/bin/python) and for "
        f"{', '.join('python' + m for m in minors)} on PATH. Install one (e.g. `pyenv install {minors[0]}`) "
        f"or pass `--python /path/to/python{minors[0]}`."
    )


def _explicit_interpreter(airflow_version: str, path: Path, minors: tuple[str, ...]) -> Interpreter:
    if not path.exists():
        resolved = shutil.which(str(path))
        if resolved is None:
            raise AirshiftError(f"--python {path}: no such file.")
        path = Path(resolved)
    version = inspect_interpreter(path)
    if version is None:
        raise AirshiftError(
            f"--python {path}: it does not run as a Python interpreter "
            "(a pyenv shim for an inactive version? pass the real path under `$(pyenv root)/versions`)."
        )
    minor = f"{version[0]}.{version[1]}"
    if minor not in minors:
        raise AirshiftError(
            f"--python {path} is Python {minor}; Airflow {airflow_version} needs Python {', '.join(minors)}."
        )
    return Interpreter(path, version, "--python")
