"""`airshift kafka`'s command module: no heavy import at module level; bad input is one clear line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _run(*code_or_args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *code_or_args], capture_output=True, text=True, timeout=120, check=False
    )


def test_the_cli_module_does_not_import_confluent_kafka() -> None:
    result = _run("-c", "import sys, airshift.cli.kafka; print('confluent_kafka' in sys.modules)")
    assert result.returncode == 0 and result.stdout.strip() == "False", result.stderr


def test_bad_config_is_one_line_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.properties"
    bad.write_text("bootstrap.servers\n")
    result = _run("-m", "airshift", "kafka", "compare", "--source", str(bad), "--target", "127.0.0.1:9")
    assert result.returncode == 2
    assert f"--source {bad} line 1: expected key=value" in result.stderr
    assert "Traceback" not in result.stderr
