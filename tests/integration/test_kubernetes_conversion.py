"""`fix --convert python-to-kubernetes` in real Airflow 3.3.2 with the cncf-kubernetes provider: the converted
DAG loads, the pod the task would create (built by the provider itself, no cluster) has the image, namespace,
command, env and resources asked for, and the function runs unchanged when the pod's entrypoint script is run
locally with the same Python."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from airshift.verify.dagbag import airflow_env
from airshift.verify.runtimes import ensure_runtime

pytestmark = pytest.mark.integration

DAG = """\
from datetime import datetime

from airflow import DAG
from airflow.decorators import task
from airflow.operators.python import PythonOperator


def summarise(day, table, scale=1):
    import hashlib
    import math

    digest = hashlib.sha256(f"{table}:{day}".encode()).hexdigest()[:8]
    return {"day": day, "table": table, "rows": math.floor(10 * scale), "digest": digest}


def reads_context(**context):
    return context["ds"]


with DAG("k8s_etl", start_date=datetime(2024, 1, 1), schedule="@daily", catchup=False) as dag:
    summary = PythonOperator(
        task_id="summarise",
        python_callable=summarise,
        op_args=["{{ ds }}"],
        op_kwargs={"table": "sales", "scale": 2.5},
        retries=2,
    )
    stays = PythonOperator(task_id="stays", python_callable=reads_context)

    @task(retries=1)
    def square(n):
        return n * n

    summary >> stays >> square(7)
"""

RESOURCES = "summarise:\n  requests: {cpu: 250m, memory: 128Mi}\n  limits: {memory: 256Mi}\n"

# Runs inside the runtime: load the DAG, render a task, build its pod with the provider's own code (the
# call that would submit it to a cluster is the only thing replaced), write what it found as JSON.
PROBE = r"""
import base64, json, sys
from airflow.dag_processing.dagbag import DagBag
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

folder, out = sys.argv[1], sys.argv[2]
bag = DagBag(folder)
dag = bag.dags["k8s_etl"]
report = {"errors": {k: str(v)[:500] for k, v in bag.import_errors.items()}, "tasks": {}}
pods = {}

def capture(self, context):  # instead of talking to a cluster: the pod this task would create
    pods[self.task_id] = self.build_pod_request_obj(None, dry_run=True)  # the provider's own no-cluster mode

KubernetesPodOperator.execute = capture
for task_id in ("summarise", "square", "stays"):
    op = dag.get_task(task_id)
    entry = {"class": type(op).__name__, "retries": op.retries}
    if isinstance(op, KubernetesPodOperator):
        context = {"ds": "2024-03-05", "ti": None, "dag_run": None, "task": op}
        op.render_template_fields(context)
        type(op).execute(op, context)
        pod = pods[task_id]
        container = pod.spec.containers[0]
        entry.update(
            image=container.image,
            namespace=pod.metadata.namespace,
            command=container.command,
            args=container.args,
            env={e.name: e.value for e in container.env or []},
            resources=container.resources.to_dict() if container.resources else None,
            do_xcom_push=op.do_xcom_push,
        )
    report["tasks"][task_id] = entry
json.dump(report, open(out, "w"))
"""


def test_converted_dag_loads_and_its_pod_runs_the_function_unchanged(tmp_path: Path) -> None:
    source = tmp_path / "dags"
    source.mkdir()
    (source / "k8s_etl.py").write_text(DAG)
    (tmp_path / "resources.yaml").write_text(RESOURCES)
    out = tmp_path / "migrated"
    fixed = subprocess.run(
        [sys.executable, "-m", "airshift", "fix", str(source), "--out", str(out), "--no-cache",
         "--convert", "python-to-kubernetes", "--image", "registry.example/etl:1.4", "--namespace", "jobs",
         "--resources", str(tmp_path / "resources.yaml")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert fixed.returncode in (0, 1), fixed.stdout + fixed.stderr
    assert "task stays (reads_context) stays a Python task: it needs the Airflow context" in fixed.stdout
    requirements = (out / "airshift-requirements.txt").read_text().split()
    # with the lowest release that supports the target (the provider floors table)
    assert any(r.startswith("apache-airflow-providers-cncf-kubernetes") for r in requirements), requirements

    runtime = ensure_runtime("3.3.2", extra_requirements=["apache-airflow-providers-cncf-kubernetes"])
    home = tmp_path / "home"
    home.mkdir()
    (tmp_path / "probe.py").write_text(PROBE)
    report_file = tmp_path / "report.json"
    probed = subprocess.run(
        [str(runtime.python), str(tmp_path / "probe.py"), str(out), str(report_file)],
        env=airflow_env(runtime, home, out), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert probed.returncode == 0, probed.stderr[-3000:]
    report = json.loads(report_file.read_text())
    assert report["errors"] == {}
    tasks = report["tasks"]
    assert tasks["stays"]["class"] == "PythonOperator"
    summary = tasks["summarise"]
    assert summary["class"] == "_KubernetesDecoratedOperator" and summary["retries"] == 2
    assert summary["image"] == "registry.example/etl:1.4" and summary["namespace"] == "jobs"
    assert summary["resources"]["requests"] == {"cpu": "250m", "memory": "128Mi"}
    assert summary["resources"]["limits"] == {"memory": "256Mi"}
    assert summary["command"][:2] == ["bash", "-cx"] and "python /tmp/script.py" in summary["command"][2]
    assert summary["do_xcom_push"] is True and "/airflow/xcom/return.json" in summary["command"][2]
    assert {"__PYTHON_SCRIPT", "__PYTHON_INPUT"} <= set(summary["env"])
    square = tasks["square"]
    assert square["image"] == "registry.example/etl:1.4" and square["resources"] is None
    assert square["retries"] == 1

    # What the functions give unconverted (the original DAG file, imported in the same runtime) ...
    original = subprocess.run(
        [str(runtime.python), "-c", textwrap.dedent(f"""
            import json, importlib.util
            spec = importlib.util.spec_from_file_location("original", {str(source / "k8s_etl.py")!r})
            module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
            print(json.dumps({{
                "summarise": module.summarise("2024-03-05", table="sales", scale=2.5),
                "square": module.square.function(7),
            }}))
        """)],
        env=airflow_env(runtime, home, source), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert original.returncode == 0, original.stderr[-2000:]
    expected = json.loads(original.stdout.strip().splitlines()[-1])
    # ... and what the pod's entrypoint gives, run here with the runtime's Python and no Airflow at all.
    for task_id in ("summarise", "square"):
        env = tasks[task_id]["env"]
        script, given = tmp_path / f"{task_id}.py", tmp_path / f"{task_id}.in"
        script.write_bytes(base64.b64decode(env["__PYTHON_SCRIPT"]))
        given.write_bytes(base64.b64decode(env["__PYTHON_INPUT"]))
        result = tmp_path / f"{task_id}.json"
        ran = subprocess.run(
            [str(runtime.python), "-I", str(script), str(given), str(result)],
            capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
        )  # fmt: skip
        assert ran.returncode == 0, ran.stderr[-2000:]
        assert json.loads(result.read_text()) == expected[task_id]
