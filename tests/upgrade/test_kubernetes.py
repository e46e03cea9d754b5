"""The conversion request: --resources files (YAML, TOML, JSON) and the option checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airshift.errors import AirshiftError
from airshift.upgrade.kubernetes import Resources, load_resources, parse_conversion


@pytest.mark.parametrize("suffix", [".yaml", ".toml", ".json"])
def test_resources_files_in_every_format(tmp_path: Path, suffix: str) -> None:
    data = {
        "load": {"requests": {"cpu": "500m"}, "limits": {"memory": "1Gi"}},
        "other": {"limits": {"cpu": 2}},
    }
    text = {
        ".yaml": "load:\n  requests: {cpu: 500m}\n  limits: {memory: 1Gi}\nother:\n  limits: {cpu: 2}\n",
        ".toml": '[load.requests]\ncpu = "500m"\n[load.limits]\nmemory = "1Gi"\n[other.limits]\ncpu = 2\n',
        ".json": json.dumps(data),
    }[suffix]
    path = tmp_path / f"resources{suffix}"
    path.write_text(text)
    assert load_resources(path) == (
        ("load", Resources((("cpu", "500m"),), (("memory", "1Gi"),))),
        ("other", Resources((), (("cpu", "2"),))),
    )


def test_bad_conversion_options_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "r.yaml"
    bad.write_text("load: [1, 2]\n")
    cases = [
        (lambda: parse_conversion(["python-to-k8s"], "i", None, None), "unknown conversion"),
        (lambda: parse_conversion(["python-to-kubernetes"], None, None, None), "needs --image"),
        (lambda: parse_conversion([], "img", None, None), "need --convert"),
        (lambda: parse_conversion(["python-to-kubernetes"], "i", None, bad), "requests` and/or `limits"),
        (lambda: parse_conversion(["python-to-kubernetes"], "i", None, tmp_path / "r.ini"), "cannot read"),
    ]
    for call, message in cases:
        with pytest.raises(AirshiftError, match=message):
            call()
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(AirshiftError, match="not valid JSON"):
        load_resources(tmp_path / "broken.json")
