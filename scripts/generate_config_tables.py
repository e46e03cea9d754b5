#!/usr/bin/env python3
"""Generate src/airshift/platform/tables/config.json from the real Airflow installs.

`airshift config migrate` works from tables, not from hand-kept lists. They are read from the real
runtimes airshift already caches (`airshift.verify.runtimes.ensure_runtime`: 1.10.15 on Python 3.8,
2.11.2 and 3.3.2 on 3.12) by a small script run inside each one:

* 1.10.15: `AirflowConfigParser.deprecated_options` / `deprecated_values` and the options of
  `config_templates/default_airflow.cfg` (what a 1.10 airflow.cfg can hold);
* 2.11.2: `deprecated_options`, `many_to_one_deprecated_options`, `deprecated_sections`,
  `deprecated_values` and the core option descriptions (defaults, sensitive flags);
* 3.3.2: `CONFIGS_CHANGES` (the table `airflow config lint/update` use), the read-time fallbacks
  (`deprecated_options`), `deprecated_values` and the core option descriptions.

Regular expressions are stored as their pattern text. Run `python scripts/generate_config_tables.py`;
a test compares the result with the reference extraction in ../shared/reference/config when present.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from airshift.verify.runtimes import ensure_runtime  # noqa: E402

OUTPUT = REPO / "src" / "airshift" / "platform" / "tables" / "config.json"
VERSIONS = ("1.10.15", "2.11.2", "3.3.2")
# Provider sections ([celery], [kubernetes_executor], [fab], ...) are declared by provider packages, not
# by core config.yml. The target's are read from a 3.3.2 runtime with the providers a platform uses.
TARGET_PROVIDERS = (
    "apache-airflow-providers-celery",
    "apache-airflow-providers-cncf-kubernetes",
    "apache-airflow-providers-fab",
    "apache-airflow-providers-elasticsearch",
    "apache-airflow-providers-opensearch",
)

# Runs inside the runtime (Python 3.8 for 1.10.15): plain syntax, stdlib only besides airflow.
EXTRACT = r"""
import json, os, sys
import airflow
from airflow import configuration as c

def pattern(regex):
    return getattr(regex, "pattern", str(regex))

out = {"airflow_version": airflow.__version__}
parser = c.AirflowConfigParser
if airflow.__version__.startswith("1."):
    import configparser
    path = os.path.join(os.path.dirname(airflow.__file__), "config_templates", "default_airflow.cfg")
    raw = configparser.RawConfigParser()
    raw.read(path)
    out["options"] = {
        s: {o: {"default": raw.get(s, o), "sensitive": False} for o in raw.options(s)} for s in raw.sections()
    }
    out["deprecated_options"] = [
        {"new_section": s, "new_option": new, "old_section": s, "old_option": old, "since": "2.0.0"}
        for s, table in sorted(parser.deprecated_options.items()) for new, old in sorted(table.items())
    ]
    out["deprecated_values"] = [
        {"section": s, "option": o, "pattern": pattern(v[0]), "replacement": v[1], "since": "2.0.0"}
        for s, table in sorted(parser.deprecated_values.items()) for o, v in sorted(table.items())
    ]
else:
    conf = c.conf
    description = c.retrieve_configuration_description(include_providers=False)
    sensitive = set(conf.sensitive_config_values)
    out["options"] = {
        s: {
            o: {"default": d.get("default"), "sensitive": (s, o) in sensitive}
            for o, d in sorted(body.get("options", {}).items())
        }
        for s, body in sorted(description.items())
    }
    out["deprecated_options"] = [
        {"new_section": new[0], "new_option": new[1], "old_section": old[0], "old_option": old[1],
         "since": old[2]}
        for new, old in sorted(conf.deprecated_options.items())
    ]
    out["many_to_one_deprecated_options"] = [
        {"new_section": new[0], "new_option": new[1], "old_section": old[0], "old_option": old[1],
         "since": old[2]}
        for new, olds in sorted(getattr(conf, "many_to_one_deprecated_options", {}).items()) for old in olds
    ]
    out["deprecated_sections"] = [
        {"new_section": new, "old_section": old[0], "since": old[1]}
        for new, old in sorted(getattr(conf, "deprecated_sections", {}).items())
    ]
    out["deprecated_values"] = [
        {"section": s, "option": o, "pattern": pattern(v[0]), "replacement": v[1],
         "since": v[2] if len(v) > 2 else None}
        for s, table in sorted(conf.deprecated_values.items()) for o, v in sorted(table.items())
    ]
    try:
        from airflow.cli.commands.config_command import CONFIGS_CHANGES
    except ImportError:
        try:
            from airflow.cli.commands.local_commands.config_command import CONFIGS_CHANGES
        except ImportError:
            CONFIGS_CHANGES = []
    changes = []
    for ch in CONFIGS_CHANGES:
        entry = {"section": ch.config.section, "option": ch.config.option}
        if ch.renamed_to is not None:
            entry["renamed_to"] = {"section": ch.renamed_to.section, "option": ch.renamed_to.option}
        for name in ("default_change", "old_default", "new_default", "suggestion", "was_deprecated",
                     "was_removed", "is_invalid_if", "breaking", "remove_if_equals"):
            value = getattr(ch, name, None)
            entry[name] = value if value is None or isinstance(value, (str, bool, int, float)) else str(value)
        changes.append(entry)
    out["configs_changes"] = changes
    if os.environ.get("AIRSHIFT_WITH_PROVIDERS"):
        from airflow.providers_manager import ProvidersManager
        provider_options = {}
        for _name, provider in sorted(ProvidersManager().provider_configs):
            for s, body in sorted(provider.items()):
                for o, d in sorted(body.get("options", {}).items()):
                    provider_options.setdefault(s, {})[o] = {
                        "default": d.get("default"), "sensitive": bool(d.get("sensitive"))
                    }
        out["provider_options"] = provider_options
        out["providers"] = sorted(p for p, _ in ProvidersManager().provider_configs)
json.dump(out, sys.stdout, indent=1, sort_keys=True)
"""


def extract(version: str, providers: tuple[str, ...] = ()) -> dict[str, object]:
    runtime = ensure_runtime(version, extra_requirements=providers)
    env = runtime.env()
    if providers:
        env["AIRSHIFT_WITH_PROVIDERS"] = "1"
    env.pop("AIRFLOW_CONFIG", None)
    # A throw-away home: importing airflow writes airflow.cfg (and, on 1.10, a unittests.cfg) there.
    home = REPO / ".airshift-config-tables-home"
    home.mkdir(exist_ok=True)
    env["AIRFLOW_HOME"] = str(home / version)
    done = subprocess.run(
        [str(runtime.python), "-c", EXTRACT], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"extracting from {version} failed:\n{done.stderr[-3000:]}")
    data: dict[str, object] = json.loads(done.stdout)
    return data


def main() -> None:
    releases = {version: extract(version) for version in VERSIONS}
    with_providers = extract(VERSIONS[-1], TARGET_PROVIDERS)
    releases[VERSIONS[-1]]["provider_options"] = with_providers["provider_options"]
    releases[VERSIONS[-1]]["providers"] = with_providers["providers"]
    tables = {"schema": 1, "generated_by": "scripts/generate_config_tables.py", "releases": releases}
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(tables, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    home = REPO / ".airshift-config-tables-home"
    subprocess.run(["rm", "-rf", str(home)], check=False)
    print(f"wrote {OUTPUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
