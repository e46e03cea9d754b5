"""Load a folder of DAG files into a DagBag of the Airflow installed next to this interpreter.

Run it with the Python of an Airflow venv (1.10.x, 2.x or 3.x):

    /tmp/airshift-golden-venvs/af110/bin/python tests/golden/load_dagbag.py tests/golden/inputs/airflow110

It makes a throwaway AIRFLOW_HOME, points DAGS_FOLDER at the folder (so helper modules import the way
they do in a real deployment), initialises the SQLite metadata DB (top-level ``Variable.get`` needs it),
builds the DagBag and prints one JSON line tagged ``@@JSON@@``. Exit status 1 if any file failed to
import or no DAG was found. Standard library only; valid on Python 3.6+.
"""
import inspect
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings


def render_all(bag):
    """Render every templated field of every task for one fixed logical date.

    Parsing alone does not prove templates work: a missing .sql/.sh file or an undefined name
    only fails when the task renders. Returns {"dag.task": "error"} for the tasks that failed.
    """
    import datetime

    import pendulum
    from airflow.models import TaskInstance
    from airflow.utils import timezone

    if hasattr(pendulum, "DateTime"):  # pendulum 2/3 (Airflow 2.x, 3.x)
        logical = pendulum.datetime(2024, 3, 1, 2, 0, tz="UTC")
    else:  # pendulum 1 (Airflow 1.10)
        logical = timezone.make_aware(datetime.datetime(2024, 3, 1, 2, 0))
    errors = {}
    for dag_id in sorted(bag.dags):
        dag = bag.dags[dag_id]
        run = None
        if hasattr(dag, "create_dagrun") and not airflow_1():
            run = make_dagrun(dag, logical)
        for task in dag.tasks:
            try:
                if run is None:
                    ti = TaskInstance(task, logical)
                else:
                    ti = TaskInstance(task, run_id=run.run_id)
                ti.render_templates()
            except Exception as exc:  # report, keep going
                errors["%s.%s" % (dag_id, task.task_id)] = "%s: %s" % (type(exc).__name__, exc)
    return errors


def airflow_1():
    import airflow

    return airflow.__version__.startswith("1.")


def make_dagrun(dag, logical):
    """A DagRun row for Airflow 2.x, so the template context has dag_run and a data interval."""
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunType

    interval = dag.timetable.infer_manual_data_interval(run_after=logical)
    return dag.create_dagrun(
        run_id="golden__" + logical.isoformat(),
        run_type=DagRunType.MANUAL,
        execution_date=logical,
        data_interval=interval,
        state=DagRunState.RUNNING,
        external_trigger=True,
        conf={},
    )


def main():
    folder = os.path.abspath(sys.argv[1])
    home = tempfile.mkdtemp(prefix="airshift-golden-home-")
    os.environ["AIRFLOW_HOME"] = home
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = folder
    os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
    airflow_bin = os.path.join(os.path.dirname(sys.executable), "airflow")
    try:
        version = subprocess.check_output(
            [sys.executable, "-c", "import airflow; print(airflow.__version__)"],
            stderr=subprocess.DEVNULL,
        ).decode().strip().splitlines()[-1]
        init = ["initdb"] if version.startswith("1.") else ["db", "migrate"]
        subprocess.check_call(
            [airflow_bin] + init, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

        import airflow

        try:
            from airflow.dag_processing.dagbag import DagBag  # Airflow >= 3.1
        except ImportError:
            from airflow.models.dagbag import DagBag  # 1.10, 2.x, 3.0

        kwargs = {}
        if "include_examples" in inspect.signature(DagBag.__init__).parameters:
            kwargs["include_examples"] = False
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            bag = DagBag(dag_folder=folder, **kwargs)
        result = {
            "airflow": airflow.__version__,
            "python": sys.version.split()[0],
            "folder": folder,
            "dags": {d: sorted(bag.dags[d].task_ids) for d in sorted(bag.dags)},
            "import_errors": {
                os.path.relpath(k, folder): v.strip().splitlines()[-1]
                for k, v in bag.import_errors.items()
            },
            "render_errors": render_all(bag) if "--render" in sys.argv else None,
            "warnings": sorted(
                {"%s: %s" % (w.category.__name__, str(w.message).splitlines()[0][:140]) for w in caught}
            ),
        }
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print("@@JSON@@" + json.dumps(result, sort_keys=True))
    return 1 if result["import_errors"] or not result["dags"] else 0


if __name__ == "__main__":
    sys.exit(main())
