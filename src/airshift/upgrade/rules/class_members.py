"""Members removed from or renamed on Airflow classes, found through instances airshift can resolve.

A Python attribute is only checked when airshift knows what the object is: a variable bound to a call of
an Airflow class (`dr = dag.create_dagrun(...)` is not; `ds = Dataset(...)` is), a `with DAG(...) as dag`
target, a parameter annotated with an Airflow class, a task-context value (`context["ti"]`,
`kwargs["dag_run"]`, `get_current_context()["ti"]`) or a local alias of one (`ti = context["ti"]`), and
the parameters Airflow injects by name into task callables (`ti`, `task_instance`, `dag_run`, `dag`).
What it cannot know (an object returned by a user function, an attribute of `self`, a value passed
through a container) is not reported: see docs/rules.md.

Also here: AirflowPlugin class attributes Airflow 3 no longer reads, and signatures that changed
(`BaseOperatorLink.get_link(operator, *, ti_key)`, `HookLineageCollector.create_asset(*, ...)`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from airshift.upgrade.context import FileContext
from airshift.upgrade.dag_calls import call_sites
from airshift.upgrade.model import Category, Edit, Finding, FixSafety, RuleMeta

REMOVED_MEMBER = RuleMeta(
    code="AS331",
    name="removed-class-member",
    title="Method or attribute removed or renamed on an Airflow class (dataset -> asset, "
    "execution_date, external_trigger, create_dagrun, get_conn_uri...)",
    why="Airflow 3.0 renamed datasets to assets, removed execution_date and DagRun.external_trigger, "
    "DAG.create_dagrun from the authoring API and the secrets backends' get_conn_uri/get_connections "
    "(Airflow 3 release notes; ruff AIR301).",
    category=Category.REQUIRED,
    fix=FixSafety.SAFE,
    deprecated_from="2.2",
    removed_in="3.0",
    limits="Objects whose class airshift cannot see: values returned by your own functions, attributes of "
    "`self`, values passed through lists, dicts or other modules, and context parameters with other names. "
    "Those members are not reported; the DAG processor (or `airshift verify`) finds them.",
    acts_from="3.0",
)
PLUGIN_ATTRIBUTE = RuleMeta(
    code="AS330",
    name="plugin-removed-attribute",
    title="AirflowPlugin `operators` / `sensors` / `hooks` / `executors` no longer read",
    why="Airflow 3.0 removed these plugin attributes: import operators, sensors and hooks from their "
    "module; configure executors by module path (Airflow 3 release notes; ruff AIR301).",
    category=Category.BEHAVIOUR,
    fix=FixSafety.NONE,
    deprecated_from="2.0",
    removed_in="3.0",
    acts_from="3.0",
)
CHANGED_SIGNATURE = RuleMeta(
    code="AS332",
    name="changed-signature",
    title="`BaseOperatorLink.get_link(operator, dttm)` -> `get_link(operator, *, ti_key)`; "
    "`create_asset` takes keywords; `Asset(uri, extra)` -> `Asset(uri, extra=...)`",
    why="Airflow 3.0 calls get_link with ti_key only, made HookLineageCollector.create_asset keyword-only and "
    "put Asset's name before its uri (ruff AIR303).",
    category=Category.REQUIRED,
    fix=FixSafety.SAFE,
    deprecated_from="2.3",
    removed_in="3.0",
    acts_from="3.0",
)


@dataclass(frozen=True)
class Member:
    new: str | None  # the new attribute name; None: removed, see `advice`
    advice: str = ""
    expression: str | None = None  # replace `obj.attr` by this, `{obj}` standing for the object
    gone_from: tuple[int, int] | None = None  # the new name itself is gone from this target on


TASK_INSTANCE = "TaskInstance"
DAG_RUN = "DagRun"
DAG = "DAG"
ASSET = "Asset"
LINEAGE = "HookLineageCollector"
ASSET_MANAGER = "AssetManager"
SECRETS = "SecretsBackend"

MEMBERS: dict[str, dict[str, Member]] = {
    TASK_INSTANCE: {"execution_date": Member("logical_date")},
    DAG_RUN: {
        "execution_date": Member("logical_date"),
        "external_trigger": Member(None, expression='({obj}.run_type == "manual")'),
    },
    DAG: {
        "create_dagrun": Member(
            None,
            "DAG.create_dagrun is not part of the Airflow 3 authoring API: use dag.test() in tests, "
            "or trigger runs through the REST API or TriggerDagRunOperator",
        ),
    },
    # The task SDK's Asset had iter_assets in 3.0 and 3.1 (task-sdk 1.0/1.1 wheels), not from 3.2 on.
    ASSET: {
        "iter_datasets": Member(
            "iter_assets",
            "the task SDK's Asset has no iterator from Airflow 3.2: use the asset itself",
            gone_from=(3, 2),
        ),
        "iter_dataset_aliases": Member(
            "iter_asset_aliases",
            "the task SDK's AssetAlias has no iterator from Airflow 3.2",
            gone_from=(3, 2),
        ),
    },
    LINEAGE: {
        "create_dataset": Member("create_asset"),
        "add_input_dataset": Member("add_input_asset"),
        "add_output_dataset": Member("add_output_asset"),
        "collected_datasets": Member("collected_assets"),
    },
    ASSET_MANAGER: {
        "register_dataset_change": Member("register_asset_change"),
        "create_datasets": Member("create_assets"),
        "notify_dataset_created": Member("notify_asset_created"),
        "notify_dataset_changed": Member("notify_asset_changed"),
        "notify_dataset_alias_created": Member("notify_asset_alias_created"),
    },
    SECRETS: {
        "get_conn_uri": Member("get_conn_value"),
        "get_connections": Member(
            None, "use get_connection(conn_id), which returns one Connection (or None), not a list"
        ),
    },
}
# Class names (last component of an airflow.* qualified name) -> the member table they use.
CLASS_KINDS: dict[str, str] = {
    "TaskInstance": TASK_INSTANCE,
    "RuntimeTaskInstance": TASK_INSTANCE,
    "DagRun": DAG_RUN,
    "DAG": DAG,
    "Dataset": ASSET,
    "Asset": ASSET,
    "DatasetAlias": ASSET,
    "AssetAlias": ASSET,
    "HookLineageCollector": LINEAGE,
    "DatasetManager": ASSET_MANAGER,
    "AssetManager": ASSET_MANAGER,
}
CONTEXT_KINDS = {"ti": TASK_INSTANCE, "task_instance": TASK_INSTANCE, "dag_run": DAG_RUN, "dag": DAG}
LINEAGE_FACTORIES = {"get_hook_lineage_collector"}
PLUGIN_ATTRIBUTES = {"operators", "sensors", "hooks", "executors"}
CONTEXT_NAMES = {"context", "kwargs", "ctx", "kw", "params_context"}


def _kind_of_class(qualified: str | None) -> str | None:
    if not qualified or not qualified.startswith("airflow"):
        return None
    last = qualified.rpartition(".")[2]
    if last in CLASS_KINDS:
        return CLASS_KINDS[last]
    if ".secrets." in qualified and last.endswith("Backend"):
        return SECRETS
    return None


class ClassMembers:
    metas: tuple[RuleMeta, ...] = (PLUGIN_ATTRIBUTE, REMOVED_MEMBER, CHANGED_SIGNATURE)

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if not ctx.imports.imports_airflow():
            return
        if any(node.attr in ALL_MEMBERS for node in ctx.nodes.attributes):
            kinds, injected = _bound_kinds(ctx)
            yield from self._members(ctx, kinds, injected)
        yield from self._classes(ctx)
        yield from self._asset_extra(ctx)

    # -- members -----------------------------------------------------------------------------------
    def _members(self, ctx: FileContext, kinds: dict[str, str], injected: set[str]) -> Iterator[Finding]:
        for node in ctx.nodes.attributes:
            if node.attr not in ALL_MEMBERS:
                continue
            kind = _kind_of(ctx, node.value, kinds)
            if kind is None:
                continue
            if kind in (TASK_INSTANCE, DAG_RUN) and _context_reads_own(node.value, injected):
                continue  # context["ti"].execution_date and injected `ti` are AS701's (context-access)
            member = MEMBERS[kind].get(node.attr)
            if member is None:
                continue
            obj = ctx.segment(node.value)
            where = f"`{obj}.{node.attr}`"
            if member.new is not None and (member.gone_from is None or ctx.target < member.gone_from):
                start = ctx.end(node) - len(node.attr)
                edits = [Edit(start, ctx.end(node), member.new)]
                call = _call_of(ctx, node)
                if member.new == "create_asset" and call is not None:
                    edits += _keyword_edits(ctx, call, ("scheme", "uri", "asset_kwargs", "asset_extra"))
                yield ctx.finding(
                    REMOVED_MEMBER, node, f"{where} is `.{member.new}` on Airflow 3", edits=edits
                )  # fmt: skip
            elif member.expression is not None and isinstance(node.ctx, ast.Load):
                text = member.expression.format(obj=obj)
                yield ctx.finding(
                    REMOVED_MEMBER, node, f"{where} no longer exists on Airflow 3; it is `{text}`",
                    edits=[ctx.replace(node, text)]
                )  # fmt: skip
            else:
                yield ctx.finding(
                    REMOVED_MEMBER, node, f"{where} no longer exists on Airflow 3: {member.advice}"
                )  # fmt: skip

    # -- class bodies: plugins and operator links ---------------------------------------------------
    def _classes(self, ctx: FileContext) -> Iterator[Finding]:
        for cls in ctx.nodes.classes:
            bases = {(ctx.imports.qualified(base) or "").rpartition(".")[2] for base in cls.bases}
            if "AirflowPlugin" in bases:
                for statement in cls.body:
                    targets = statement.targets if isinstance(statement, ast.Assign) else []
                    for target in targets:
                        if isinstance(target, ast.Name) and target.id in PLUGIN_ATTRIBUTES:
                            yield ctx.finding(
                                PLUGIN_ATTRIBUTE,
                                target,
                                f"AirflowPlugin.{target.id} is not read by Airflow 3: import the classes from "
                                "their own module (executors: by module path in [core] executor)",
                            )
            if "BaseOperatorLink" in bases:
                yield from self._get_link(ctx, cls)

    def _get_link(self, ctx: FileContext, cls: ast.ClassDef) -> Iterator[Finding]:
        for function in cls.body:
            if not isinstance(function, ast.FunctionDef) or function.name != "get_link":
                continue
            args = function.args
            names = [a.arg for a in args.args]
            if len(names) != 3 or args.kwonlyargs or args.vararg or args.kwarg:
                continue  # already (self, operator, *, ti_key) or something airshift does not know
            old = args.args[2]
            used = any(isinstance(n, ast.Name) and n.id == old.arg for n in ast.walk(function))
            message = (
                f"get_link(self, operator, {old.arg}) is called as get_link(operator, *, ti_key) on Airflow 3"
            )
            if used:
                yield ctx.finding(
                    CHANGED_SIGNATURE,
                    old,
                    message + f"; the body uses `{old.arg}`: read the run from ti_key (ti_key.run_id)",
                )
                continue
            yield ctx.finding(
                CHANGED_SIGNATURE, old, message, edits=[ctx.replace(old, "*, ti_key")]
            )  # fmt: skip

    def _asset_extra(self, ctx: FileContext) -> Iterator[Finding]:
        """Asset(name, uri, *, extra): a 2.x Dataset(uri, {extra}) would pass the dict as the uri."""
        for site in call_sites(ctx).all:
            call, qualified = site.node, site.qualified or ""
            if not qualified.startswith("airflow") or site.last != "Dataset":
                continue  # 2.x's Dataset(uri, extra); a 3.x Asset(name, uri) is right as it is
            if len(call.args) != 2 or isinstance(call.args[1], ast.Starred):
                continue
            second = call.args[1]
            yield ctx.finding(
                CHANGED_SIGNATURE, second,
                "the second positional argument of Dataset/Asset is `uri` on Airflow 3, not `extra`",
                edits=[ctx.replace(second, f"extra={ctx.segment(second)}")]
            )  # fmt: skip


ALL_MEMBERS = frozenset(name for members in MEMBERS.values() for name in members)


def _context_reads_own(node: ast.expr, injected: set[str]) -> bool:
    return _context_key(node) is not None or (isinstance(node, ast.Name) and node.id in injected)


def _call_of(ctx: FileContext, attribute: ast.Attribute) -> ast.Call | None:
    for call in ctx.nodes.calls:
        if call.func is attribute:
            return call
    return None


def _keyword_edits(ctx: FileContext, call: ast.Call, names: tuple[str, ...]) -> list[Edit]:
    return [
        ctx.replace(arg, f"{name}={ctx.segment(arg)}")
        for arg, name in zip(call.args, names, strict=False)
        if not isinstance(arg, ast.Starred)
    ]


def _context_key(node: ast.expr) -> str | None:
    """`context["ti"]`, `kwargs.get("ti")`, `get_current_context()["ti"]` -> "ti"."""
    if isinstance(node, ast.Subscript):
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            base = node.value
            if (isinstance(base, ast.Name) and base.id in CONTEXT_NAMES) or (
                isinstance(base, ast.Call)
                and getattr(base.func, "id", getattr(base.func, "attr", "")) == "get_current_context"
            ):
                return key.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
        base = node.func.value
        if isinstance(base, ast.Name) and base.id in CONTEXT_NAMES and node.args:
            key = node.args[0]
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                return key.value
    return None


def _kind_of(ctx: FileContext, node: ast.expr, kinds: dict[str, str]) -> str | None:
    if isinstance(node, ast.Name):
        return kinds.get(node.id)
    key = _context_key(node)
    if key is not None:
        return CONTEXT_KINDS.get(key)
    if isinstance(node, ast.Call):
        qualified = ctx.imports.qualified(node.func)
        if (
            qualified
            and qualified.rpartition(".")[2] in LINEAGE_FACTORIES
            and qualified.startswith("airflow")
        ):
            return LINEAGE
        return _kind_of_class(qualified)
    if (
        isinstance(node, ast.Attribute)
        and node.attr == "dag_run"
        and _kind_of(ctx, node.value, kinds) == TASK_INSTANCE
    ):
        return DAG_RUN
    return None


def _bound_kinds(ctx: FileContext) -> tuple[dict[str, str], set[str]]:
    """Local names whose Airflow class airshift knows (a name bound to two different things is dropped),
    and the parameter names Airflow injects by name (`ti`, `dag_run`)."""
    kinds: dict[str, str] = {}
    injected: set[str] = set()
    conflicting: set[str] = set()

    def bind(name: str, kind: str | None) -> None:
        if kind is None or name in conflicting:
            if kind is None and name in kinds:
                conflicting.add(name)
                kinds.pop(name)
            return
        if kinds.get(name, kind) != kind:
            conflicting.add(name)
            kinds.pop(name)
            return
        kinds[name] = kind

    for function in ctx.nodes.functions:
        args = function.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            if arg.annotation is not None:
                bind(arg.arg, _kind_of_class(ctx.imports.qualified(arg.annotation)))
            elif arg.arg in CONTEXT_KINDS and arg.arg != "dag":
                bind(arg.arg, CONTEXT_KINDS[arg.arg])
                injected.add(arg.arg)
    for _ in range(2):  # aliases of aliases: `ti = context["ti"]; run = ti.dag_run`
        for assign in ctx.nodes.assigns:
            if not isinstance(assign, ast.Assign) or len(assign.targets) != 1:
                continue
            target = assign.targets[0]
            if isinstance(target, ast.Name):
                bind(target.id, _kind_of(ctx, assign.value, kinds))
    for node in ast.walk(ctx.tree):
        if isinstance(node, ast.With):
            for item in node.items:
                if isinstance(item.optional_vars, ast.Name) and isinstance(item.context_expr, ast.Call):
                    bind(item.optional_vars.id, _kind_of(ctx, item.context_expr, kinds))
    return kinds, injected
