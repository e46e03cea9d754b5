"""Snapshot every DAG of a folder, as the Airflow installed next to this interpreter sees it.

This file runs *inside* an Airflow runtime, not inside airshift: it must stay standard-library only and
valid on Python 3.6-3.13 with Airflow 1.10-3.x (no f-strings, no walrus, no annotations, no dataclasses).

Usage: python snapshot_probe.py REQUEST_JSON

The request names the DAG folder, the output file, the files to load (empty: discover them the way the
installed Airflow does), the fixed logical date templates are rendered for, and whether to render.
All files are loaded into one DagBag in this one process. Results go to the output file as JSON lines,
never to stdout: DAG files may print, and Airflow 1.10 logs to stdout. Lines:

  {"kind": "start", ...}              versions and the list of files this run will load
  {"kind": "file_start", "file": F}   written (and flushed) before F is imported
  {"kind": "file", "file": F, ...}    F's DAGs, import error, captured stdout
  {"kind": "end"}

A file that kills the interpreter or hangs past the watchdog leaves a "file_start" without its "file"
line; the caller reports it and starts this probe again for the files after it.
"""

import datetime
import inspect
import io
import json
import os
import re
import sys
import time
import traceback
import warnings

_OUT = None
_CALLBACK_NAMES = (
    "on_success_callback",
    "on_failure_callback",
    "on_retry_callback",
    "on_execute_callback",
    "sla_miss_callback",
    "on_skipped_callback",
)
# 1.10 presets, spelled as the cron expressions 2.x/3.x timetables hold for them.
_PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_MAX_TEXT = 20000
# Markers for values whose text is release-specific (verify/diff.py reads the same strings).
NOT_COMPARABLE = "not comparable across releases"
OPAQUE = "<opaque "


def _write(document):
    # Flushed to the OS at once: if the interpreter dies next, the caller still reads this line.
    _OUT.write(json.dumps(document, sort_keys=True, default=str) + "\n")
    _OUT.flush()


def _airflow_major():
    import airflow

    return int(str(airflow.__version__).split(".")[0])


# ----------------------------------------------------------------------------------------------------
# JSON-safe values


def _iso(value):
    """UTC, spelled one way whatever the datetime class (pendulum 1 keeps tzinfo through replace())."""
    if value is None:
        return None
    try:
        aware = value.tzinfo is not None and value.utcoffset() is not None
        moment = value.astimezone(datetime.timezone.utc) if aware else value
        text = "%04d-%02d-%02dT%02d:%02d:%02d" % (
            moment.year,
            moment.month,
            moment.day,
            moment.hour,
            moment.minute,
            moment.second,
        )
        if moment.microsecond:
            text += ".%06d" % moment.microsecond
        return text + ("Z" if aware else "")
    except Exception:
        return str(value)


def _seconds(value):
    if value is None:
        return None
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, (int, float)):
        return float(value)
    return str(value)


def _callable_name(value):
    name = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
    if name is None:
        name = type(value).__name__
    return "<callable %s>" % name


def _plain(value, depth=0):
    """A JSON-safe, deterministic picture of a value (no memory addresses)."""
    if depth > 8:
        return "<nested too deep>"
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return value if len(value) <= _MAX_TEXT else value[:_MAX_TEXT] + "...<truncated>"
    if isinstance(value, bytes):
        return "<bytes %d>" % len(value)
    if isinstance(value, datetime.datetime):
        return _iso(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return {"timedelta_seconds": value.total_seconds()}
    if isinstance(value, dict):
        return dict((str(k), _plain(v, depth + 1)) for k, v in sorted(value.items(), key=lambda i: str(i[0])))
    if isinstance(value, (list, tuple)):
        return [_plain(v, depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_plain(v, depth + 1) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if inspect.isclass(value):
        return "<class %s.%s>" % (value.__module__, value.__name__)
    if inspect.isroutine(value) or type(value).__name__ == "partial":
        return _callable_name(value)
    if hasattr(value, "dump") and callable(value.dump) and type(value).__name__ == "ParamsDict":
        return _plain(value.dump(), depth + 1)
    if type(value).__name__ == "Param" and hasattr(value, "value"):
        return _plain(getattr(value, "value", None), depth + 1)
    to_dict = getattr(value, "to_dict", None)  # Kubernetes models and similar: compare their fields
    if callable(to_dict) and not inspect.isclass(value):
        try:
            fields = to_dict()
        except Exception:
            fields = None
        if isinstance(fields, dict):
            return _plain(fields, depth + 1)
    text = str(value)
    if " at 0x" in text:
        return "<%s>" % type(value).__name__
    # Known only by its text, which may change with the release: the diff calls two different such
    # texts not comparable rather than a mismatch.
    return "%s%s %s>" % (OPAQUE, type(value).__name__, text[:500])


# ----------------------------------------------------------------------------------------------------
# Schedules


def _tz_name(tz):
    if tz is None:
        return None
    for attribute in ("name", "key", "zone"):
        value = getattr(tz, attribute, None)
        if isinstance(value, str):
            return "UTC" if value in ("UTC", "Etc/UTC", "+00:00") else value
    return str(tz)


def _schedule_110(dag):
    interval = dag.schedule_interval
    tz = _tz_name(getattr(dag, "timezone", None))
    if interval is None:
        return {"kind": "none"}
    if isinstance(interval, str):
        if interval == "@once":
            return {"kind": "once"}
        expression = _PRESETS.get(interval, interval)
        return {"kind": "cron", "expression": expression, "timezone": tz, "data_intervals": True}
    if isinstance(interval, datetime.timedelta):
        return {"kind": "delta", "seconds": interval.total_seconds()}
    return {"kind": "other", "value": _plain(interval)}


def _core_timetable(dag):
    """The scheduler's timetable: on 3.x the DAG holds an SDK timetable that cannot plan runs itself."""
    timetable = getattr(dag, "timetable", None)
    if timetable is None or hasattr(timetable, "next_dagrun_info"):
        return timetable
    try:
        from airflow.serialization.encoders import coerce_to_core_timetable
    except ImportError:
        return timetable
    return coerce_to_core_timetable(timetable)


def _asset_uris(timetable):
    """The URIs a data-aware schedule waits for (2.x datasets and 3.x assets alike), sorted."""
    for attribute in ("asset_condition", "dataset_condition"):
        condition = getattr(timetable, attribute, None)
        if condition is None:
            continue
        for method in ("iter_assets", "iter_datasets"):
            iterate = getattr(condition, method, None)
            if iterate is None:
                continue
            try:
                return sorted(set(str(getattr(item, "uri", key)) for key, item in iterate()))
            except Exception:
                pass
    return None


def _schedule_timetable(dag):
    timetable = _core_timetable(dag)
    if timetable is None:
        return _schedule_110(dag)
    return _schedule_timetable_of(timetable)


def _schedule_timetable_of(timetable):
    if timetable is None:
        return None
    name = type(timetable).__name__
    tz = _tz_name(getattr(timetable, "_timezone", None))
    if name in ("CronDataIntervalTimetable", "CronTriggerTimetable"):
        expression = getattr(timetable, "_expression", None)
        result = {
            "kind": "cron",
            "expression": _PRESETS.get(expression, expression),
            "timezone": tz,
            "data_intervals": name == "CronDataIntervalTimetable",
        }
        interval = getattr(timetable, "_interval", None)
        if name == "CronTriggerTimetable" and interval:
            result["interval_seconds"] = _seconds(interval)
        return result
    if name in ("DeltaDataIntervalTimetable", "DeltaTriggerTimetable"):
        delta = getattr(timetable, "_delta", None)
        return {
            "kind": "delta",
            "seconds": _seconds(delta),
            "data_intervals": name == "DeltaDataIntervalTimetable",
        }
    if name == "NullTimetable":
        return {"kind": "none"}
    if name == "OnceTimetable":
        return {"kind": "once"}
    if name == "ContinuousTimetable":
        return {"kind": "continuous"}
    if name in (
        "DatasetTriggeredTimetable",
        "AssetTriggeredTimetable",
        "DatasetOrTimeSchedule",
        "AssetOrTimeSchedule",
    ):
        result = {"kind": "assets", "uris": _asset_uris(timetable)}
        if name.endswith("OrTimeSchedule"):
            result["time"] = _schedule_timetable_of(getattr(timetable, "timetable", None))
        return result
    return {
        "kind": "custom",
        "class": type(timetable).__module__ + "." + name,
        "summary": str(getattr(timetable, "summary", "")),
    }


# ----------------------------------------------------------------------------------------------------
# The run whose templates are rendered


def _pendulum_instance(value):
    import pendulum

    if hasattr(pendulum, "instance"):
        return pendulum.instance(value)
    return value


def _run_for(dag, logical_request):
    """(logical date, data interval start, data interval end) of the first run at or after the request.

    Every version gets the same question, "which run is scheduled first at or after this date", so a
    DAG whose schedule survived migration renders the same run on both sides."""
    major = _airflow_major()
    if major == 1:
        from airflow.utils import timezone

        request = timezone.make_aware(logical_request.replace(tzinfo=None), timezone.utc)
        logical = dag.normalize_schedule(request) if dag.schedule_interval is not None else request
        following = dag.following_schedule(logical) if dag.schedule_interval is not None else None
        return logical, logical, following or logical
    request = _pendulum_instance(logical_request)
    try:
        from airflow.timetables.base import TimeRestriction
    except ImportError:  # pragma: no cover - every supported 2.x/3.x has it
        TimeRestriction = None
    info = None
    if TimeRestriction is not None:
        try:
            info = _core_timetable(dag).next_dagrun_info(
                last_automated_data_interval=None,
                restriction=TimeRestriction(earliest=request, latest=None, catchup=True),
            )
        except Exception:
            info = None
    if info is None:
        return request, request, request
    interval = info.data_interval
    return info.logical_date, interval.start, interval.end


def _only_triggered(dag):
    """A DAG without a schedule only ever has triggered (manual) runs, so render it as one: 1.10/2.x give
    a triggered run different values (prev_ds and next_ds are its own ds)."""
    if dag is None:
        return False
    timetable = getattr(dag, "timetable", None)
    if timetable is not None:
        return type(timetable).__name__ == "NullTimetable"
    return getattr(dag, "schedule_interval", "") is None


_STORED_RUNS = set()


def _context_110(task, logical, run_id):
    from airflow.models import DagRun, TaskInstance

    ti = TaskInstance(task, logical)
    if (task.dag.dag_id, run_id) not in _STORED_RUNS:
        # 1.10 reads the run from the database while building the context (without one, `{{ dag_run }}`
        # is None): store the run the scheduler would have made (triggered for a DAG without a schedule)
        # in the probe's throwaway database, once per DAG.
        from airflow.settings import Session
        from airflow.utils import timezone

        session = Session()
        try:
            session.add(
                DagRun(
                    dag_id=task.dag.dag_id,
                    run_id=run_id,
                    execution_date=logical,
                    start_date=timezone.utcnow(),
                    state="running",
                    external_trigger=_only_triggered(task.dag),
                )
            )
            session.commit()
        finally:
            session.close()
        _STORED_RUNS.add((task.dag.dag_id, run_id))
    context = ti.get_template_context()
    context["run_id"] = run_id
    return context


def _skip_history_lookups():
    """2.x asks the DB for the previous run twice per task while building a context; this probe's DB
    never holds a run, so the answer is always None. Answering it here saves a query per call."""
    from airflow.models.dagrun import DagRun

    for name in ("get_previous_dagrun", "get_previous_scheduled_dagrun"):
        if hasattr(DagRun, name):
            setattr(DagRun, name, staticmethod(_no_previous_run))


def _no_previous_run(*args, **kwargs):
    return None


_SCHEDULE_MEMO = {}


def _memoize_schedule_math():
    """2.x computes next_ds/prev_ds from the schedule again for every task of a DAG, and every task of
    it renders for the same run: remember the answers while one DAG is snapshotted."""
    from airflow.models.dag import DAG

    for name in ("next_dagrun_info", "previous_schedule", "following_schedule"):
        original = getattr(DAG, name, None)
        if original is not None:
            setattr(DAG, name, _memoized(name, original))


def _memoized(name, original):
    def wrapper(self, *args, **kwargs):
        key = (name, id(self), repr(args), repr(sorted(kwargs.items())))
        if key not in _SCHEDULE_MEMO:
            _SCHEDULE_MEMO[key] = original(self, *args, **kwargs)
        return _SCHEDULE_MEMO[key]

    return wrapper


_DAG_RUNS = {}


def _context_2(task, logical, start, end, run_id):
    from airflow.models.taskinstance import TaskInstance

    key = (task.dag.dag_id, run_id)
    if key not in _DAG_RUNS:  # one run per DAG: every task of it renders for the same run
        _DAG_RUNS.clear()
        _DAG_RUNS[key] = _dag_run_2(task, logical, start, end, run_id)
    dag_run = _DAG_RUNS[key]
    ti = TaskInstance(task, run_id=run_id)
    ti.dag_run = dag_run
    context = ti.get_template_context()
    # Without a DB behind it the lazy dataset-events lookup fails; 3.x sees the run's (empty) events.
    context["triggering_dataset_events"] = {}
    return context


def _dag_run_2(task, logical, start, end, run_id):
    from airflow.models.dagrun import DagRun

    kwargs = {"dag_id": task.dag.dag_id, "run_id": run_id, "execution_date": logical}
    try:
        from airflow.timetables.base import DataInterval

        kwargs["data_interval"] = DataInterval(start, end)
    except ImportError:
        pass
    try:
        from airflow.utils.types import DagRunType

        kwargs["run_type"] = DagRunType.MANUAL if _only_triggered(task.dag) else DagRunType.SCHEDULED
    except ImportError:
        pass
    kwargs["external_trigger"] = _only_triggered(task.dag)
    dag_run = DagRun(**kwargs)
    dag_run.dag = task.dag
    return dag_run


def _context_3(task, logical, start, end, run_id):
    import uuid

    from airflow.api_fastapi.execution_api.datamodels.taskinstance import DagRun, TIRunContext
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance
    from airflow.utils import timezone

    dag_run = DagRun.model_validate(
        {
            "dag_id": task.dag.dag_id,
            "run_id": run_id,
            "logical_date": logical,
            "data_interval_start": start,
            "data_interval_end": end,
            "run_after": end or logical,
            "start_date": logical,
            "end_date": None,
            "run_type": "manual" if _only_triggered(task.dag) else "scheduled",
            "state": "running",
            "conf": {},
            "consumed_asset_events": [],
            "partition_key": None,
        }
    )
    context = TIRunContext(
        dag_run=dag_run, max_tries=task.retries or 0, variables=[], connections=[], xcom_keys_to_clear=[]
    )
    ti = RuntimeTaskInstance.model_construct(
        id=uuid.UUID(int=0),
        task_id=task.task_id,
        dag_id=task.dag.dag_id,
        run_id=run_id,
        try_number=1,
        dag_version_id=uuid.UUID(int=0),
        map_index=-1,
        task=task,
        _ti_context_from_server=context,
        max_tries=task.retries or 0,
        start_date=timezone.utcnow(),
    )
    # No supervisor to ask for XComs: an XCom not pushed yet is absent, as in 2.x with an empty DB.
    object.__setattr__(ti, "xcom_pull", _no_xcom)
    context = ti.get_template_context()
    # These ask the API server for the last successful run; with no history (as 2.x with an empty DB)
    # there is none.
    for key in _PREVIOUS_SUCCESS:
        if key in context:
            context[key] = None
    return context


_PREVIOUS_SUCCESS = (
    "prev_start_date_success",
    "prev_end_date_success",
    "prev_data_interval_start_success",
    "prev_data_interval_end_success",
)


def _no_xcom(*args, **kwargs):
    return kwargs.get("default")


_JINJA_ENVS = {}  # per DAG object, cleared for each DAG
# Environments of DAGs that Airflow configures identically, shared across DAGs, with compiled templates.
_SHARED_ENVS = {}


def _template_env(task):
    """The DAG's Jinja environment, built once per DAG (Airflow builds a new one on every call, and a task
    with a DAG uses its DAG's)."""
    dag = getattr(task, "dag", None)
    if dag is None:
        return task.get_template_env() if hasattr(task, "get_template_env") else None
    if id(dag) not in _JINJA_ENVS:
        key = _env_settings(dag)
        if key is None:
            _JINJA_ENVS[id(dag)] = dag.get_template_env()
        else:
            if key not in _SHARED_ENVS:
                _SHARED_ENVS[key] = _compiling_once(dag.get_template_env())
            _JINJA_ENVS[id(dag)] = _SHARED_ENVS[key]
    return _JINJA_ENVS[id(dag)]


def _env_settings(dag):
    """What Airflow (1.10 to 3.x) builds a DAG's Jinja environment from, as a key: the DAG's folder and
    template_searchpath (the loader), template_undefined and render_template_as_native_obj. None when
    the DAG adds macros, filters or environment options: its environment is its own."""
    if any(getattr(dag, name, None) for name in _OWN_ENV_SETTINGS):
        return None
    searchpath = getattr(dag, "template_searchpath", None) or ()
    if isinstance(searchpath, str):
        searchpath = (searchpath,)
    try:
        return (
            str(getattr(dag, "folder", "")),
            tuple(str(p) for p in searchpath),
            getattr(dag, "template_undefined", None),
            bool(getattr(dag, "render_template_as_native_obj", False)),
        )
    except TypeError:  # an unhashable setting: keep the DAG's own environment
        return None


_OWN_ENV_SETTINGS = ("user_defined_macros", "user_defined_filters", "jinja_environment_kwargs")


def _compiling_once(env):
    """Compile each distinct template string once. Airflow compiles on every render; a compiled Jinja
    template renders the same for any context, and compiling is most of what rendering costs."""
    compiled = {}
    from_string = env.from_string

    def from_string_once(source, globals=None, template_class=None):
        if globals is not None or template_class is not None or not isinstance(source, str):
            return from_string(source, globals, template_class)
        if source not in compiled:
            compiled[source] = from_string(source)
        return compiled[source]

    env.from_string = from_string_once
    return env


def _render_task(task, run, run_id):
    """{field: rendered value} and {field: error} for every templated field of `task`."""
    major = _airflow_major()
    logical, start, end = run
    rendered, errors = {}, {}
    try:
        if major == 1:
            context = _context_110(task, logical, run_id)
        elif major == 2:
            context = _context_2(task, logical, start, end, run_id)
        else:
            context = _context_3(task, logical, start, end, run_id)
        jinja_env = _template_env(task)
    except Exception as error:
        return {}, {"*": "%s: %s" % (type(error).__name__, _first_line(error))}
    object_texts = _object_texts(context)
    for field in getattr(task, "template_fields", ()) or ():
        try:
            content = getattr(task, field)
        except Exception as error:
            errors[field] = "%s: %s" % (type(error).__name__, _first_line(error))
            continue
        try:
            value = task.render_template(content, context, jinja_env)
            rendered[field] = _plain(_fold_reprs(value, context, object_texts))
        except Exception as error:
            errors[field] = "%s: %s" % (type(error).__name__, _first_line(error))
    return rendered, errors


# Context objects whose text (str/repr) changed between releases, pictured by the fields they stand for.
_OBJECT_FIELDS = {
    "dag_run": ("dag_id", "run_id", "logical_date"),
    "ti": ("dag_id", "task_id"),
    "task_instance": ("dag_id", "task_id"),
    "task": ("task_id",),
    "dag": ("dag_id",),
}
_PLAIN_TYPES = (
    str,
    bytes,
    int,
    float,
    bool,
    datetime.date,
    datetime.time,
    datetime.timedelta,
    dict,
    list,
    tuple,
)


def _field_of(obj, name):
    try:
        if name == "logical_date":
            value = getattr(obj, "logical_date", None)
            if value is None:
                value = getattr(obj, "execution_date", None)
            return _iso(value) if value is not None else None
        return getattr(obj, name, None)
    except Exception:
        return None


_SAME_OBJECT = {"task_instance": "ti"}  # two context keys for one object: one name in the picture


def _object_picture(key, obj):
    """The same text on every release for a context object printed whole: its identifying fields, or a
    marker saying it cannot be compared (the diff reports such a field, never as a mismatch)."""
    names = _OBJECT_FIELDS.get(key)
    key = _SAME_OBJECT.get(key, key)
    if names is None:
        return "<%s: %s>" % (key, NOT_COMPARABLE)
    return "<%s %s>" % (key, " ".join("%s=%s" % (name, _field_of(obj, name)) for name in names))


def _object_texts(context):
    """(text, picture) of every context object that may be printed whole, longest text first: one
    object's text can hold another's (a 3.x task instance's text holds its task's)."""
    found = []
    for key in sorted(context.keys()):
        obj = context[key]
        if obj is None or isinstance(obj, _PLAIN_TYPES) or inspect.ismodule(obj) or inspect.isroutine(obj):
            continue
        try:
            texts = set([str(obj), repr(obj)])
        except Exception:
            continue
        for text in texts:
            # Only objects printed as objects: a mapping or a value printed whole is compared as it is.
            if len(text) >= 6 and (key in _OBJECT_FIELDS or text.startswith("<")):
                found.append((text, key, obj))
    found.sort(key=lambda item: (-len(item[0]), item[1]))
    return found


def _fold_reprs(value, context, texts=None):
    """Replace the text of context objects (a run, a task instance) inside rendered strings by a picture
    of their fields: their repr changed between releases while what they stand for did not."""
    if texts is None:
        texts = _object_texts(context)
    if isinstance(value, (list, tuple)):
        return type(value)(_fold_reprs(v, context, texts) for v in value)
    if isinstance(value, dict):
        return dict((k, _fold_reprs(v, context, texts)) for k, v in value.items())
    if not isinstance(value, str):
        return value
    for text, key, obj in texts:
        if text in value:
            value = value.replace(text, _object_picture(key, obj))
    return value


def _first_line(error):
    text = str(error).strip().splitlines()
    return text[0][:500] if text else ""


# ----------------------------------------------------------------------------------------------------
# DAGs and tasks


def _class_path(obj):
    cls = type(obj)
    return "%s.%s" % (cls.__module__, cls.__name__)


def _weight_rule(value):
    """'downstream', 'upstream', 'absolute' or a custom strategy's class (2.9+ hold strategy objects)."""
    if value is None or isinstance(value, str):
        return value
    if hasattr(value, "value"):
        return str(value.value)
    name = type(value).__name__
    match = re.match(r"^_(Absolute|Downstream|Upstream)PriorityWeightStrategy$", name)
    if match:
        return match.group(1).lower()
    return type(value).__module__ + "." + name


def _task_record(task):
    record = {
        "task_id": str(task.task_id),
        "operator_class": _class_path(task),
        "operator_name": str(getattr(task, "task_type", type(task).__name__)),
        "upstream": sorted(str(t) for t in task.upstream_task_ids),
        "downstream": sorted(str(t) for t in task.downstream_task_ids),
        "trigger_rule": str(getattr(task.trigger_rule, "value", task.trigger_rule)),
        "retries": task.retries,
        "retry_delay_s": _seconds(getattr(task, "retry_delay", None)),
        "pool": str(task.pool) if task.pool is not None else None,
        "queue": str(task.queue) if task.queue is not None else None,
        "priority_weight": task.priority_weight,
        "weight_rule": _weight_rule(getattr(task, "weight_rule", None)),
        "depends_on_past": bool(getattr(task, "depends_on_past", False)),
        "execution_timeout_s": _seconds(getattr(task, "execution_timeout", None)),
        "template_fields": sorted(str(f) for f in (getattr(task, "template_fields", ()) or ())),
        "callbacks": sorted(n for n in _CALLBACK_NAMES if getattr(task, n, None)),
    }
    group = getattr(task, "task_group", None)
    if group is not None and getattr(group, "group_id", None):
        record["task_group"] = str(group.group_id)
    return record


def _dag_record(dag, folder):
    fileloc = str(getattr(dag, "fileloc", "") or "")
    try:
        relative = os.path.relpath(fileloc, folder) if fileloc else ""
    except ValueError:
        relative = fileloc
    schedule = _schedule_timetable(dag) if _airflow_major() >= 2 else _schedule_110(dag)
    max_active_tasks = getattr(dag, "max_active_tasks", None)
    if max_active_tasks is None:
        max_active_tasks = getattr(dag, "concurrency", None)
    params = getattr(dag, "params", None)
    return {
        "dag_id": str(dag.dag_id),
        "file": relative.replace(os.sep, "/"),
        "schedule": schedule,
        "start_date": _iso(getattr(dag, "start_date", None)),
        "end_date": _iso(getattr(dag, "end_date", None)),
        "catchup": bool(getattr(dag, "catchup", False)),
        "max_active_runs": getattr(dag, "max_active_runs", None),
        "max_active_tasks": max_active_tasks,
        "tags": sorted(str(t) for t in (getattr(dag, "tags", None) or [])),
        "params": _plain(params) if params else {},
        "default_args": _plain(getattr(dag, "default_args", None) or {}),
        "callbacks": sorted(n for n in _CALLBACK_NAMES if getattr(dag, n, None)),
        "is_subdag": bool(getattr(dag, "is_subdag", False) or getattr(dag, "parent_dag", None) is not None),
        "tasks": {},
        "render_run": None,
    }


def _snapshot_dag(dag, folder, logical_request, render):
    _SCHEDULE_MEMO.clear()  # keyed by object id: valid for one DAG only
    _JINJA_ENVS.clear()
    record = _dag_record(dag, folder)
    tasks = {}
    for task in sorted(dag.tasks, key=lambda t: t.task_id):
        tasks[str(task.task_id)] = _task_record(task)
    run = None
    if render:
        try:
            run = _run_for(dag, logical_request)
        except Exception as error:
            record["render_error"] = "%s: %s" % (type(error).__name__, _first_line(error))
        if run is not None:
            run_id = "scheduled__" + _iso(run[0])
            record["render_run"] = {
                "logical_date": _iso(run[0]),
                "data_interval_start": _iso(run[1]),
                "data_interval_end": _iso(run[2]),
                "run_id": run_id,
            }
            for task in dag.tasks:
                rendered, errors = _render_task(task, run, run_id)
                tasks[str(task.task_id)]["rendered"] = rendered
                tasks[str(task.task_id)]["render_errors"] = errors
    record["tasks"] = tasks
    return record


# ----------------------------------------------------------------------------------------------------
# Files


def _import_dagbag_class():
    try:
        from airflow.dag_processing.dagbag import DagBag  # Airflow >= 3.1

        return DagBag
    except ImportError:
        from airflow.models.dagbag import DagBag  # Airflow 1.10, 2.x, 3.0

        return DagBag


def _discover(bag, folder):
    """The DAG files of `folder` in the order the installed Airflow lists them."""
    try:
        from airflow.dag_processing.importers import get_importer_registry  # Airflow >= 3.2

        return list(get_importer_registry().list_dag_files(folder, safe_mode=True))
    except ImportError:
        pass
    try:
        from airflow.utils.file import list_py_file_paths  # 2.x, 3.0/3.1
    except ImportError:
        from airflow.utils.dag_processing import list_py_file_paths  # 1.10
    kwargs = {}
    parameters = inspect.signature(list_py_file_paths).parameters
    if "include_examples" in parameters:
        kwargs["include_examples"] = False
    return [str(p) for p in list_py_file_paths(folder, safe_mode=True, **kwargs)]


def _error_location(text, path):
    """(line, message) of an import error traceback: the deepest frame inside the DAG file itself."""
    line = None
    for match in re.finditer(r'File "([^"]+)", line (\d+)', text):
        if os.path.abspath(match.group(1)) == os.path.abspath(path):
            line = int(match.group(2))
    lines = [item.rstrip() for item in text.strip().splitlines() if item.strip()]
    message = ""
    # The exception line ("TypeError: ...") and what it continues onto, not its last physical line.
    for index in range(len(lines) - 1, -1, -1):
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning)\b", lines[index]):
            message = " ".join(item.strip() for item in lines[index:])
            break
    if not message:
        for item in reversed(lines):
            if not item.strip().startswith(("(Background on this error", "[SQL:", "[parameters:", "^")):
                message = item.strip()
                break
    message = re.sub(r" at 0x[0-9a-f]+", "", message)
    return line, message[:1000]


def _errors_for(bag, path, seen):
    found = []
    for key, text in list(bag.import_errors.items()):
        name = key[-1] if isinstance(key, (tuple, list)) else key
        name = str(name)
        if not os.path.isabs(name):
            name = os.path.join(
                bag.dag_folder if isinstance(bag.dag_folder, str) else str(bag.dag_folder), name
            )
        if os.path.abspath(name) != os.path.abspath(path) or (str(key) in seen):
            continue
        seen.add(str(key))
        line, message = _error_location(str(text), path)
        found.append({"line": line, "message": message, "traceback": str(text)[-4000:]})
    return found


class _DagFileOutput(object):
    """sys.stdout while a DAG file loads: keeps what code from the DAG folder writes, passes the rest.

    Airflow 3 logs through whatever sys.stdout is at the time, and those lines are not the DAG's."""

    def __init__(self, real, folder):
        self._real = real
        self._prefix = os.path.join(folder, "")
        self._kept = io.StringIO()

    def write(self, text):
        frame = sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename.startswith(self._prefix):
                return self._kept.write(text)
            frame = frame.f_back
        return self._real.write(text)

    def flush(self):
        self._real.flush()

    def getvalue(self):
        return self._kept.getvalue()

    def __getattr__(self, name):
        return getattr(self._real, name)


def _process(bag, path, folder, logical_request, render, seen_errors):
    started = time.time()
    captured = _DagFileOutput(sys.stdout, folder)
    real_stdout = sys.stdout
    sys.stdout = captured
    dags = []
    errors = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = bag.process_file(path, only_if_updated=False, safe_mode=True) or []
    except BaseException as error:  # SystemExit / KeyboardInterrupt raised by the DAG file itself
        found = []
        errors.append(
            {
                "line": None,
                "message": "%s: %s" % (type(error).__name__, _first_line(error)),
                "traceback": traceback.format_exc()[-4000:],
            }
        )
    finally:
        sys.stdout = real_stdout
    errors.extend(_errors_for(bag, path, seen_errors))
    snapshots = []
    for dag in sorted(found, key=lambda d: d.dag_id):
        sys.stdout = captured
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                snapshots.append(_snapshot_dag(dag, folder, logical_request, render))
        except Exception as error:
            errors.append(
                {
                    "line": None,
                    "message": "snapshot of DAG %s failed: %s: %s"
                    % (dag.dag_id, type(error).__name__, _first_line(error)),
                    "traceback": traceback.format_exc()[-4000:],
                }
            )
        finally:
            sys.stdout = real_stdout
        dags.append(dag.dag_id)
    printed = captured.getvalue()
    return {
        "kind": "file",
        "file": path,
        "dags": snapshots,
        "import_errors": errors,
        "stdout": printed[:2000],
        "stdout_chars": len(printed),
        "seconds": round(time.time() - started, 3),
    }


def main(argv):
    global _OUT
    if len(argv) != 2:
        sys.stderr.write("usage: snapshot_probe.py REQUEST_JSON\n")
        return 2
    with open(argv[1]) as handle:
        request = json.load(handle)
    folder = os.path.abspath(request["folder"])
    _OUT = open(request["output"], "a")
    # A deployed Airflow puts the DAG folder on sys.path, so DAG files import helpers beside them.
    if folder not in sys.path:
        sys.path.append(folder)
    started = time.time()
    try:
        import airflow

        dagbag_class = _import_dagbag_class()
        try:
            parameters = inspect.signature(dagbag_class.__init__).parameters
        except (TypeError, ValueError):
            parameters = {}
        kwargs = {"dag_folder": folder}
        if "include_examples" in parameters:
            kwargs["include_examples"] = False
        if "collect_dags" in parameters:
            kwargs["collect_dags"] = False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bag = dagbag_class(**kwargs)
        files = request.get("files") or _discover(bag, folder)
        if request.get("render", True) and _airflow_major() == 2:
            _skip_history_lookups()
            _memoize_schedule_math()
    except Exception:
        _write({"kind": "fatal", "traceback": traceback.format_exc()})
        return 1
    logical_request = datetime.datetime.strptime(request["logical_date"], "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc
    )
    _write(
        {
            "kind": "start",
            "airflow_version": str(airflow.__version__),
            "python": "%d.%d.%d" % tuple(sys.version_info[:3]),
            "files": files,
            "import_airflow_s": round(time.time() - started, 3),
        }
    )
    seen_errors = set()
    for path in files:
        _write({"kind": "file_start", "file": path})
        _write(_process(bag, path, folder, logical_request, bool(request.get("render", True)), seen_errors))
    _write({"kind": "end", "total_s": round(time.time() - started, 3)})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
