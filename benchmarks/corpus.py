"""A deterministic corpus of realistic Airflow DAG files for the benchmark.

Three kinds of file, in the proportions a real DAG repository tends to have:

- Airflow 1.10 style: `airflow.contrib` and `*_operator` imports, plugin-style
  `from airflow.operators import BashOperator`, `provide_context=True`, `days_ago()` in default_args,
  `schedule_interval`, `concurrency`, trigger rules as strings, `@apply_defaults` custom operators,
  context keys such as `execution_date`, and `dag.cli()`.
- Airflow 2.x style: TaskFlow `@dag`/`@task`, `airflow.operators.bash/python/empty`, Datasets,
  `schedule_interval` or `schedule`, the `TriggerRule` enum, provider operators.
- Helper modules that do not use Airflow at all (about 10%).

Sizes run from about 50 to 400 lines, with varying task counts, docstrings, comments, SQL and helpers.
File `i` depends only on the seed and `i`, so a corpus of 20 files is the first 20 of a corpus of 5,000.
"""

from __future__ import annotations

import itertools
import random
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_SEED = 20260122
MARKER = ".airshift-benchmark-corpus"  # marks a folder this module made (safe to wipe and regenerate)

MIN_LINES, MAX_LINES, MODE_LINES = 50, 400, 120
HELPER_SHARE = 0.10
LEGACY_SHARE = 0.48  # of the Airflow files

TEAMS = (
    "analytics",
    "marketing",
    "finance",
    "platform",
    "growth",
    "ml",
    "risk",
    "ops",
    "search",
    "billing",
    "crm",
    "logistics",
)
ENTITIES = (
    "orders",
    "customers",
    "events",
    "invoices",
    "sessions",
    "inventory",
    "payments",
    "clicks",
    "campaigns",
    "users",
    "shipments",
    "metrics",
    "refunds",
    "leads",
    "products",
    "reviews",
    "subscriptions",
    "tickets",
)
VERBS = (
    "extract",
    "load",
    "transform",
    "validate",
    "publish",
    "sync",
    "export",
    "aggregate",
    "dedupe",
    "enrich",
    "snapshot",
    "backfill",
    "score",
    "archive",
)
SCHEDULES = ('"@daily"', '"@hourly"', '"0 3 * * *"', '"*/15 * * * *"', '"@weekly"', "None", '"30 6 * * 1-5"')
OWNERS = ("data-eng", "analytics", "airflow", "platform", "bi-team", "ml-infra")
_TEXT = (
    "the data is loaded from the upstream warehouse and checked for late arriving rows before the "
    "downstream marts are rebuilt; failures page the on call engineer through the usual alerting "
    "channel and the run can be cleared safely because every step is idempotent and writes to a "
    "partition keyed by the logical date of the run"
)
WORDS = _TEXT.split()


@dataclass
class CorpusStats:
    files: int = 0
    lines: int = 0
    bytes: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    other_files: int = 0  # non-Python files (READMEs, SQL) that `fix --out` copies


# --------------------------------------------------------------------------------------------------
# Small text helpers


def _sentence(rng: random.Random, low: int = 6, high: int = 16) -> str:
    start = rng.randrange(len(WORDS))
    count = rng.randint(low, high)
    words = [WORDS[(start + k) % len(WORDS)] for k in range(count)]
    return " ".join(words).capitalize() + "."


def _wrap(text: str, indent: str, width: int = 96) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(indent) + len(current) + 1 + len(word) > width:
            lines.append(indent + current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(indent + current)
    return lines


def _docstring(rng: random.Random, indent: str, title: str, paragraphs: int) -> list[str]:
    if paragraphs == 0:
        return [f'{indent}"""{title}"""']
    lines = [f'{indent}"""{title}', ""]
    for p in range(paragraphs):
        lines.extend(_wrap(" ".join(_sentence(rng) for _ in range(rng.randint(1, 3))), indent))
        if p < paragraphs - 1:
            lines.append("")
    lines.append(f'{indent}"""')
    return lines


def _comment(rng: random.Random, indent: str) -> list[str]:
    return _wrap(_sentence(rng, 8, 24), indent + "# ")


def _sql(rng: random.Random, entity: str, indent: str) -> list[str]:
    columns = rng.sample(
        ["id", "created_at", "updated_at", "amount", "status", "region", "channel", "user_id"], 4
    )
    lines = [f"{indent}SELECT"]
    lines += [f"{indent}    {c}," for c in columns[:-1]] + [f"{indent}    {columns[-1]}"]
    lines += [
        f"{indent}FROM `{{{{ params.project }}}}.raw.{entity}`",
        f"{indent}WHERE DATE(created_at) = '{{{{ ds }}}}'",
    ]
    if rng.random() < 0.5:
        lines.append(f"{indent}  AND status != 'deleted'")
    return lines


# --------------------------------------------------------------------------------------------------
# Operators a file may use. Each knows its imports (per Airflow generation) and how to render a task.


@dataclass(frozen=True)
class OperatorKind:
    name: str
    legacy_module: str | None  # 1.10 module path (None: not used in 1.10 files)
    modern_module: str | None  # 2.x module path (None: not used in 2.x files)
    plugin_style: bool = False  # 1.10 also allowed `from airflow.operators import Name`
    weight: int = 1


OPERATORS = (
    OperatorKind("BashOperator", "airflow.operators.bash_operator", "airflow.operators.bash", True, 6),
    OperatorKind("PythonOperator", "airflow.operators.python_operator", "airflow.operators.python", True, 6),
    OperatorKind("DummyOperator", "airflow.operators.dummy_operator", None, True, 3),
    OperatorKind("EmptyOperator", None, "airflow.operators.empty", False, 3),
    OperatorKind(
        "BranchPythonOperator", "airflow.operators.python_operator", "airflow.operators.python", False
    ),
    OperatorKind(
        "BigQueryOperator",
        "airflow.contrib.operators.bigquery_operator",
        None,
        False,
        3,
    ),
    OperatorKind(
        "BigQueryInsertJobOperator", None, "airflow.providers.google.cloud.operators.bigquery", False, 2
    ),
    OperatorKind(
        "GoogleCloudStorageToBigQueryOperator", "airflow.contrib.operators.gcs_to_bq", None, False, 1
    ),
    OperatorKind(
        "KubernetesPodOperator",
        "airflow.contrib.operators.kubernetes_pod_operator",
        "airflow.providers.cncf.kubernetes.operators.pod",
        False,
        2,
    ),
    OperatorKind(
        "SSHOperator", "airflow.contrib.operators.ssh_operator", "airflow.providers.ssh.operators.ssh"
    ),
    OperatorKind(
        "PostgresOperator",
        "airflow.operators.postgres_operator",
        "airflow.providers.postgres.operators.postgres",
        True,
        2,
    ),
    OperatorKind("EmailOperator", "airflow.operators.email_operator", "airflow.operators.email", True),
    OperatorKind(
        "SimpleHttpOperator", "airflow.operators.http_operator", "airflow.providers.http.operators.http"
    ),
    OperatorKind(
        "ExternalTaskSensor",
        "airflow.sensors.external_task_sensor",
        "airflow.sensors.external_task",
        False,
        2,
    ),
    OperatorKind("S3KeySensor", "airflow.sensors.s3_key_sensor", "airflow.providers.amazon.aws.sensors.s3"),
)


def _pick_operators(rng: random.Random, legacy: bool, count: int) -> list[OperatorKind]:
    pool = [op for op in OPERATORS if (op.legacy_module if legacy else op.modern_module)]
    weights = [op.weight for op in pool]
    chosen: dict[str, OperatorKind] = {}
    while len(chosen) < count:
        op = rng.choices(pool, weights)[0]
        chosen[op.name] = op
    return list(chosen.values())


@dataclass
class Task:
    var: str
    task_id: str
    lines: list[str]


@dataclass
class FileState:
    """What a DAG file being written needs: imports, callables, constants."""

    rng: random.Random
    legacy: bool
    entity: str
    dag_id: str
    indent: str  # "" for `dag=dag` tasks, "    " inside `with DAG(...)`
    pass_dag: bool
    callables: list[list[str]] = field(default_factory=list)
    constants: list[list[str]] = field(default_factory=list)
    used_hooks: set[str] = field(default_factory=set)
    uses_trigger_enum: bool = False
    uses_timedelta: bool = False
    uses_variable: bool = False
    datasets: list[str] = field(default_factory=list)


def _callable(state: FileState, name: str, branch_targets: list[str] | None = None) -> None:
    rng = state.rng
    lines: list[str] = []
    if state.legacy:
        signature = rng.choice(["ds, **kwargs", "**context", "*args, **kwargs", "ds, **context"])
        ctx = "context" if "context" in signature else "kwargs"
    else:
        signature = rng.choice(["**context", "ti=None, **kwargs", "ds=None, **context", "**kwargs"])
        ctx = "context" if "context" in signature else "kwargs"
    lines.append(f"def {name}({signature}):")
    lines += _docstring(rng, "    ", f"{name.replace('_', ' ').capitalize()}.", rng.choice([0, 0, 1, 1, 2]))
    if rng.random() < 0.5:
        lines += _comment(rng, "    ")
    key = rng.choice(["execution_date", "next_execution_date", "prev_ds", "ds_nodash", "yesterday_ds"])
    if key in ("execution_date", "next_execution_date", "prev_ds") or rng.random() < 0.5:
        lines.append(f"    run_date = {ctx}[{key!r}]")
    else:
        lines.append(f"    run_date = {ctx}.get('ds')")
    if "ti=None" in signature:
        lines.append("    ti = ti or kwargs['ti']")
    else:
        lines.append(f"    ti = {ctx}['ti']")
    if rng.random() < 0.4:
        state.uses_variable = True
        lines.append(f"    bucket = Variable.get('{state.entity}_bucket', default_var='data-lake')")
    else:
        lines.append(f"    bucket = '{state.entity}-landing'")
    if rng.random() < 0.3:
        state.used_hooks.add("PostgresHook")
        lines += [
            "    hook = PostgresHook(postgres_conn_id='warehouse')",
            f'    rows = hook.get_records("SELECT count(*) FROM {state.entity} WHERE ds = %s", parameters=[run_date])',
            "    count = rows[0][0] if rows else 0",
        ]
    else:
        lines += [
            "    count = 0",
            f"    for part in range({rng.randint(2, 24)}):",
            f"        path = '{{}}/{state.entity}/{{}}/part-{{:04d}}.parquet'.format(bucket, run_date, part)",
            "        log.info('checking %s', path)",
            "        count += 1",
        ]
    if branch_targets:
        lines += [
            f"    if count > {rng.randint(10, 1000)}:",
            f"        return '{branch_targets[0]}'",
            f"    return '{branch_targets[-1]}'",
        ]
    else:
        lines.append(f"    ti.xcom_push(key='{state.entity}_count', value=count)")
        lines.append("    return count")
    state.callables.append(lines)


def _task_lines(state: FileState, op: OperatorKind, var: str, task_id: str, all_ids: list[str]) -> list[str]:
    rng = state.rng
    i = state.indent
    kw = i + "    "
    call = op.name
    body: list[str] = [f'{kw}task_id="{task_id}",']
    name = op.name
    if name == "BashOperator":
        command = rng.choice(
            [
                f"python /opt/jobs/{state.entity}/run.py --date {{{{ ds }}}}",
                f'dbt run --select {state.entity} --vars \'{{"ds": "{{{{ ds }}}}"}}\'',
                f"gsutil -m cp gs://landing/{state.entity}/{{{{ ds_nodash }}}}/* /tmp/{state.entity}/",
                f"echo processing {state.entity} for {{{{ execution_date }}}}",
                f"bash /opt/scripts/{task_id}.sh ",
            ]
        )
        body.append(f"{kw}bash_command={command!r},")
        if rng.random() < 0.3:
            body.append(f"{kw}env={{'ENTITY': '{state.entity}', 'TARGET': 'prod'}},")
    elif name in ("PythonOperator", "BranchPythonOperator"):
        fn = f"{task_id}_fn" if not task_id.endswith("_fn") else task_id
        branch = None
        if name == "BranchPythonOperator":
            branch = [t for t in all_ids if t != task_id][:2] or [task_id]
        _callable(state, fn, branch)
        body.append(f"{kw}python_callable={fn},")
        if state.legacy and rng.random() < 0.7:
            body.append(f"{kw}provide_context=True,")
        if rng.random() < 0.4:
            body.append(f"{kw}op_kwargs={{'entity': '{state.entity}', 'limit': {rng.randint(10, 5000)}}},")
    elif name == "DummyOperator" or name == "EmptyOperator":
        pass
    elif name == "BigQueryOperator":
        argname = "bql" if rng.random() < 0.3 else "sql"
        body.append(f'{kw}{argname}="""')
        body += _sql(rng, state.entity, kw + "    ")
        body.append(f'{kw}""",')
        body += [
            f'{kw}destination_dataset_table="analytics.{state.entity}_{task_id}${{{{ ds_nodash }}}}",',
            f'{kw}write_disposition="WRITE_TRUNCATE",',
            f"{kw}use_legacy_sql=False,",
            f'{kw}bigquery_conn_id="bigquery_default",',
        ]
    elif name == "BigQueryInsertJobOperator":
        body += [
            f"{kw}configuration={{",
            f'{kw}    "query": {{',
            f'{kw}        "query": "SELECT * FROM raw.{state.entity} WHERE ds = \'{{{{ ds }}}}\'",',
            f'{kw}        "useLegacySql": False,',
            f"{kw}    }}",
            f"{kw}}},",
            f'{kw}gcp_conn_id="google_cloud_default",',
        ]
    elif name == "GoogleCloudStorageToBigQueryOperator":
        body += [
            f'{kw}bucket="landing-{state.entity}",',
            f'{kw}source_objects=["{state.entity}/{{{{ ds_nodash }}}}/*.json"],',
            f'{kw}destination_project_dataset_table="raw.{state.entity}",',
            f'{kw}source_format="NEWLINE_DELIMITED_JSON",',
            f'{kw}write_disposition="WRITE_APPEND",',
        ]
    elif name == "KubernetesPodOperator":
        body += [
            f'{kw}name="{task_id.replace("_", "-")}",',
            f'{kw}namespace="{rng.choice(["airflow", "jobs", "batch"])}",',
            f'{kw}image="gcr.io/acme/{state.entity}-job:{rng.randint(1, 40)}.{rng.randint(0, 9)}",',
            f'{kw}cmds=["python", "-m", "jobs.{state.entity}"],',
            f'{kw}arguments=["--date", "{{{{ ds }}}}"],',
            f"{kw}get_logs=True,",
            f"{kw}is_delete_operator_pod=True,",
        ]
    elif name == "SSHOperator":
        body += [f'{kw}ssh_conn_id="etl_host",', f'{kw}command="/opt/etl/{task_id}.sh {{{{ ds }}}}",']
    elif name == "PostgresOperator":
        body += [f'{kw}postgres_conn_id="warehouse",', f'{kw}sql="sql/{state.entity}/{task_id}.sql",']
        if rng.random() < 0.4:
            body.append(f'{kw}parameters={{"ds": "{{{{ ds }}}}"}},')
    elif name == "EmailOperator":
        body += [
            f'{kw}to=["{state.entity}-owners@example.com"],',
            f'{kw}subject="{state.dag_id} finished for {{{{ ds }}}}",',
            f'{kw}html_content="<p>{_sentence(rng, 4, 9)}</p>",',
        ]
    elif name == "SimpleHttpOperator":
        body += [
            f'{kw}http_conn_id="internal_api",',
            f'{kw}endpoint="v1/{state.entity}/refresh",',
            f'{kw}method="POST",',
            f'{kw}data=\'{{"date": "{{{{ ds }}}}"}}\',',
        ]
    elif name == "ExternalTaskSensor":
        state.uses_timedelta = True
        body += [
            f'{kw}external_dag_id="{rng.choice(ENTITIES)}_{rng.choice(VERBS)}",',
            f'{kw}external_task_id="{rng.choice(["done", "end", "publish"])}",',
            f"{kw}execution_delta=timedelta(hours={rng.randint(1, 6)}),",
            f'{kw}mode="reschedule",',
            f"{kw}timeout={rng.choice([600, 1800, 3600])},",
        ]
    elif name == "S3KeySensor":
        body += [
            f'{kw}bucket_key="s3://landing/{state.entity}/{{{{ ds }}}}/_SUCCESS",',
            f'{kw}aws_conn_id="aws_default",',
            f"{kw}poke_interval={rng.choice([60, 120, 300])},",
        ]
    # Arguments any task may have.
    roll = rng.random()
    if roll < 0.18:
        if state.legacy or rng.random() < 0.3:
            value = rng.choice(
                ["all_done", "one_success", "none_failed", "all_success", "none_failed_or_skipped", "dummy"]
            )
            body.append(f'{kw}trigger_rule="{value}",')
        else:
            state.uses_trigger_enum = True
            value = rng.choice(
                ["ALL_DONE", "ONE_SUCCESS", "NONE_FAILED", "NONE_FAILED_MIN_ONE_SUCCESS", "ALL_SUCCESS"]
            )
            body.append(f"{kw}trigger_rule=TriggerRule.{value},")
    if rng.random() < 0.25:
        body.append(f"{kw}retries={rng.randint(0, 5)},")
    if rng.random() < 0.08:
        body.append(f"{kw}task_concurrency={rng.randint(1, 4)},")
    if state.datasets and rng.random() < 0.3:
        body.append(f"{kw}outlets=[{rng.choice(state.datasets)}],")
    if rng.random() < 0.1:
        body.append(f'{kw}pool="{state.entity}_pool",')
    if state.pass_dag:
        body.append(f"{kw}dag=dag,")
    return [f"{i}{var} = {call}(", *body, f"{i})"]


def _size(tasks: list[Task], state: FileState) -> int:
    """Lines written so far for tasks and their callables."""
    return sum(len(t.lines) + 1 for t in tasks) + sum(len(fn) + 2 for fn in state.callables)


def _dependencies(rng: random.Random, indent: str, tasks: list[Task]) -> list[str]:
    names = [t.var for t in tasks]
    lines: list[str] = [""]
    if rng.random() < 0.3:
        lines += _comment(rng, indent)
    position = 0
    while position < len(names) - 1:
        style = rng.random()
        step = rng.randint(1, 4)
        chunk = names[position : position + step + 1]
        if style < 0.55 or len(chunk) < 3:
            lines.append(indent + " >> ".join(chunk))
        elif style < 0.8:
            lines.append(f"{indent}{chunk[0]} >> [{', '.join(chunk[1:-1])}] >> {chunk[-1]}")
        else:
            for a, b in itertools.pairwise(chunk):
                lines.append(f"{indent}{a}.set_downstream({b})")
        position += step
    return lines


# --------------------------------------------------------------------------------------------------
# File kinds


def _custom_operator(rng: random.Random, entity: str) -> list[str]:
    cls = f"{entity.capitalize()}{rng.choice(['Export', 'Audit', 'Quality', 'Sync'])}Operator"
    lines = [f"class {cls}(BaseOperator):"]
    lines += _docstring(rng, "    ", f"Custom operator for {entity}.", rng.randint(1, 2))
    lines += [
        "",
        "    template_fields = ('sql', 'target_table')",
        "    template_ext = ('.sql',)",
        f"    ui_color = '#{rng.randrange(0x1000000):06x}'",
        "",
        "    @apply_defaults",
        "    def __init__(self, sql, target_table, conn_id='warehouse', *args, **kwargs):",
        f"        super({cls}, self).__init__(*args, **kwargs)",
        "        self.sql = sql",
        "        self.target_table = target_table",
        "        self.conn_id = conn_id",
        "",
        "    def execute(self, context):",
        "        hook = PostgresHook(postgres_conn_id=self.conn_id)",
        "        self.log.info('Running %s for %s', self.sql, context['execution_date'])",
        "        records = hook.get_records(self.sql)",
        "        if not records:",
        f"            raise ValueError('no rows for {entity}')",
        "        hook.insert_rows(self.target_table, records)",
        "        return len(records)",
    ]
    return lines


def _filler(rng: random.Random, entity: str, legacy: bool, number: int) -> list[str]:
    """A section that makes files longer the way real ones are: helpers, SQL constants, config."""
    kind = rng.random()
    lines: list[str] = []
    if kind < 0.35:
        name = f"_{rng.choice(VERBS)}_{entity}_{number}"
        lines.append(f"def {name}(rows, limit={rng.randint(10, 500)}):")
        lines += _docstring(rng, "    ", "Helper used by the callables below.", rng.randint(0, 2))
        lines += [
            "    result = []",
            "    for row in rows[:limit]:",
            "        if not row:",
            "            continue",
            f"        key = row.get('{rng.choice(['id', 'user_id', 'order_id'])}')",
            "        if key is None:",
            "            log.warning('row without key: %r', row)",
            "            continue",
            "        result.append((key, row))",
            "    return result",
        ]
    elif kind < 0.6:
        lines += [f'{entity.upper()}_QUERY_{number} = """']
        lines += _sql(rng, entity, "")
        lines += ['"""']
    elif kind < 0.8:
        lines += _comment(rng, "")
        lines.append(f"{entity.upper()}_CONFIG_{number} = {{")
        for key in rng.sample(
            ["bucket", "dataset", "table", "region", "owner", "sla_minutes", "partitions"], 4
        ):
            value = rng.randint(1, 300) if key in ("sla_minutes", "partitions") else f"'{entity}-{key}'"
            lines.append(f"    '{key}': {value},")
        lines.append("}")
    else:
        lines += _comment(rng, "")
        lines += _comment(rng, "")
        lines.append(f"TABLES_{number} = [")
        for _ in range(rng.randint(3, 9)):
            lines.append(f"    '{rng.choice(ENTITIES)}_{rng.choice(['daily', 'hourly', 'raw', 'clean'])}',")
        lines.append("]")
    return lines


def _legacy_dag(rng: random.Random, index: int, target: int) -> list[str]:
    entity = rng.choice(ENTITIES)
    dag_id = f"{entity}_{rng.choice(VERBS)}_{index}"
    with_block = rng.random() < 0.35
    state = FileState(rng, True, entity, dag_id, "    " if with_block else "", not with_block)
    n_tasks = max(2, min(30, (target - 70) // 11 + rng.randint(-2, 2)))
    ops = _pick_operators(rng, True, rng.randint(2, 5))
    custom = rng.random() < 0.25
    tasks: list[Task] = []
    ids = [f"{rng.choice(VERBS)}_{rng.choice(ENTITIES)}_{k}" for k in range(n_tasks)]
    for k in range(n_tasks):
        if k >= 2 and _size(tasks, state) + 80 > target:
            break
        op = ops[0] if k == 0 and ops[0].name == "DummyOperator" else rng.choice(ops)
        tasks.append(Task(f"t{k}" if rng.random() < 0.5 else ids[k], ids[k], []))
        tasks[-1].lines = _task_lines(state, op, tasks[-1].var, ids[k], ids)
    # Imports, chosen after the tasks so only what is used is imported.
    plugin = rng.random() < 0.2
    alias_bq = rng.random() < 0.2
    head = _docstring(rng, "", f"{dag_id}: {_sentence(rng, 3, 7)[:-1].lower()}", rng.randint(0, 3))
    head += ["", "import logging", "import os"]
    head.append("from datetime import datetime, timedelta")
    head += ["", "from airflow import DAG"]
    used = {op.name for op in ops if any(f"{op.name}(" in line for t in tasks for line in t.lines)}
    plugin_names = sorted(op.name for op in ops if op.name in used and op.plugin_style) if plugin else []
    if plugin_names:
        head.append(f"from airflow.operators import {', '.join(plugin_names)}")
    by_module: dict[str, list[str]] = {}
    for op in ops:
        if op.name in used and op.name not in plugin_names and op.legacy_module:
            by_module.setdefault(op.legacy_module, []).append(op.name)
    for module, names in sorted(by_module.items()):
        if alias_bq and module.endswith("bigquery_operator"):
            head.append(f"import {module} as bq")
            for t in tasks:
                t.lines = [line.replace("BigQueryOperator(", "bq.BigQueryOperator(") for line in t.lines]
            continue
        head.append(f"from {module} import {', '.join(sorted(names))}")
    if custom or state.used_hooks:
        head.append("from airflow.hooks.postgres_hook import PostgresHook")
    if custom:
        head.append("from airflow.models import BaseOperator")
        head.append("from airflow.utils.decorators import apply_defaults")
    if state.uses_variable:
        head.append("from airflow.models import Variable")
    use_days_ago = rng.random() < 0.7
    if use_days_ago:
        head.append("from airflow.utils.dates import days_ago")
    head += ["", "log = logging.getLogger(__name__)", ""]
    body: list[str] = []
    if custom:
        body += ["", *_custom_operator(rng, entity), ""]
    for fn in state.callables:
        body += ["", *fn, ""]
    start = (
        f"days_ago({rng.randint(1, 7)})"
        if use_days_ago
        else f"datetime({rng.randint(2017, 2020)}, {rng.randint(1, 12)}, 1)"
    )
    body += [
        "",
        "default_args = {",
        f"    'owner': '{rng.choice(OWNERS)}',",
        "    'depends_on_past': False,",
        f"    'start_date': {start},",
        f"    'email': ['{entity}-alerts@example.com'],",
        "    'email_on_failure': True,",
        "    'email_on_retry': False,",
        f"    'retries': {rng.randint(0, 3)},",
        f"    'retry_delay': timedelta(minutes={rng.choice([1, 5, 10, 15])}),",
    ]
    if rng.random() < 0.3:
        body.append("    'provide_context': True,")
    body += ["}", ""]
    dag_args = [
        f"    '{dag_id}',",
        "    default_args=default_args,",
        f"    description='{_sentence(rng, 3, 8)}',",
        f"    schedule_interval={rng.choice((*SCHEDULES, 'timedelta(hours=1)'))},",
        f"    catchup={rng.choice(['False', 'True'])},",
    ]
    if rng.random() < 0.4:
        dag_args.append(f"    concurrency={rng.randint(1, 16)},")
    if rng.random() < 0.3:
        dag_args.append(f"    max_active_runs={rng.randint(1, 3)},")
    if rng.random() < 0.15:
        dag_args.append(f"    default_view='{rng.choice(['tree', 'graph'])}',")
    if with_block:
        body += ["with DAG(", *dag_args, ") as dag:"]
        body += _docstring(rng, "    ", "Tasks of this DAG.", 0) if rng.random() < 0.2 else []
    else:
        body += ["dag = DAG(", *dag_args, ")", ""]
    if custom:
        tasks.append(Task("custom_export", "custom_export", []))
        cls = next(line for line in body if line.startswith("class ")).split("(")[0][6:]
        tasks[-1].lines = [
            f"{state.indent}custom_export = {cls}(",
            f"{state.indent}    task_id='custom_export',",
            f"{state.indent}    sql='sql/{entity}/export.sql',",
            f"{state.indent}    target_table='mart.{entity}',",
            *([f"{state.indent}    dag=dag,"] if state.pass_dag else []),
            f"{state.indent})",
        ]
    for k, task in enumerate(tasks):
        if k and rng.random() < 0.25:
            body += _comment(rng, state.indent)
        body += task.lines
        if not with_block or rng.random() < 0.5:
            body.append("")
    body += _dependencies(rng, state.indent, tasks)
    if rng.random() < 0.35:
        body += ["", "", "if __name__ == '__main__':", "    dag.cli()"]
    return _pad(rng, head, body, target, entity, True)


def _modern_classic(rng: random.Random, index: int, target: int) -> list[str]:
    entity = rng.choice(ENTITIES)
    dag_id = f"{entity}_{rng.choice(VERBS)}_{index}"
    state = FileState(rng, False, entity, dag_id, "    ", False)
    if rng.random() < 0.4:
        state.datasets = [f"{e.upper()}_DS" for e in rng.sample(ENTITIES, rng.randint(1, 3))]
    n_tasks = max(2, min(30, (target - 70) // 11 + rng.randint(-2, 2)))
    ops = _pick_operators(rng, False, rng.randint(2, 5))
    ids = [f"{rng.choice(VERBS)}_{rng.choice(ENTITIES)}_{k}" for k in range(n_tasks)]
    tasks: list[Task] = []
    for k in range(n_tasks):
        if k >= 2 and _size(tasks, state) + 50 > target:
            break
        op = rng.choice(ops)
        task = Task(ids[k], ids[k], [])
        task.lines = _task_lines(state, op, task.var, ids[k], ids)
        tasks.append(task)
    used = {op.name for op in ops if any(f"{op.name}(" in line for t in tasks for line in t.lines)}
    head = _docstring(rng, "", f"{dag_id}.", rng.randint(0, 3))
    head += ["", "from __future__ import annotations", "", "import logging"]
    head += ["from datetime import datetime, timedelta", "", "import pendulum"]
    head += ["from airflow import DAG"]
    if state.datasets:
        head.append(rng.choice(["from airflow import Dataset", "from airflow.datasets import Dataset"]))
    if state.uses_variable:
        head.append("from airflow.models import Variable")
    by_module: dict[str, list[str]] = {}
    for op in ops:
        if op.name in used and op.modern_module:
            by_module.setdefault(op.modern_module, []).append(op.name)
    for module, names in sorted(by_module.items()):
        head.append(f"from {module} import {', '.join(sorted(names))}")
    if state.used_hooks:
        head.append("from airflow.providers.postgres.hooks.postgres import PostgresHook")
    if state.uses_trigger_enum:
        head.append("from airflow.utils.trigger_rule import TriggerRule")
    head += ["", "log = logging.getLogger(__name__)", ""]
    body: list[str] = []
    for ds in state.datasets:
        body.append(f'{ds} = Dataset("gs://lake/{ds.lower()[:-3]}/daily.parquet")')
    for fn in state.callables:
        body += ["", "", *fn]
    schedule_key = "schedule" if rng.random() < 0.45 else "schedule_interval"
    schedule = rng.choice(SCHEDULES)
    if state.datasets and schedule_key == "schedule" and rng.random() < 0.4:
        schedule = f"[{state.datasets[0]}]"
    body += [
        "",
        "",
        "with DAG(",
        f'    dag_id="{dag_id}",',
        f'    start_date=pendulum.datetime({rng.randint(2021, 2024)}, {rng.randint(1, 12)}, 1, tz="UTC"),'
        if rng.random() < 0.6
        else f"    start_date=datetime({rng.randint(2021, 2024)}, {rng.randint(1, 12)}, 1),",
        f"    {schedule_key}={schedule},",
        "    catchup=False,",
        f'    default_args={{"owner": "{rng.choice(OWNERS)}", "retries": {rng.randint(0, 3)}, '
        f'"retry_delay": timedelta(minutes={rng.choice([2, 5, 10])})}},',
        f'    tags=["{rng.choice(TEAMS)}", "{entity}"],',
    ]
    if rng.random() < 0.2:
        body.append(f"    max_active_tasks={rng.randint(2, 10)},")
    if rng.random() < 0.3:
        body.append(f'    doc_md="""{_sentence(rng)}""",')
    body.append(") as dag:")
    for k, task in enumerate(tasks):
        if k and rng.random() < 0.2:
            body += _comment(rng, "    ")
        body += task.lines
        body.append("")
    body += _dependencies(rng, "    ", tasks)
    return _pad(rng, head, body, target, entity, False)


def _taskflow(rng: random.Random, index: int, target: int) -> list[str]:
    entity = rng.choice(ENTITIES)
    name = f"{entity}_{rng.choice(VERBS)}_{index}"
    n_tasks = max(2, min(20, (target - 60) // 14 + rng.randint(-1, 1)))
    enum = rng.random() < 0.3
    datasets = rng.random() < 0.25
    head = _docstring(rng, "", f"TaskFlow pipeline for {entity}.", rng.randint(0, 3))
    head += ["", "from __future__ import annotations", "", "import json", "import logging"]
    head += ["", "import pendulum", "from airflow.decorators import dag, task"]
    if datasets:
        head.append("from airflow.datasets import Dataset")
    bash = rng.random() < 0.4
    if bash:
        head.append("from airflow.operators.bash import BashOperator")
    if enum:
        head.append("from airflow.utils.trigger_rule import TriggerRule")
    variable = rng.random() < 0.3
    if variable:
        head.append("from airflow.models import Variable")
    head += ["", "log = logging.getLogger(__name__)", ""]
    body: list[str] = []
    if datasets:
        body += [
            f'SOURCE = Dataset("s3://lake/{entity}/raw")',
            f'TARGET = Dataset("s3://lake/{entity}/clean")',
            "",
        ]
    schedule_key = "schedule" if rng.random() < 0.5 else "schedule_interval"
    schedule = "[SOURCE]" if datasets and schedule_key == "schedule" else rng.choice(SCHEDULES)
    body += [
        "",
        "@dag(",
        f"    {schedule_key}={schedule},",
        f'    start_date=pendulum.datetime({rng.randint(2021, 2025)}, {rng.randint(1, 12)}, 1, tz="UTC"),',
        "    catchup=False,",
        f'    tags=["{entity}", "taskflow"],',
    ]
    if rng.random() < 0.4:
        body.append(f'    default_args={{"retries": {rng.randint(1, 4)}}},')
    body += [")", f"def {name}():"]
    body += _docstring(rng, "    ", f"### {entity.capitalize()} pipeline", rng.randint(1, 3))
    calls: list[str] = []
    previous: str | None = None
    for k in range(n_tasks):
        fn = f"{rng.choice(VERBS)}_{k}"
        decorator = rng.choice(["@task()", "@task", "@task(retries=2)", "@task(multiple_outputs=True)"])
        if enum and rng.random() < 0.25:
            decorator = (
                f"@task(trigger_rule=TriggerRule.{rng.choice(['ALL_DONE', 'NONE_FAILED', 'ONE_FAILED'])})"
            )
        if datasets and k == n_tasks - 1:
            decorator = "@task(outlets=[TARGET])"
        body += ["", f"    {decorator}"]
        arg = "data: dict" if previous else ""
        body.append(f"    def {fn}({arg}) -> dict:")
        body += _docstring(
            rng, "        ", f"{fn.replace('_', ' ').capitalize()} {entity}.", rng.choice([0, 0, 1])
        )
        if rng.random() < 0.3:
            body += _comment(rng, "        ")
        if variable and k == 0:
            body.append(f'        limit = int(Variable.get("{entity}_limit", default_var=100))')
        else:
            body.append(f"        limit = {rng.randint(10, 1000)}")
        if previous:
            body += [
                "        rows = [r for r in data.get('rows', []) if r][:limit]",
                f"        log.info('{fn}: %d rows', len(rows))",
            ]
        else:
            body += [
                f"        rows = [{{'id': i, 'entity': '{entity}'}} for i in range(limit)]",
            ]
        body.append("        return {'rows': rows, 'count': len(rows)}")
        calls.append(f"    r{k} = {fn}({f'r{k - 1}' if previous else ''})")
        previous = fn
    if bash:
        body += [
            "",
            "    notify = BashOperator(",
            '        task_id="notify",',
            f"        bash_command=\"echo '{entity} done for {{{{ ds }}}}'\",",
            *(["        trigger_rule=TriggerRule.ALL_DONE,"] if enum else []),
            "    )",
        ]
    body += ["", *calls]
    if bash:
        body.append(f"    r{n_tasks - 1} >> notify")
    body += ["", "", f"{name}()" if rng.random() < 0.6 else f"{name}_dag = {name}()"]
    return _pad(rng, head, body, target, entity, False)


def _helper_module(rng: random.Random, index: int, target: int) -> list[str]:
    entity = rng.choice(ENTITIES)
    lines = _docstring(rng, "", f"Shared helpers for {entity} jobs.", rng.randint(1, 3))
    lines += ["", "from __future__ import annotations", "", "import json", "import logging", "import os"]
    lines += ["from dataclasses import dataclass, field", "from typing import Any, Iterable", ""]
    lines += ["log = logging.getLogger(__name__)", ""]
    if rng.random() < 0.3:  # mentions the word, but imports nothing from Airflow
        lines.append(
            f'SQL_FOLDER = os.path.join(os.environ.get("AIRFLOW_HOME", "/opt/airflow"), "sql", "{entity}")'
        )
    else:
        lines.append(f'SQL_FOLDER = os.path.join(os.path.dirname(__file__), "sql", "{entity}")')
    lines += ["", "", "@dataclass", f"class {entity.capitalize()}Record:"]
    lines += _docstring(rng, "    ", f"One {entity[:-1]} row.", rng.randint(0, 1))
    for column in rng.sample(
        ["id", "created_at", "amount", "status", "region", "channel", "user_id", "score"], 5
    ):
        lines.append(f"    {column}: {rng.choice(['int', 'str', 'float', 'str | None'])}")
    lines.append("    extra: dict[str, Any] = field(default_factory=dict)")
    number = 0
    while len(lines) < target:
        number += 1
        fn = f"{rng.choice(VERBS)}_{entity}_{number}"
        lines += [
            "",
            "",
            f"def {fn}(records: Iterable[dict[str, Any]], *, strict: bool = False) -> list[dict[str, Any]]:",
        ]
        lines += _docstring(rng, "    ", f"{fn.replace('_', ' ').capitalize()}.", rng.randint(0, 2))
        lines += [
            "    out = []",
            "    for record in records:",
            f"        if strict and not record.get('{rng.choice(['id', 'status', 'amount'])}'):",
            "            raise ValueError(f'bad record: {record!r}')",
            f"        record['{rng.choice(['source', 'kind', 'batch'])}'] = {rng.randint(0, 99)}",
            "        out.append(record)",
            f"    log.debug('{fn}: %d records', len(out))",
            "    return out",
        ]
        if rng.random() < 0.3:
            lines += ["", "", f"def dump_{number}(path: str, rows: list[dict[str, Any]]) -> None:"]
            lines += [
                "    with open(path, 'w', encoding='utf-8') as handle:",
                "        json.dump(rows, handle)",
            ]
    return lines


def _pad(
    rng: random.Random, head: list[str], body: list[str], target: int, entity: str, legacy: bool
) -> list[str]:
    """Insert filler sections between the imports and the DAG until the file reaches its target size."""
    extra: list[str] = []
    number = 0
    while len(head) + len(body) + len(extra) < target:
        number += 1
        extra += ["", "", *_filler(rng, entity, legacy, number)]
    return head + extra + body


KINDS: dict[str, Callable[[random.Random, int, int], list[str]]] = {
    "airflow-1.10": _legacy_dag,
    "airflow-2-classic": _modern_classic,
    "airflow-2-taskflow": _taskflow,
    "no-airflow": _helper_module,
}


def file_kind(rng: random.Random) -> str:
    roll = rng.random()
    if roll < HELPER_SHARE:
        return "no-airflow"
    if roll < HELPER_SHARE + (1 - HELPER_SHARE) * LEGACY_SHARE:
        return "airflow-1.10"
    return rng.choice(["airflow-2-classic", "airflow-2-taskflow"])


def render_file(seed: int, index: int) -> tuple[str, str, str]:
    """(relative path, kind, text) of file `index`."""
    rng = random.Random(f"{seed}:{index}")
    kind = file_kind(rng)
    target = int(rng.triangular(MIN_LINES, MAX_LINES, MODE_LINES))
    lines = KINDS[kind](rng, index, target)
    team = TEAMS[index % len(TEAMS)]
    if kind == "no-airflow":
        relative = f"dags/{team}/common/{rng.choice(ENTITIES)}_utils_{index:05d}.py"
    else:
        sub = rng.choice(["", "", "daily/", "hourly/", "adhoc/"])
        relative = f"dags/{team}/{sub}{rng.choice(ENTITIES)}_{rng.choice(VERBS)}_{index:05d}.py"
    return relative, kind, "\n".join(lines) + "\n"


def generate(folder: Path, files: int, seed: int = DEFAULT_SEED) -> CorpusStats:
    """Write `files` Python files (plus a README per team) under `folder`, which must be empty or absent
    or a corpus made by this function earlier (it is then replaced)."""
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).exists():
            raise ValueError(f"{folder} is not empty and is not a benchmark corpus; refusing to overwrite it")
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text(f"seed={seed} files={files}\n", encoding="utf-8")
    stats = CorpusStats()
    made: set[Path] = set()
    for index in range(files):
        relative, kind, text = render_file(seed, index)
        path = folder / relative
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_text(text, encoding="utf-8")
        stats.files += 1
        stats.lines += text.count("\n")
        stats.bytes += len(text.encode("utf-8"))
        stats.kinds[kind] += 1
    for team in TEAMS[: min(len(TEAMS), files)]:
        readme = folder / "dags" / team / "README.md"
        readme.parent.mkdir(parents=True, exist_ok=True)
        readme.write_text(f"# {team}\n\nDAGs owned by the {team} team.\n", encoding="utf-8")
        stats.other_files += 1
    return stats
