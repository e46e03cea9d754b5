"""Task code that Airflow 3 no longer lets run: direct metadata-database access, and Variable.get at the
top level of a DAG file.

Airflow 3 workers talk to the Task Execution API, not the database: sessions, @provide_session and ORM
queries of DagRun/TaskInstance/XCom fail there. airshift reports each use with its replacement. A
Variable.get at import time runs on every parse (and has no database either on 3.x's DAG processor); when
its value only feeds a templated argument, it becomes `{{ var.value.KEY }}`, read when the task runs.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from airshift.upgrade.context import FileContext
from airshift.upgrade.dag_calls import keyword
from airshift.upgrade.model import Category, Edit, Finding, FixSafety, RuleMeta
from airshift.upgrade.template_fields import templated_for
from airshift.upgrade.walk import walk_instances

DB_ACCESS = RuleMeta(
    code="AS901",
    name="metadata-db-access",
    title="Direct metadata-database access in DAG or task code",
    why="Airflow 3.0 workers run tasks through the Task Execution API and have no database connection; "
    "use the Task SDK (context, XCom, Variable) or the REST API /api/v2 through the Airflow Python client.",
    category=Category.REQUIRED,
    fix=FixSafety.NONE,
    removed_in="3.0",
    acts_from="3.0",
)
TOP_LEVEL_VARIABLE = RuleMeta(
    code="AS902",
    name="top-level-variable-get",
    title="Variable.get at the top level of a DAG file",
    why="Top-level code runs on every DAG parse; Airflow 3's DAG processor reads Variables through the API. "
    "Read them in a template ({{ var.value.x }}) or inside the task.",
    category=Category.SUGGESTED,
    fix=FixSafety.SAFE,
)

SESSION_HELPERS = {
    "airflow.settings.Session": "settings.Session()",
    "airflow.utils.session.provide_session": "@provide_session",
    "airflow.utils.db.provide_session": "@provide_session",
    "airflow.utils.session.create_session": "create_session()",
    "airflow.utils.db.create_session": "create_session()",
    "airflow.utils.session.NEW_SESSION": "NEW_SESSION",
}
# Every name a session helper's binding can have: the helper itself or a module on its dotted path.
_HELPER_PATHS = frozenset(
    ".".join(parts[:end])
    for parts in (h.split(".") for h in SESSION_HELPERS)
    for end in range(1, len(parts) + 1)
)
ORM_MODELS = (
    "DagRun",
    "TaskInstance",
    "XCom",
    "DagModel",
    "DagBag",
    "Log",
    "SlaMiss",
    "TaskFail",
    "DagTag",
    "Pool",
    "Connection",
    "Variable",
)
ORM_READS = {"find", "get_one", "get_many", "get_latest_runs", "get_task_instances", "find_duplicate"}
ADVICE = (
    "use the task context (context['ti'], ti.xcom_pull, dag_run) or the Airflow REST API /api/v2 via the "
    "apache-airflow-client package"
)


class TaskRuntimeAccess:
    metas: tuple[RuleMeta, ...] = (DB_ACCESS, TOP_LEVEL_VARIABLE)

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if not ctx.imports.imports_airflow():
            return
        yield from self._db_access(ctx)
        yield from self._top_level_variables(ctx)

    def _db_access(self, ctx: FileContext) -> Iterator[Finding]:
        reported: set[int] = set()
        # Local names bound to a session helper or to a module on the way to one (`from airflow import
        # settings`, then settings.Session).
        roots = {b.local for b in ctx.imports.all_bindings if b.qualified in _HELPER_PATHS}
        candidates: list[ast.expr] = (
            [n for n in ctx.nodes.attributes if _root_name(n) in roots] if roots else []
        )
        candidates += [n for name in roots for n in ctx.nodes.names.get(name, [])]
        for node in candidates:
            qualified = ctx.imports.qualified(node)
            what = SESSION_HELPERS.get(qualified or "")
            if what is None or id(node) in reported:
                continue
            reported.add(id(node))
            yield ctx.finding(
                DB_ACCESS,
                node,
                f"{what} opens a metadata-database session, which Airflow 3 tasks cannot do: {ADVICE}",
            )
        for call in ctx.nodes.calls:
            func = call.func
            if not isinstance(func, ast.Attribute):
                continue
            if func.attr == "query" and call.args:
                models = [ctx.imports.qualified(a) or "" for a in call.args]
                hit = [
                    m.rpartition(".")[2]
                    for m in models
                    if m.startswith("airflow.") and m.endswith(ORM_MODELS)
                ]
                if hit:
                    yield ctx.finding(
                        DB_ACCESS,
                        call,
                        f"ORM query of {', '.join(hit)} reads the metadata database directly: {ADVICE}",
                    )
            elif func.attr in ORM_READS:
                owner = ctx.imports.qualified(func.value) or ""
                if owner.startswith("airflow.") and owner.rpartition(".")[2] in (
                    "DagRun",
                    "TaskInstance",
                    "XCom",
                ):
                    yield ctx.finding(
                        DB_ACCESS,
                        call,
                        f"{owner.rpartition('.')[2]}.{func.attr}() reads the metadata "
                        f"database directly: {ADVICE}",
                    )

    def _top_level_variables(self, ctx: FileContext) -> Iterator[Finding]:
        if "Variable" not in ctx.text:
            return
        gets = [node for node in ctx.nodes.calls if _is_variable_get(ctx, node)]
        if not gets:
            return  # the spans below are only needed to place a Variable.get
        bodies = [(ctx.start(d), ctx.end(d)) for d in (*ctx.nodes.functions, *ctx.nodes.classes)]
        statements = {(ctx.start(s), ctx.end(s)): s for s in ctx.tree.body}
        for node in gets:
            offset = ctx.start(node)
            if any(start <= offset < end for start, end in bodies) or _in_lambda(ctx, offset):
                continue  # runs when the task runs, not at parse time
            statement = next(s for (start, end), s in statements.items() if start <= offset < end)
            fixed = self._as_template(ctx, statement, node)
            yield fixed or ctx.finding(
                TOP_LEVEL_VARIABLE,
                node,
                "Variable.get runs at every parse of this file; read it in a template ({{ var.value.KEY }}) or "
                "inside the task",
            )

    def _as_template(self, ctx: FileContext, statement: ast.stmt, call: ast.Call) -> Finding | None:
        """`X = Variable.get("k")` whose every use is a whole templated argument becomes `{{ var.value.k }}`."""
        if not (
            isinstance(statement, ast.Assign)
            and statement.value is call
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
        ):
            return None
        name = statement.targets[0].id
        key = call.args[0] if call.args else None
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value.isidentifier()):
            return None
        if len(call.args) > 1 or any(
            k.arg not in ("default_var", "default", "deserialize_json") for k in call.keywords
        ):
            return None
        json_mode = keyword(call, "deserialize_json")
        if json_mode is not None and not (
            isinstance(json_mode.value, ast.Constant) and json_mode.value.value in (True, False)
        ):
            return None
        kind = "json" if json_mode is not None and json_mode.value.value is True else "value"  # type: ignore[attr-defined]
        default = keyword(call, "default_var") or keyword(call, "default")
        if default is not None and not isinstance(default.value, ast.Constant):
            return None
        uses = [n for n in ctx.nodes.names.get(name, []) if isinstance(n.ctx, ast.Load)]
        if not uses or name in _assigned_elsewhere(ctx, statement, name):
            return None
        templated_uses: list[ast.Name] = []
        for call_node in ctx.nodes.calls:
            templated = templated_for(ctx, call_node)
            for item in call_node.keywords:
                if (
                    isinstance(item.value, ast.Name)
                    and item.value.id == name
                    and templated
                    and item.arg in templated.fields
                ):
                    templated_uses.append(item.value)
        if len(templated_uses) != len(uses):
            return None
        if default is not None:
            template = f"{{{{ var.{kind}.get('{key.value}', {default.value.value!r}) }}}}"  # type: ignore[attr-defined]
        else:
            template = f"{{{{ var.{kind}.{key.value} }}}}"
        literal = repr(template)
        edits = [ctx.replace(use, literal) for use in uses]
        whole = ctx.owns_lines(ctx.start(statement), ctx.end(statement))
        if whole is None:
            return None
        edits.append(Edit(whole[0], whole[1], ""))
        return ctx.finding(
            TOP_LEVEL_VARIABLE,
            call,
            f"Variable.get at parse time only fed templated arguments; "
            f"they read {template} when the task runs",
            edits=edits,
        )


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _in_lambda(ctx: FileContext, offset: int) -> bool:
    if "lambda" not in ctx.text:
        return False
    return any(ctx.start(n) <= offset < ctx.end(n) for n in walk_instances(ctx.tree, ast.Lambda))


def _is_variable_get(ctx: FileContext, call: ast.Call) -> bool:
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "get"):
        return False
    owner = ctx.imports.qualified(func.value) or ""
    return owner.startswith("airflow.") and owner.endswith("Variable")


def _assigned_elsewhere(ctx: FileContext, statement: ast.stmt, name: str) -> set[str]:
    for node in ctx.nodes.names.get(name, []):
        if isinstance(node.ctx, ast.Store) and not (
            ctx.start(statement) <= ctx.start(node) < ctx.end(statement)
        ):
            return {name}
    return set()
