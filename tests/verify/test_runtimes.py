"""Unit tests for runtimes: versions, interpreter discovery, cache keys, locking/atomicity, errors.

No Airflow is installed here: the uv calls are replaced where a test is about airshift's own logic
(atomic publish, locking, reuse). Real installs are in tests/integration/test_runtimes_real.py.
"""

from __future__ import annotations

import ast
import json
import os
import sys
import threading
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from airshift.cli import runtime as cli_runtime
from airshift.errors import AirshiftError
from airshift.verify import dagbag, interpreters, runtimes
from airshift.verify.interpreters import Interpreter, find_interpreter

HOST_MINOR = f"{sys.version_info[0]}.{sys.version_info[1]}"
HOST_VERSION = tuple(sys.version_info[:3])


def _airflow_for_host_python() -> str | None:
    for version in ("3.3.2", "2.11.2"):
        if HOST_MINOR in interpreters.python_minors_for(version):
            return version
    return None


# --- versions, pins, keys ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("1.10", "1.10.15"),
        ("1", "1.10.15"),
        ("2", "2.11.2"),
        ("2.11", "2.11.2"),
        ("3", "3.3.2"),
        ("3.3", "3.3.2"),
        ("latest", "3.3.2"),
        ("2.10.5", "2.10.5"),
        (" 3.0.0rc1 ", "3.0.0rc1"),
        ("apache-airflow==2.9.3", "2.9.3"),
    ],
)
def test_resolve_airflow_version(spec: str, expected: str) -> None:
    assert runtimes.resolve_airflow_version(spec) == expected


@pytest.mark.parametrize("spec", ["2.10", "three", "", "1.10.x"])
def test_resolve_airflow_version_rejects_unknown(spec: str) -> None:
    with pytest.raises(AirshiftError, match="full release"):
        runtimes.resolve_airflow_version(spec)


def test_python_minors_per_major() -> None:
    assert interpreters.python_minors_for("1.10.15")[0] == "3.8"
    assert interpreters.python_minors_for("2.11.2")[0] == "3.12"
    assert "3.9" in interpreters.python_minors_for("2.11.2")
    assert interpreters.python_minors_for("3.3.2")[0] == "3.12"
    assert "3.13" in interpreters.python_minors_for("3.3.2")
    with pytest.raises(AirshiftError, match="unknown major"):
        interpreters.python_minors_for("9.0.0")


def test_pins_are_packaged_and_pin_airflow() -> None:
    assert set(runtimes.available_pins()) == {("1.10.15", "3.8"), ("2.11.2", "3.12"), ("3.3.2", "3.12")}
    for version, minor in runtimes.available_pins():
        pins = runtimes.pins_path(version, minor)
        assert pins is not None
        assert f"apache-airflow=={version}" in pins.read_text().splitlines()
    assert runtimes.pins_path("2.11.2", "3.11") is None


def test_runtime_key_and_extras_hash() -> None:
    assert runtimes.runtime_key("3.3.2", "3.12") == "airflow-3.3.2-py3.12"
    one = runtimes.runtime_key("3.3.2", "3.12", ["b-pkg", "a-pkg>=1", "# comment", ""])
    two = runtimes.runtime_key("3.3.2", "3.12", ["a-pkg>=1", "b-pkg", "b-pkg"])
    assert one == two
    assert one.startswith("airflow-3.3.2-py3.12-x")
    assert one != runtimes.runtime_key("3.3.2", "3.12", ["a-pkg>=2", "b-pkg"])
    assert runtimes.runtime_key("3.3.2", "3.12", ["  ", "# only comments"]) == "airflow-3.3.2-py3.12"


def test_read_requirements_file(tmp_path: Path) -> None:
    file = tmp_path / "requirements.txt"
    file.write_text("# from airshift fix\napache-airflow-providers-google>=10  # bigquery\n\nfoo==1\n")
    assert runtimes.read_requirements_file(file) == ["apache-airflow-providers-google>=10", "foo==1"]
    file.write_text("-r other.txt\n")
    with pytest.raises(AirshiftError, match="not supported"):
        runtimes.read_requirements_file(file)
    with pytest.raises(AirshiftError, match="cannot read"):
        runtimes.read_requirements_file(tmp_path / "missing.txt")


def test_install_plan_constraints() -> None:
    pins33 = runtimes.pins_path("3.3.2", "3.12")
    plan = runtimes.InstallPlan("3.3.2", "3.12", ("apache-airflow-providers-google",), pins33)
    assert plan.strategy == "pins+extras"
    assert sorted(plan.hard_constraints()) == [
        "apache-airflow-core==3.3.2",
        "apache-airflow-task-sdk==1.3.2",
        "apache-airflow==3.3.2",
    ]
    assert plan.top_level() == ["apache-airflow==3.3.2", "apache-airflow-providers-google"]
    pins110 = runtimes.pins_path("1.10.15", "3.8")
    plan110 = runtimes.InstallPlan("1.10.15", "3.8", ("x",), pins110)
    assert "SQLAlchemy==1.3.24" in plan110.hard_constraints()  # 1.10: the whole freeze is hard
    assert "setuptools<70" in plan110.top_level()
    assert runtimes.InstallPlan("2.10.5", "3.12", (), None).strategy == "plain"
    assert runtimes.InstallPlan("2.11.2", "3.12", (), runtimes.pins_path("2.11.2", "3.12")).strategy == "pins"


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AIRSHIFT_RUNTIME_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert runtimes.default_cache_dir() == Path.home() / ".cache" / "airshift" / "runtimes"
    monkeypatch.setenv("AIRSHIFT_RUNTIME_DIR", str(tmp_path / "rt"))
    assert runtimes.default_cache_dir() == tmp_path / "rt"


# --- interpreter discovery ---------------------------------------------------------------------------


def _fake_pyenv(root: Path, *versions: str) -> None:
    for version in versions:
        bin_dir = root / "versions" / version / "bin"
        bin_dir.mkdir(parents=True)
        (bin_dir / "python").symlink_to(sys.executable)


@pytest.fixture
def isolated_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty PATH (plus a bin dir tests may fill), so the host's Pythons are not found."""
    bin_dir = tmp_path / "path-bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


def test_pyenv_discovery_by_full_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, isolated_path: Path
) -> None:
    airflow = _airflow_for_host_python()
    if airflow is None:
        pytest.skip(f"no Airflow in the table runs on Python {HOST_MINOR}")
    root = tmp_path / "pyenv"
    _fake_pyenv(root, f"{HOST_MINOR}.1", f"{HOST_MINOR}.42", f"{HOST_MINOR}-dev", "miniconda3-latest")
    monkeypatch.setenv("PYENV_ROOT", str(root))
    found = find_interpreter(airflow, HOST_MINOR)
    assert found.path == root / "versions" / f"{HOST_MINOR}.42" / "bin" / "python"  # newest patch
    assert found.source == "pyenv"
    assert found.version == HOST_VERSION  # the real interpreter's version, read by running it
    assert found.minor == HOST_MINOR


def test_pyenv_candidates_order_and_filter(tmp_path: Path) -> None:
    _fake_pyenv(tmp_path, "3.8.9", "3.8.18", "3.8-dev", "3.12.1")
    found = interpreters.pyenv_candidates("3.8", tmp_path)
    assert [version for _, version in found] == [(3, 8, 18), (3, 8, 9)]
    assert interpreters.pyenv_candidates("3.8", None) == []
    assert interpreters.pyenv_candidates("3.8", tmp_path / "nope") == []


def test_path_discovery_skips_pyenv_shims(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, isolated_path: Path
) -> None:
    airflow = _airflow_for_host_python()
    if airflow is None:
        pytest.skip(f"no Airflow in the table runs on Python {HOST_MINOR}")
    root = tmp_path / "pyenv"
    shims = root / "shims"
    shims.mkdir(parents=True)
    (shims / f"python{HOST_MINOR}").symlink_to(sys.executable)
    monkeypatch.setenv("PYENV_ROOT", str(root))
    monkeypatch.setenv("PATH", f"{shims}{os.pathsep}{isolated_path}")
    with pytest.raises(AirshiftError):
        find_interpreter(airflow, HOST_MINOR)
    (isolated_path / f"python{HOST_MINOR}").symlink_to(sys.executable)
    found = find_interpreter(airflow, HOST_MINOR)
    assert found.source == "PATH"
    assert found.path == isolated_path / f"python{HOST_MINOR}"


def test_missing_interpreter_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, isolated_path: Path
) -> None:
    root = tmp_path / "pyenv"
    _fake_pyenv(root, "3.12.1")
    monkeypatch.setenv("PYENV_ROOT", str(root))
    with pytest.raises(AirshiftError) as caught:
        find_interpreter("1.10.15")
    message = str(caught.value)
    assert "Airflow 1.10.15" in message
    assert "3.8 or 3.7 or 3.6" in message
    assert str(root) in message
    assert "--python" in message


def test_explicit_python(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    airflow = _airflow_for_host_python()
    if airflow is not None:
        found = find_interpreter(airflow, sys.executable)
        assert found.source == "--python"
        assert found.version == HOST_VERSION
    with pytest.raises(AirshiftError, match=r"needs Python 3\.8"):
        find_interpreter("1.10.15", sys.executable)
    with pytest.raises(AirshiftError, match="no such file"):
        find_interpreter("3.3.2", tmp_path / "python-nope")
    broken = tmp_path / "python-broken"
    broken.write_text("#!/bin/sh\nexit 127\n")
    broken.chmod(0o755)
    with pytest.raises(AirshiftError, match="does not run"):
        find_interpreter("3.3.2", broken)
    with pytest.raises(AirshiftError, match=r"not 3\.5"):
        find_interpreter("3.3.2", "3.5")


# --- uv error summaries ------------------------------------------------------------------------------

RESOLVER_OUTPUT = """\
Using Python 3.12.1 environment at: /x
  x No solution found when resolving dependencies:
error: No solution found when resolving dependencies:
  ╰─▶ Because there is no version of apache-airflow==2.99.0 and you require apache-airflow==2.99.0,
      we can conclude that your requirements are unsatisfiable.
"""

OFFLINE_OUTPUT = """\
error: Failed to fetch: `https://pypi.org/simple/apache-airflow/`
  Caused by: Network connectivity is disabled, but the requested data wasn't found in the cache for: `https://pypi.org/simple/apache-airflow/`
"""


def test_summarize_uv_error() -> None:
    summary = runtimes.summarize_uv_error(RESOLVER_OUTPUT)
    assert summary.startswith("error: No solution found")
    assert "apache-airflow==2.99.0" in summary
    assert "Using Python" not in summary
    assert not runtimes.is_network_error(RESOLVER_OUTPUT)
    assert runtimes.is_network_error(OFFLINE_OUTPUT)
    long = "error: x\n" + "\n".join(f"line {n}" for n in range(100))
    assert runtimes.summarize_uv_error(long, max_lines=5).endswith("(96 more lines)")


# --- cache: atomic builds, locks, reuse --------------------------------------------------------------


class FakeBuilds:
    """Stands in for uv: `uv venv` makes a dir with bin/python -> this interpreter; installs are no-ops."""

    def __init__(
        self, monkeypatch: pytest.MonkeyPatch, fail_install: bool = False, delay: float = 0.0
    ) -> None:
        self.installs = 0
        self.fail_install = fail_install
        self.delay = delay
        self.lock = threading.Lock()
        monkeypatch.setattr(
            runtimes,
            "find_interpreter",
            lambda version, python=None: Interpreter(Path(sys.executable), (3, 12, 1), "pyenv"),
        )
        monkeypatch.setattr(runtimes, "_run_uv", self.run_uv)
        monkeypatch.setattr(runtimes, "_install", self.install)
        monkeypatch.setattr(runtimes, "_smoke_check", lambda venv, version, timeout: version)
        monkeypatch.setattr(runtimes, "_write_freeze", lambda venv: None)
        monkeypatch.setattr(runtimes, "_uv_version", lambda: "uv test")

    def run_uv(self, args: list[str], what: str, cwd: Path, timeout: float) -> None:
        assert args[0] == "venv"
        venv = Path(args[-1])
        (venv / "bin").mkdir(parents=True)
        (venv / "bin" / "python").symlink_to(sys.executable)

    def install(self, plan: runtimes.InstallPlan, venv: Path, timeout: float, log: runtimes.Log) -> None:
        with self.lock:
            self.installs += 1
        time.sleep(self.delay)
        if self.fail_install:
            raise AirshiftError("installing: uv failed.\nerror: boom")


def test_build_publishes_metadata_and_is_reused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = FakeBuilds(monkeypatch)
    first = runtimes.ensure_runtime("3.3", cache_dir=tmp_path)
    assert first.path == tmp_path / "airflow-3.3.2-py3.12"
    assert first.airflow_version == "3.3.2"
    assert first.python_minor == "3.12"
    metadata = json.loads((first.path / runtimes.METADATA_FILE).read_text())
    assert metadata["strategy"] == "pins"
    assert metadata["pins"] == "airflow-3.3.2-py3.12.txt"
    again = runtimes.ensure_runtime("3.3.2", cache_dir=tmp_path)
    assert again.path == first.path
    assert fake.installs == 1
    assert [entry.name for entry in tmp_path.iterdir() if entry.name.startswith(".build")] == []


def test_failed_build_leaves_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    FakeBuilds(monkeypatch, fail_install=True)
    with pytest.raises(AirshiftError, match="boom"):
        runtimes.ensure_runtime("3", cache_dir=tmp_path)
    assert sorted(entry.name for entry in tmp_path.iterdir()) == [".locks"]
    assert runtimes.list_runtimes(tmp_path) == []


def test_half_built_or_stale_runtime_is_rebuilt(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = FakeBuilds(monkeypatch)
    half = tmp_path / "airflow-3.3.2-py3.12"
    (half / "bin").mkdir(parents=True)  # a venv without metadata: never reused
    leftover = tmp_path / ".build-airflow-3.3.2-py3.12@999999-dead"  # from a crashed process
    leftover.mkdir()
    other_key = tmp_path / ".build-airflow-3.3.2-py3.12-xabc@1-beef"  # another key's build: untouched
    other_key.mkdir()
    runtime = runtimes.ensure_runtime("3", cache_dir=tmp_path)
    assert fake.installs == 1
    assert (runtime.path / runtimes.METADATA_FILE).exists()
    assert not leftover.exists()
    assert other_key.exists()
    # A recipe change (here: the metadata says another recipe) triggers a rebuild in place.
    metadata_file = runtime.path / runtimes.METADATA_FILE
    metadata = json.loads(metadata_file.read_text())
    metadata["recipe"] = "old"
    metadata_file.write_text(json.dumps(metadata))
    runtimes.ensure_runtime("3", cache_dir=tmp_path)
    assert fake.installs == 2


def test_concurrent_ensure_builds_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = FakeBuilds(monkeypatch, delay=0.5)
    results: list[runtimes.Runtime] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(runtimes.ensure_runtime("3", cache_dir=tmp_path))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert fake.installs == 1
    assert len({runtime.path for runtime in results}) == 1


def test_file_lock_times_out_with_message(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    waited: list[str] = []
    with runtimes.file_lock(lock):
        failure: list[BaseException] = []

        def contender() -> None:
            try:
                with runtimes.file_lock(lock, timeout=0.3, on_wait=waited.append):
                    pass  # pragma: no cover - must not get here
            except AirshiftError as error:
                failure.append(error)

        thread = threading.Thread(target=contender)
        thread.start()
        thread.join()
    assert failure and "another airshift process" in str(failure[0])
    assert waited
    with runtimes.file_lock(lock, timeout=0.3):  # released: free again
        pass


def test_extras_get_their_own_runtime_and_list_remove(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    FakeBuilds(monkeypatch)
    base = runtimes.ensure_runtime("3", cache_dir=tmp_path)
    extra = runtimes.ensure_runtime(
        "3", extra_requirements=["apache-airflow-providers-google"], cache_dir=tmp_path
    )
    other = runtimes.ensure_runtime("2", cache_dir=tmp_path)
    assert extra.path != base.path
    assert extra.extras == ("apache-airflow-providers-google",)
    assert extra.metadata["strategy"] == "pins+extras"
    (tmp_path / ".build-junk@1-2").mkdir()
    assert [runtime.key for runtime in runtimes.list_runtimes(tmp_path)] == [other.key, base.key, extra.key]
    removed = runtimes.remove_runtime("3.3", cache_dir=tmp_path)
    assert sorted(runtime.key for runtime in removed) == sorted([base.key, extra.key])
    assert [runtime.key for runtime in runtimes.list_runtimes(tmp_path)] == [other.key]
    assert runtimes.remove_runtime(None, cache_dir=tmp_path)[0].key == other.key
    assert runtimes.list_runtimes(tmp_path) == []
    assert runtimes.list_runtimes(tmp_path / "none") == []


def test_runtime_env_puts_venv_first() -> None:
    runtime = runtimes.Runtime("3.3.2", "3.12.1", Path("/rt/x"), Path("/rt/x/bin/python"))
    env = runtime.env({"PATH": "/usr/bin", "PYTHONHOME": "/bad"})
    assert env["PATH"].split(os.pathsep)[0] == "/rt/x/bin"
    assert env["VIRTUAL_ENV"] == "/rt/x"
    assert "PYTHONHOME" not in env


# --- probe and DagBag plumbing -----------------------------------------------------------------------


def test_probe_is_python36_syntax_and_stdlib_only() -> None:
    source = dagbag.probe_script().read_text()
    tree = ast.parse(source, feature_version=(3, 6))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
        assert not isinstance(node, ast.NamedExpr)
        assert not isinstance(node, ast.AnnAssign)
        if isinstance(node, ast.FunctionDef):
            assert node.returns is None
            assert all(arg.annotation is None for arg in node.args.args)
    assert imported - {"airflow"} <= set(sys.stdlib_module_names)


def test_parse_probe_output_takes_last_marker_line() -> None:
    stdout = (
        "[2021-01-01] INFO - Filling up the DagBag\n"
        f"{dagbag.PROBE_MARKER}{json.dumps({'dags': {}, 'n': 1})}\n"
        "noise\n"
        f"{dagbag.PROBE_MARKER}{json.dumps({'dags': {}, 'n': 2})}\n"
    )
    assert dagbag.parse_probe_output(stdout)["n"] == 2
    with pytest.raises(ValueError):
        dagbag.parse_probe_output("no marker here")


def test_db_settings_per_version() -> None:
    assert dagbag.needs_metadata_db("1.10.15")
    assert dagbag.needs_metadata_db("2.11.2")
    assert not dagbag.needs_metadata_db("3.3.2")
    assert dagbag._init_db_command("1.10.15") == ["initdb"]
    assert dagbag._init_db_command("2.11.2") == ["db", "migrate"]
    assert dagbag._init_db_command("2.5.3") == ["db", "upgrade"]
    assert dagbag._db_env_name("1.10.15") == "AIRFLOW__CORE__SQL_ALCHEMY_CONN"
    assert dagbag._db_env_name("2.11.2") == "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"


def test_airflow_env_drops_user_airflow_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", "/somewhere/else")
    monkeypatch.setenv("AIRFLOW_HOME", "/home/user/airflow")
    runtime = runtimes.Runtime("2.11.2", "3.12.1", tmp_path, tmp_path / "bin" / "python")
    env = dagbag.airflow_env(runtime, tmp_path / "home", tmp_path / "dags")
    assert "AIRFLOW__CORE__UNIT_TEST_MODE" not in env
    assert env["AIRFLOW_HOME"] == str(tmp_path / "home")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(tmp_path / "dags")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{tmp_path / 'home' / 'airflow.db'}"


# --- CLI -----------------------------------------------------------------------------------------------


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """Test root."""

    cli_runtime.register(app)
    return app


def test_cli_list_empty_and_remove_needs_target(cli: typer.Typer, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["runtime", "list", "--cache-dir", str(tmp_path)])
    assert result.exit_code == 0
    assert "No runtimes" in result.output
    result = runner.invoke(cli, ["runtime", "remove", "--cache-dir", str(tmp_path)])
    assert result.exit_code != 0
    result = runner.invoke(cli, ["runtime", "remove", "--all", "--cache-dir", str(tmp_path)])
    assert result.exit_code == 0
    assert "Nothing to remove" in result.output


def test_cli_ensure_list_remove(cli: typer.Typer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    FakeBuilds(monkeypatch)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("apache-airflow-providers-google\n")
    cache = tmp_path / "cache"
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["runtime", "ensure", "3", "--with", "pkg-a", "-r", str(requirements), "--cache-dir", str(cache)],
    )
    assert result.exit_code == 0, result.output
    assert "ready" in result.output and "Airflow 3.3.2" in result.output
    listed = runner.invoke(cli, ["runtime", "list", "--cache-dir", str(cache)], env={"COLUMNS": "200"})
    assert listed.exit_code == 0
    assert "3.3.2" in listed.output and "pins+extras" in listed.output and "pkg-a" in listed.output
    removed = runner.invoke(cli, ["runtime", "remove", "3", "--cache-dir", str(cache)])
    assert removed.exit_code == 0
    assert "removed airflow-3.3.2-py3.12-x" in removed.output
    assert runtimes.list_runtimes(cache) == []
