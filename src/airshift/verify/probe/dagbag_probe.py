"""Load one DAG folder in one DagBag and print a JSON summary.

This file runs *inside* an Airflow runtime, not inside airshift: it must stay standard-library only and
valid on Python 3.6-3.13 with Airflow 1.10-3.x (no f-strings with `=`, no walrus, no annotations).

Usage: python dagbag_probe.py DAG_FOLDER

Airflow 1.10 logs to stdout, so the result is printed on one line that starts with MARKER; the caller
takes the last such line. The exit code is 0 when the probe ran (even if DAG files failed to import)
and 1 when Airflow itself could not be imported or the DagBag could not be built.
"""

import inspect
import json
import os
import sys
import time
import traceback
import warnings

MARKER = "@@AIRSHIFT-DAGBAG@@"


def _emit(document):
    sys.stdout.flush()
    sys.stdout.write("\n" + MARKER + json.dumps(document, sort_keys=True) + "\n")
    sys.stdout.flush()


def _import_dagbag_class():
    try:
        from airflow.dag_processing.dagbag import DagBag  # Airflow >= 3.1

        return DagBag, "airflow.dag_processing.dagbag"
    except ImportError:
        from airflow.models.dagbag import DagBag  # Airflow 1.10, 2.x, 3.0

        return DagBag, "airflow.models.dagbag"


def _error_key(key):
    # Airflow 3 may key import errors by (bundle, path); keep only the path.
    if isinstance(key, (tuple, list)):
        key = key[-1]
    return str(key)


_NOISE_PREFIXES = ("(Background on this error", "[SQL:", "[parameters:")


def _last_line(text):
    """The exception line of a traceback, skipping SQLAlchemy's trailing help lines."""
    lines = [line.strip() for line in str(text).strip().splitlines() if line.strip()]
    for line in reversed(lines):
        if not line.startswith(_NOISE_PREFIXES):
            return line
    return lines[-1] if lines else ""


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: dagbag_probe.py DAG_FOLDER\n")
        return 2
    folder = os.path.abspath(argv[1])
    document = {
        "probe": "dagbag",
        "python": "%d.%d.%d" % tuple(sys.version_info[:3]),
        "folder": folder,
    }
    started = time.time()
    # A deployed Airflow puts the DAG folder on sys.path (1.10/2.x: settings.prepare_syspath; 3.x: the
    # dag-processor adds the bundle path), so DAG files can import helper modules that live beside them.
    if folder not in sys.path:
        sys.path.append(folder)
    try:
        import airflow

        document["airflow_version"] = str(airflow.__version__)
        document["import_airflow_s"] = round(time.time() - started, 3)
        dagbag_class, where = _import_dagbag_class()
        document["dagbag_class"] = where
        try:
            parameters = inspect.signature(dagbag_class.__init__).parameters
        except (TypeError, ValueError):
            parameters = {}
        kwargs = {"dag_folder": folder}
        if "include_examples" in parameters:
            kwargs["include_examples"] = False
        parse_started = time.time()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            bag = dagbag_class(**kwargs)
        document["dagbag_s"] = round(time.time() - parse_started, 3)
    except Exception:
        document["fatal"] = traceback.format_exc()
        _emit(document)
        return 1

    dags = {}
    for dag_id in sorted(bag.dags):
        dag = bag.dags[dag_id]
        dags[dag_id] = {
            "fileloc": str(getattr(dag, "fileloc", "") or ""),
            "task_ids": sorted(str(task_id) for task_id in getattr(dag, "task_ids", [])),
        }
    import_errors = {}
    for key, text in sorted(bag.import_errors.items(), key=lambda item: _error_key(item[0])):
        path = _error_key(key)
        if not os.path.isabs(path):
            path = os.path.join(folder, path)
        import_errors[path] = {"message": _last_line(text), "traceback": str(text)}
    seen = set()
    warning_lines = []
    for item in caught:
        line = "%s: %s" % (item.category.__name__, str(item.message)[:300])
        if line not in seen:
            seen.add(line)
            warning_lines.append(line)
    document["dags"] = dags
    document["import_errors"] = import_errors
    document["warnings"] = warning_lines[:50]
    document["total_s"] = round(time.time() - started, 3)
    _emit(document)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
