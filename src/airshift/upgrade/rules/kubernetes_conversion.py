"""Opt-in: PythonOperator tasks and @task functions become `@task.kubernetes` pods.

Only with `fix --convert python-to-kubernetes --image IMAGE`. A self-contained function moves as it is:

    PythonOperator(task_id="load", python_callable=load, op_kwargs={"day": "{{ ds }}"}, retries=2)
 -> task.kubernetes(task_id="load", image="IMAGE", do_xcom_push=True, retries=2)(load)(day="{{ ds }}")

`do_xcom_push=True` keeps the return value in XCom as PythonOperator and @task did (the pod operator's
default is False). A function that cannot run in a pod keeps its task and gets a finding naming the cause
(upgrade/kubernetes.py has the checks and the facts behind them).
"""

from __future__ import annotations

import ast
import json
from collections import Counter
from collections.abc import Iterator

from airshift.upgrade.context import FileContext
from airshift.upgrade.dag_calls import call_sites
from airshift.upgrade.intended_changes import IntendedChanges, OperatorReplacement
from airshift.upgrade.kubernetes import (
    KubernetesConversion,
    Resources,
    needs_context,
    outside_names,
    unpicklable,
    writes_local_files,
)
from airshift.upgrade.model import Category, Edit, Finding, FixSafety, ImportSpec, Requirement, RuleMeta

CONVERT = RuleMeta(
    code="AS990",
    name="python-to-kubernetes",
    title="PythonOperator tasks and @task functions moved into Kubernetes pods (opt-in)",
    why="Asked for with --convert python-to-kubernetes: @task.kubernetes (cncf-kubernetes provider) runs the "
    "function's source in a pod of the given image; only self-contained functions can move.",
    category=Category.SUGGESTED,
    fix=FixSafety.UNSAFE,
)
PYTHON_OPERATORS = frozenset(
    {
        "airflow.operators.python_operator.PythonOperator",
        "airflow.operators.python.PythonOperator",
        "airflow.providers.standard.operators.python.PythonOperator",
    }
)
TASK_DECORATORS = frozenset({"airflow.decorators.task", "airflow.sdk.task", "airflow.decorators.python.task"})
_DROPPED = frozenset({"python_callable", "op_args", "op_kwargs", "provide_context", "templates_exts"})
_KUBERNETES_PROVIDER = "apache-airflow-providers-cncf-kubernetes"


class PythonToKubernetes:
    metas: tuple[RuleMeta, ...] = (CONVERT,)
    # @task.kubernetes keeps op_args/op_kwargs (templated on both sides), so verify still compares them.
    intended = IntendedChanges(
        operators={
            old: OperatorReplacement(
                "_KubernetesDecoratedOperator",
                "AS990: the task runs in a pod (--convert python-to-kubernetes)",
            )
            for old in ("PythonOperator", "_PythonDecoratedOperator")
        }
    )

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        conversion = ctx.settings.kubernetes
        if conversion is None or ("PythonOperator" not in ctx.text and "task" not in ctx.text):
            return
        if not ctx.imports.imports_airflow():
            return
        if "task" in ctx.nodes.assigned or _task_bound_elsewhere(ctx):
            return  # `task` names something else here: the rewrite would call the wrong thing
        defined = [f for f in ctx.nodes.functions if isinstance(f, ast.FunctionDef)]
        # What a bare name in python_callable= can mean: a module-level def, or a nested one whose name
        # is unique in the file (two nested defs of one name are ambiguous without scope analysis).
        counts = Counter(f.name for f in defined)
        functions = {f.name: f for f in defined if counts[f.name] == 1}
        functions.update({s.name: s for s in ctx.tree.body if isinstance(s, ast.FunctionDef)})
        for site in call_sites(ctx).all:
            if site.qualified in PYTHON_OPERATORS:
                yield from self._operator(ctx, site.node, functions, conversion)
        for function in defined:
            decorator = next((d for d in function.decorator_list if _is_task_decorator(ctx, d)), None)
            if decorator is not None:
                yield from self._decorated(ctx, function, decorator, conversion)

    # -- PythonOperator(...) ----------------------------------------------------------------------
    def _operator(
        self,
        ctx: FileContext,
        call: ast.Call,
        functions: dict[str, ast.FunctionDef],
        conversion: KubernetesConversion,
    ) -> Iterator[Finding]:
        keywords = {k.arg: k for k in call.keywords if k.arg}
        task_id = _literal(keywords.get("task_id"))
        label = f"task {task_id}" if task_id else "this PythonOperator"
        callable_node = keywords["python_callable"].value if "python_callable" in keywords else None
        if call.args or any(k.arg is None for k in call.keywords) or task_id is None:
            yield _finding(ctx, call, f"{label}: its arguments are not all literal keywords: not converted")
            return
        if not isinstance(callable_node, ast.Name) or callable_node.id not in functions:
            yield _finding(
                ctx, call, f"{label}: python_callable is not a function defined in this file: not converted"
            )
            return
        function = functions[callable_node.id]
        cause = _function_problem(ctx, function)
        provide = keywords.get("provide_context")
        if (
            cause is None
            and provide is not None
            and not (isinstance(provide.value, ast.Constant) and provide.value.value is False)
        ):
            cause = "provide_context=True passes the task context, which a pod does not get"
        if cause is None and "templates_dict" in keywords:
            cause = "templates_dict reaches the function through the task context, which a pod does not get"
        for name in ("op_args", "op_kwargs"):
            if cause is None and name in keywords:
                why = unpicklable(keywords[name].value, set(functions))
                if why is not None:
                    cause = f"{name} holds {why}, which cannot be pickled into the pod"
        if cause is not None:
            yield _finding(ctx, call, f"{label} ({function.name}) stays a Python task: {cause}")
            return
        arguments = _call_arguments(ctx, keywords)
        if arguments is None:
            yield _finding(ctx, call, f"{label}: op_args/op_kwargs are not a list and a dict: not converted")
            return
        kept = [ctx.segment(k) for k in call.keywords if k.arg not in _DROPPED]
        options = _decorator_options(kept, conversion, conversion.for_task(task_id))
        text = f"task.kubernetes({options})({function.name})({arguments})"
        start = ctx.start(call)
        yield self._converted(ctx, call, f"{label} ({function.name}) runs in a pod of {conversion.image}",
                              [Edit(start, start + len(ctx.segment(call)), text)], conversion, task_id)  # fmt: skip

    # -- @task def f(...) ---------------------------------------------------------------------------
    def _decorated(
        self,
        ctx: FileContext,
        function: ast.FunctionDef,
        decorator: ast.expr,
        conversion: KubernetesConversion,
    ) -> Iterator[Finding]:
        given = decorator.keywords if isinstance(decorator, ast.Call) else []
        task_id = _literal(next((k for k in given if k.arg == "task_id"), None)) or function.name
        label = f"task {task_id}"
        cause = _function_problem(ctx, function)
        if cause is None and len(function.decorator_list) > 1:
            cause = "other decorators wrap the function; the pod runs the bare source"
        if cause is None and (
            (isinstance(decorator, ast.Call) and decorator.args) or any(k.arg is None for k in given)
        ):
            cause = "the decorator's arguments are not all literal keywords"
        if cause is not None:
            yield _finding(ctx, function, f"{label} ({function.name}) stays a Python task: {cause}")
            return
        options = _decorator_options(
            [ctx.segment(k) for k in given], conversion, conversion.for_task(task_id)
        )
        start = ctx.start(decorator)
        edit = Edit(start, start + len(ctx.segment(decorator)), f"task.kubernetes({options})")
        yield self._converted(ctx, function, f"{label} ({function.name}) runs in a pod of {conversion.image}",
                              [edit], conversion, task_id)  # fmt: skip

    def _converted(
        self,
        ctx: FileContext,
        node: ast.AST,
        message: str,
        edits: list[Edit],
        conversion: KubernetesConversion,
        task_id: str,
    ) -> Finding:
        module = "airflow.sdk" if ctx.target >= (3, 0) else "airflow.decorators"
        # A `task` the file imports already is the same decorator collection (the import rule moves it).
        imports = [] if "task" in ctx.imports.bindings else [ImportSpec(module, "task")]
        if conversion.for_task(task_id) is not None:
            imports.append(ImportSpec("kubernetes.client", "models", "k8s"))
        requirement = ctx.table.requirement(
            "airflow.providers.cncf.kubernetes.decorators.kubernetes"
        ) or Requirement(_KUBERNETES_PROVIDER)
        finding = ctx.finding(
            CONVERT, node, message, edits=edits, imports=imports, requirements=[requirement]
        )
        finding.unsafe = True
        return finding


def _function_problem(ctx: FileContext, function: ast.FunctionDef) -> str | None:
    names = outside_names(function)
    if names:
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        return f"it uses names from outside the function ({shown}), which the pod does not have: import or define them inside"
    written = writes_local_files(function, ctx.imports.qualified)
    if written is not None:
        return f"it writes local files ({written}), which vanish with the pod"
    context = needs_context(function, ctx.imports.qualified)
    if context is not None:
        return f"it needs the Airflow context ({context}), which a pod does not get"
    return None


def _decorator_options(kept: list[str], conversion: KubernetesConversion, resources: Resources | None) -> str:
    options = [*kept, f"image={json.dumps(conversion.image)}"]
    if conversion.namespace:
        options.append(f"namespace={json.dumps(conversion.namespace)}")
    options.append("do_xcom_push=True")
    if resources is not None:
        parts = []
        if resources.requests:
            parts.append(f"requests={json.dumps(dict(resources.requests))}")
        if resources.limits:
            parts.append(f"limits={json.dumps(dict(resources.limits))}")
        options.append(f"container_resources=k8s.V1ResourceRequirements({', '.join(parts)})")
    return ", ".join(options)


def _call_arguments(ctx: FileContext, keywords: dict[str, ast.keyword]) -> str | None:
    """The call of the decorated function that passes op_args and op_kwargs as they were."""
    parts: list[str] = []
    if "op_args" in keywords:
        value = keywords["op_args"].value
        if isinstance(value, (ast.List, ast.Tuple)):
            parts += [ctx.segment(e) for e in value.elts]
        else:
            parts.append(f"*{ctx.segment(value)}")
    if "op_kwargs" in keywords:
        value = keywords["op_kwargs"].value
        if isinstance(value, ast.Dict) and all(
            isinstance(k, ast.Constant) and isinstance(k.value, str) and k.value.isidentifier()
            for k in value.keys
        ):
            parts += [f"{k.value}={ctx.segment(v)}" for k, v in zip(value.keys, value.values, strict=True)]  # type: ignore[union-attr]
        elif isinstance(value, ast.Dict) and any(k is None for k in value.keys):
            return None
        else:
            parts.append(f"**{ctx.segment(value)}")
    return ", ".join(parts)


def _literal(item: ast.keyword | None) -> str | None:
    if item is not None and isinstance(item.value, ast.Constant) and isinstance(item.value.value, str):
        return item.value.value
    return None


def _is_task_decorator(ctx: FileContext, decorator: ast.expr) -> bool:
    node = decorator.func if isinstance(decorator, ast.Call) else decorator
    qualified = ctx.imports.qualified(node)
    return qualified in TASK_DECORATORS or qualified in {f"{d}.python" for d in TASK_DECORATORS}


def _task_bound_elsewhere(ctx: FileContext) -> bool:
    binding = ctx.imports.bindings.get("task")
    return binding is not None and binding.qualified not in TASK_DECORATORS


def _finding(ctx: FileContext, node: ast.AST, message: str) -> Finding:
    return ctx.finding(CONVERT, node, message, category=Category.SUGGESTED)
