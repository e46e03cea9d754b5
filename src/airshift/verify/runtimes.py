"""Real Airflow installs ("runtimes"): cached virtualenvs made with uv.

One venv per (Airflow version, Python minor, extra requirements) under the cache dir
(`$AIRSHIFT_RUNTIME_DIR`, default `~/.cache/airshift/runtimes`). A venv is built in a temporary
directory next to the cache and renamed into place only after the install and a smoke import passed,
so a half-built venv is never reused. A per-key file lock makes two concurrent processes build once.

Install strategy:
- pins, no extras: install the committed freeze exactly (`uv pip install -r pins`).
- pins and extras: `uv pip compile` of `apache-airflow==X` + extras, with the freeze as the *existing
  output file*, so uv keeps every pinned version it can (preferences) and moves only what the extras
  need; Airflow's own distributions are hard constraints (for 1.10 the whole freeze is, because
  unpinned 1.10 dependencies rot). The lock is then installed in one uv call. Plain `-c pins` would
  make uv backtrack a provider to an ancient release that fits the pins (measured: the Google provider
  fell back from 22.8.0 to 6.0.0, which then failed to build).
- no pins for that version: `uv pip install apache-airflow==X extras...` in one call.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from airshift.errors import AirshiftError
from airshift.verify.interpreters import Interpreter, find_interpreter, python_minors_for
from airshift.versions import ALIASES, resolve_release

METADATA_FILE = "airshift-runtime.json"
LOCK_FILE = "airshift-lock.txt"
FREEZE_FILE = "airshift-freeze.txt"
# Bump when the way venvs are built changes, so stale cached venvs are rebuilt.
RECIPE_VERSION = 1

# Short version names users type, mapped to the release airshift installs: one table with `fix`.
AIRFLOW_ALIASES: dict[str, str] = ALIASES
# Airflow's own distributions: always hard-pinned so extras can never move Airflow itself.
_AIRFLOW_CORE_DISTS = ("apache-airflow", "apache-airflow-core", "apache-airflow-task-sdk")
# 1.10 needs pkg_resources (sqlalchemy_jsonfield); uv venvs have no setuptools and new ones dropped it.
_EXTRA_BASE_REQUIREMENTS: dict[int, tuple[str, ...]] = {1: ("setuptools<70",)}

Log = Callable[[str], None]


def _no_log(_message: str) -> None:
    return None


@dataclass(frozen=True)
class Runtime:
    """One cached Airflow install."""

    airflow_version: str
    python_version: str
    path: Path
    python: Path
    extras: tuple[str, ...] = ()
    metadata: dict[str, object] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> str:
        return self.path.name

    @property
    def python_minor(self) -> str:
        return ".".join(self.python_version.split(".")[:2])

    @property
    def airflow_major(self) -> int:
        return int(self.airflow_version.split(".", 1)[0])

    @property
    def bin_dir(self) -> Path:
        return self.path / "bin"

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """An environment that runs this venv's `python`/`airflow` first on PATH."""
        env = dict(os.environ if base is None else base)
        env["VIRTUAL_ENV"] = str(self.path)
        env["PATH"] = str(self.bin_dir) + os.pathsep + env.get("PATH", "")
        env.pop("PYTHONHOME", None)
        return env


# ---------------------------------------------------------------------------------------------------
# Versions, pins, keys


def resolve_airflow_version(spec: str) -> str:
    """`1.10` -> 1.10.15, `2`/`2.11` -> 2.11.2, `3.1` -> 3.1.8, `3`/`3.3` -> 3.3.2; full versions pass through."""
    return resolve_release(spec)


def pins_path(airflow_version: str, python_minor: str) -> Path | None:
    """The committed freeze for this Airflow version on this Python minor, if there is one."""
    candidate = (
        resources.files("airshift.verify") / "pins" / f"airflow-{airflow_version}-py{python_minor}.txt"
    )
    path = Path(str(candidate))
    return path if path.is_file() else None


def available_pins() -> list[tuple[str, str]]:
    """(Airflow version, Python minor) pairs that have pins."""
    folder = Path(str(resources.files("airshift.verify") / "pins"))
    pairs: list[tuple[str, str]] = []
    for entry in sorted(folder.glob("airflow-*-py*.txt")):
        match = re.match(r"^airflow-(.+)-py(\d+\.\d+)\.txt$", entry.name)
        if match:
            pairs.append((match.group(1), match.group(2)))
    return pairs


def normalize_requirements(requirements: Iterable[str]) -> tuple[str, ...]:
    """Strip, drop blanks and comments, de-duplicate and sort (the order never matters to uv)."""
    cleaned: dict[str, str] = {}
    for raw in requirements:
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        cleaned.setdefault(re.sub(r"\s+", "", line).lower(), line)
    return tuple(cleaned[key] for key in sorted(cleaned))


def read_requirements_file(path: Path | str) -> list[str]:
    """Requirement lines of a plain requirements file (as written by `airshift fix`)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as error:
        raise AirshiftError(f"cannot read requirements file {file}: {error.strerror or error}") from None
    lines: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            raise AirshiftError(
                f"{file}:{number}: options such as {line.split()[0]!r} are not supported here; "
                "list one requirement per line."
            )
        lines.append(line)
    return lines


def extras_hash(extras: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(normalize_requirements(extras)).encode()).hexdigest()[:12]


def runtime_key(airflow_version: str, python_minor: str, extras: Sequence[str] = ()) -> str:
    """Directory name of a runtime: `airflow-3.3.2-py3.12`, plus `-x<hash>` when there are extras."""
    key = f"airflow-{airflow_version}-py{python_minor}"
    normalized = normalize_requirements(extras)
    return f"{key}-x{extras_hash(normalized)}" if normalized else key


def default_cache_dir() -> Path:
    override = os.environ.get("AIRSHIFT_RUNTIME_DIR")
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "airshift" / "runtimes"


def _recipe(airflow_version: str, extras: Sequence[str], pins: Path | None) -> str:
    pins_digest = hashlib.sha256(pins.read_bytes()).hexdigest() if pins is not None else "none"
    material = json.dumps(
        {"recipe": RECIPE_VERSION, "airflow": airflow_version, "extras": list(extras), "pins": pins_digest},
        sort_keys=True,
    )
    return hashlib.sha256(material.encode()).hexdigest()[:16]


# ---------------------------------------------------------------------------------------------------
# Locking and atomic directories


@contextlib.contextmanager
def file_lock(path: Path, timeout: float = 3600.0, on_wait: Log = _no_log) -> Iterator[None]:
    """An exclusive advisory lock (flock) on `path`; waits up to `timeout` seconds for another holder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait(f"waiting for another airshift process that holds {path.name}")
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise AirshiftError(
                            f"timed out after {timeout:.0f}s waiting for the lock {path} "
                            "(another airshift process is building this runtime)"
                        ) from None
                    time.sleep(0.2)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _discard(path: Path) -> None:
    """Remove a directory so it disappears atomically: rename it aside first, then delete."""
    if not path.exists():
        return
    trash = path.with_name(f".trash-{path.name}@{secrets.token_hex(4)}")
    try:
        path.rename(trash)
    except OSError:
        trash = path
    shutil.rmtree(trash, ignore_errors=True)


def publish_directory(built: Path, final: Path) -> None:
    """Move a fully built directory into place, replacing an existing (stale) one."""
    if final.exists():
        _discard(final)
    built.rename(final)


def _lock_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / ".locks" / f"{key}.lock"


def _clean_leftovers(cache_dir: Path, key: str) -> None:
    """Remove build dirs of crashed processes for `key` (call only while holding the key's lock)."""
    for entry in cache_dir.glob(f".build-{key}@*"):
        shutil.rmtree(entry, ignore_errors=True)
    for entry in cache_dir.glob(f".trash-{key}@*"):
        shutil.rmtree(entry, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------
# Metadata


def _read_metadata(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads((path / METADATA_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _runtime_from(path: Path, metadata: dict[str, object]) -> Runtime | None:
    try:
        extras = metadata.get("extras", [])
        return Runtime(
            airflow_version=str(metadata["airflow_version"]),
            python_version=str(metadata["python_version"]),
            path=path,
            python=path / "bin" / "python",
            extras=tuple(str(item) for item in extras) if isinstance(extras, list) else (),
            metadata=metadata,
        )
    except KeyError:
        return None


def _usable(path: Path, recipe: str) -> Runtime | None:
    """The runtime at `path` if it is complete, built with `recipe`, and its interpreter still exists."""
    metadata = _read_metadata(path)
    if metadata is None or metadata.get("recipe") != recipe:
        return None
    runtime = _runtime_from(path, metadata)
    if runtime is None or not runtime.python.exists():  # exists() follows the symlink to the base Python
        return None
    return runtime


# ---------------------------------------------------------------------------------------------------
# uv


def uv_binary() -> str:
    try:
        import uv
    except ImportError:  # pragma: no cover - uv is a dependency
        found = shutil.which("uv")
        if found is None:
            raise AirshiftError("uv is not installed (pip install uv).") from None
        return found
    return str(uv.find_uv_bin())


def _uv_env() -> dict[str, str]:
    env = dict(os.environ)
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["UV_NO_PROGRESS"] = "1"
    for name in ("VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT"):
        env.pop(name, None)
    if os.environ.get("AIRSHIFT_OFFLINE", "").lower() in ("1", "true", "yes"):
        env["UV_OFFLINE"] = "1"
    return env


_NETWORK_PATTERNS = (
    "network connectivity is disabled",
    "network was disabled",
    "was not found in the cache",
    "dns error",
    "failed to lookup address",
    "error sending request",
    "connection refused",
    "tcp connect error",
    "could not connect",
    "operation timed out",
    "failed to fetch",
)


def summarize_uv_error(output: str, max_lines: int = 14) -> str:
    """The informative part of uv's error output: from the first `error:` line, without noise."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).rstrip() for line in output.splitlines()]
    start = next((index for index, line in enumerate(lines) if line.lstrip().startswith("error:")), None)
    if start is None:
        start = max(0, len(lines) - max_lines)
    kept = [line for line in lines[start:] if line.strip()]
    if len(kept) > max_lines:
        kept = [*kept[:max_lines], f"  ... ({len(kept) - max_lines} more lines)"]
    return "\n".join(kept)


def is_network_error(output: str) -> bool:
    lowered = output.lower()
    return any(pattern in lowered for pattern in _NETWORK_PATTERNS)


def _run_uv(args: list[str], what: str, cwd: Path, timeout: float) -> None:
    command = [uv_binary(), *args, "--color", "never"]
    try:
        completed = subprocess.run(
            command, cwd=cwd, env=_uv_env(), capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise AirshiftError(f"{what}: uv did not finish within {timeout:.0f}s.") from None
    except OSError as error:
        raise AirshiftError(f"{what}: cannot run uv: {error}") from None
    if completed.returncode == 0:
        return
    output = (completed.stderr or "") + "\n" + (completed.stdout or "")
    summary = summarize_uv_error(output)
    if is_network_error(output):
        raise AirshiftError(
            f"{what}: cannot download packages (offline?) and uv's cache does not hold them yet. "
            "Connect to the package index once to fill the cache; later builds work offline "
            f"(AIRSHIFT_OFFLINE=1).\n{summary}"
        )
    raise AirshiftError(f"{what}: uv failed.\n{summary}")


# ---------------------------------------------------------------------------------------------------
# Building


@dataclass(frozen=True)
class InstallPlan:
    """What a build installs and how."""

    airflow_version: str
    python_minor: str
    extras: tuple[str, ...]
    pins: Path | None

    @property
    def major(self) -> int:
        return int(self.airflow_version.split(".", 1)[0])

    @property
    def strategy(self) -> str:
        if self.pins is None:
            return "plain"
        return "pins+extras" if self.extras else "pins"

    def top_level(self) -> list[str]:
        return [
            f"apache-airflow=={self.airflow_version}",
            *_EXTRA_BASE_REQUIREMENTS.get(self.major, ()),
            *self.extras,
        ]

    def hard_constraints(self) -> list[str]:
        """Constraints extras may never move: Airflow's own distributions (for 1.x: the whole freeze)."""
        if self.pins is None:
            return [f"apache-airflow=={self.airflow_version}"]
        lines = [line.strip() for line in self.pins.read_text(encoding="utf-8").splitlines()]
        pinned = [line for line in lines if line and not line.startswith("#")]
        if self.major == 1:
            return pinned
        return [line for line in pinned if _dist_name(line) in _AIRFLOW_CORE_DISTS]


def _dist_name(requirement: str) -> str:
    name = re.split(r"[\s<>=!~;\[@]", requirement, maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def _install(plan: InstallPlan, venv: Path, timeout: float, log: Log) -> None:
    python = str(venv / "bin" / "python")
    what = f"installing Airflow {plan.airflow_version} (Python {plan.python_minor})"
    lock = venv / LOCK_FILE
    if plan.strategy == "pins":
        assert plan.pins is not None
        shutil.copyfile(plan.pins, lock)
        base = list(_EXTRA_BASE_REQUIREMENTS.get(plan.major, ()))
        log(f"installing the pinned set {plan.pins.name}")
        _run_uv(["pip", "install", "--python", python, "-r", str(lock), *base], what, venv, timeout)
        return
    requirements_in = venv / "airshift-requirements.in"
    requirements_in.write_text("\n".join(plan.top_level()) + "\n", encoding="utf-8")
    if plan.strategy == "plain":
        log(f"no pins for Airflow {plan.airflow_version} on Python {plan.python_minor}: plain install")
        _run_uv(["pip", "install", "--python", python, "-r", str(requirements_in)], what, venv, timeout)
        return
    assert plan.pins is not None
    constraints = venv / "airshift-constraints.txt"
    constraints.write_text("\n".join(plan.hard_constraints()) + "\n", encoding="utf-8")
    # The freeze as the existing output file: uv keeps those versions unless the extras need others.
    shutil.copyfile(plan.pins, lock)
    log(f"resolving {len(plan.extras)} extra requirement(s) against the pinned set {plan.pins.name}")
    _run_uv(
        [
            "pip", "compile", str(requirements_in), "-c", str(constraints), "-o", str(lock),
            "--python", python, "--no-header", "--no-annotate", "--quiet",
        ],
        f"{what} with {', '.join(plan.extras)}",
        venv,
        timeout,
    )  # fmt: skip
    log("installing the resolved set")
    _run_uv(["pip", "install", "--python", python, "-r", str(lock)], what, venv, timeout)


def _smoke_check(venv: Path, airflow_version: str, timeout: float) -> str:
    """Import Airflow in the new venv (in a throwaway AIRFLOW_HOME); return its version."""
    with tempfile.TemporaryDirectory(prefix="airshift-smoke-") as home:
        env = dict(_uv_env())
        env.update(AIRFLOW_HOME=home, AIRFLOW__CORE__LOAD_EXAMPLES="False")
        env.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
        marker = "@@AIRSHIFT-VERSION@@"
        try:
            completed = subprocess.run(
                [str(venv / "bin" / "python"), "-c", f"import airflow; print({marker!r} + airflow.__version__)"],
                env=env, capture_output=True, text=True, timeout=timeout, check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise AirshiftError(
                f"Airflow {airflow_version}: `import airflow` did not finish in {timeout:.0f}s"
            ) from None
    found = [line[len(marker) :].strip() for line in completed.stdout.splitlines() if line.startswith(marker)]
    if completed.returncode != 0 or not found:
        tail = "\n".join((completed.stderr or completed.stdout).strip().splitlines()[-8:])
        raise AirshiftError(f"Airflow {airflow_version} installed but `import airflow` fails:\n{tail}")
    if found[-1] != airflow_version:
        raise AirshiftError(f"asked for Airflow {airflow_version} but the new venv has {found[-1]}")
    return found[-1]


def _build(
    final: Path,
    plan: InstallPlan,
    interpreter: Interpreter,
    recipe: str,
    timeout: float,
    log: Log,
) -> Runtime:
    cache_dir = final.parent
    build_dir = cache_dir / f".build-{final.name}@{os.getpid()}-{secrets.token_hex(4)}"
    started = time.monotonic()
    try:
        log(
            f"creating a venv with Python {interpreter.version_string} ({interpreter.source}: {interpreter.path})"
        )
        _run_uv(
            [
                "venv",
                "--quiet",
                "--relocatable",
                "--no-project",
                "--python",
                str(interpreter.path),
                str(build_dir),
            ],
            "creating the virtualenv",
            cache_dir,
            timeout,
        )
        _install(plan, build_dir, timeout, log)
        log("checking `import airflow`")
        version = _smoke_check(build_dir, plan.airflow_version, timeout=min(timeout, 300))
        _write_freeze(build_dir)
        metadata: dict[str, object] = {
            "schema": 1,
            "airflow_version": version,
            "python_version": interpreter.version_string,
            "python_minor": interpreter.minor,
            "base_interpreter": str(interpreter.path),
            "interpreter_source": interpreter.source,
            "extras": list(plan.extras),
            "pins": plan.pins.name if plan.pins is not None else None,
            "strategy": plan.strategy,
            "recipe": recipe,
            "uv_version": _uv_version(),
            "build_seconds": round(time.monotonic() - started, 1),
            "created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
        (build_dir / METADATA_FILE).write_text(
            json.dumps(metadata, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        publish_directory(build_dir, final)
    except BaseException:
        shutil.rmtree(build_dir, ignore_errors=True)
        raise
    runtime = _runtime_from(final, metadata)
    assert runtime is not None
    return runtime


def _write_freeze(venv: Path) -> None:
    """Record what was installed (`uv pip freeze`) next to the metadata; best effort."""
    try:
        completed = subprocess.run(
            [uv_binary(), "pip", "freeze", "--python", str(venv / "bin" / "python")],
            env=_uv_env(), capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return
    if completed.returncode == 0:
        (venv / FREEZE_FILE).write_text(completed.stdout, encoding="utf-8")


def _uv_version() -> str:
    try:
        completed = subprocess.run(
            [uv_binary(), "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return completed.stdout.strip() or "unknown"


# ---------------------------------------------------------------------------------------------------
# Public API


def ensure_runtime(
    version: str,
    python: str | Path | None = None,
    extra_requirements: Iterable[str] = (),
    cache_dir: Path | str | None = None,
    *,
    timeout: float = 3600.0,
    log: Log = _no_log,
) -> Runtime:
    """Return a ready runtime for `version`, building it (once, atomically, under a lock) if needed."""
    airflow_version = resolve_airflow_version(version)
    interpreter = find_interpreter(airflow_version, python)
    extras = normalize_requirements(extra_requirements)
    pins = pins_path(airflow_version, interpreter.minor)
    if pins is None and int(airflow_version.split(".", 1)[0]) == 1:
        log(
            f"warning: no pins for Airflow {airflow_version} on Python {interpreter.minor}; 1.10 rarely works unpinned"
        )
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    key = runtime_key(airflow_version, interpreter.minor, extras)
    final = root / key
    recipe = _recipe(airflow_version, extras, pins)

    ready = _usable(final, recipe)
    if ready is not None:
        return ready
    with file_lock(_lock_path(root, key), timeout=timeout, on_wait=log):
        ready = _usable(final, recipe)  # another process may have finished it while we waited
        if ready is not None:
            return ready
        _clean_leftovers(root, key)
        plan = InstallPlan(airflow_version, interpreter.minor, extras, pins)
        return _build(final, plan, interpreter, recipe, timeout, log)


def list_runtimes(cache_dir: Path | str | None = None) -> list[Runtime]:
    """Complete runtimes in the cache (build and trash dirs are skipped), sorted by key."""
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    if not root.is_dir():
        return []
    found: list[Runtime] = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        metadata = _read_metadata(entry)
        runtime = _runtime_from(entry, metadata) if metadata is not None else None
        if runtime is not None:
            found.append(runtime)
    return found


def remove_runtime(
    version: str | None = None,
    python: str | None = None,
    cache_dir: Path | str | None = None,
    *,
    timeout: float = 600.0,
) -> list[Runtime]:
    """Remove cached runtimes of `version` (all runtimes when None), optionally of one Python minor."""
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    wanted = resolve_airflow_version(version) if version is not None else None
    removed: list[Runtime] = []
    for runtime in list_runtimes(root):
        if wanted is not None and runtime.airflow_version != wanted:
            continue
        if python is not None and runtime.python_minor != python:
            continue
        with file_lock(_lock_path(root, runtime.key), timeout=timeout):
            _discard(runtime.path)
        removed.append(runtime)
    return removed


__all__ = [
    "AIRFLOW_ALIASES",
    "InstallPlan",
    "Runtime",
    "available_pins",
    "default_cache_dir",
    "ensure_runtime",
    "file_lock",
    "list_runtimes",
    "normalize_requirements",
    "pins_path",
    "python_minors_for",
    "read_requirements_file",
    "remove_runtime",
    "resolve_airflow_version",
    "runtime_key",
    "summarize_uv_error",
]
