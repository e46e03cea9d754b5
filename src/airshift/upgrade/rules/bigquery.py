"""BigQueryOperator / BigQueryExecuteQueryOperator -> BigQueryInsertJobOperator with a query job config.

The google provider removed BigQueryExecuteQueryOperator in release 12.0.0. Its arguments map onto the
BigQuery job configuration exactly the way the old operator's hook built it (BigQueryHook.run_query):
allowLargeResults, flattenResults, writeDisposition and createDisposition only took effect with a
destination table, useLegacySql defaulted to True and priority to INTERACTIVE. Anything without an exact
equivalent (a templated or two-part destination table, api_resource_configs, a list of statements,
delegate_to) is reported and the call is left as it is.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from airshift.upgrade.context import FileContext, keyword_items
from airshift.upgrade.dag_calls import call_sites, default_args_keys
from airshift.upgrade.intended_changes import IntendedChanges, OperatorReplacement
from airshift.upgrade.model import Category, Finding, FixSafety, ImportSpec, RuleMeta

EXECUTE_QUERY = "airflow.providers.google.cloud.operators.bigquery.BigQueryExecuteQueryOperator"
INSERT_JOB_MODULE = "airflow.providers.google.cloud.operators.bigquery"
INSERT_JOB = "BigQueryInsertJobOperator"

BIGQUERY = RuleMeta(
    code="AS201",
    name="bigquery-execute-query",
    title="BigQueryOperator / BigQueryExecuteQueryOperator -> BigQueryInsertJobOperator",
    why="apache-airflow-providers-google 12.0.0 removed BigQueryExecuteQueryOperator (the 2.0 home of contrib's "
    "BigQueryOperator); BigQueryInsertJobOperator takes the BigQuery job configuration instead.",
    category=Category.REQUIRED,
    fix=FixSafety.SAFE,
    deprecated_from="2.0",
    removed_in="2.0",
)

# old argument -> key of configuration["query"]; None: see special handling below.
QUERY_KEYS = {
    "use_legacy_sql": "useLegacySql",
    "priority": "priority",
    "udf_config": "userDefinedFunctionResources",
    "maximum_billing_tier": "maximumBillingTier",
    "maximum_bytes_billed": "maximumBytesBilled",
    "query_params": "queryParameters",
    "time_partitioning": "timePartitioning",
    "encryption_configuration": "destinationEncryptionConfiguration",
}
DESTINATION_KEYS = {
    "allow_large_results": ("allowLargeResults", "False"),
    "flatten_results": ("flattenResults", "None"),
    "write_disposition": ("writeDisposition", '"WRITE_EMPTY"'),
    "create_disposition": ("createDisposition", '"CREATE_IF_NEEDED"'),
}
SAME_NAME = {"location", "impersonation_chain", "job_id", "gcp_conn_id"}
NOT_EXACT = {
    "api_resource_configs": "api_resource_configs was merged into the job configuration; merge it by hand",
    "delegate_to": "delegate_to was removed from the google provider; use impersonation_chain",
    "impersonation_scopes": "BigQueryInsertJobOperator has no impersonation_scopes",
}
MAPPED = {
    "sql",
    "bql",
    "destination_dataset_table",
    "labels",
    "cluster_fields",
    "schema_update_options",
    "bigquery_conn_id",
    *QUERY_KEYS,
    *DESTINATION_KEYS,
    *SAME_NAME,
    *NOT_EXACT,
}


class BigQueryExecuteQuery:
    metas: tuple[RuleMeta, ...] = (BIGQUERY,)
    owned_names = frozenset({EXECUTE_QUERY})  # renamed together with its arguments, here
    intended = IntendedChanges(
        operators={
            old: OperatorReplacement(
                INSERT_JOB,
                "AS201: the query runs as a BigQuery insert job with the same configuration",
                moved_fields={"sql": "configuration.query.query"},
            )
            for old in ("BigQueryOperator", "BigQueryExecuteQueryOperator")
        }
    )

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if "BigQuery" not in ctx.text:
            return
        for site in call_sites(ctx).all:
            call, qualified = site.node, site.qualified
            if qualified is None or site.guarded:
                continue
            resolution = ctx.table.resolve(qualified, ctx.target, stop_before=self.owned_names)
            final = resolution.new if resolution else qualified
            if final == EXECUTE_QUERY:
                from_contrib = qualified.startswith("airflow.contrib.") or ctx.source_version == "1.10"
                yield self._rewrite(ctx, call, from_contrib=from_contrib)

    def _rewrite(self, ctx: FileContext, call: ast.Call, from_contrib: bool) -> Finding:
        problem = self._problem(call)
        if problem:
            return ctx.finding(BIGQUERY, call, f"BigQueryExecuteQueryOperator was removed: {problem}")
        given = {k.arg: k.value for k in call.keywords if k.arg}
        text = ctx.segment
        query: list[tuple[str, str]] = []
        sql = given.get("sql") or given.get("bql")
        if sql is not None:
            query.append(("query", text(sql)))
        query.append(("useLegacySql", text(given["use_legacy_sql"]) if "use_legacy_sql" in given else "True"))
        query.append(("priority", text(given["priority"]) if "priority" in given else '"INTERACTIVE"'))
        for argument, key in QUERY_KEYS.items():
            if argument in given and argument not in ("use_legacy_sql", "priority"):
                query.append((key, text(given[argument])))
        if "schema_update_options" in given and not _empty(given["schema_update_options"]):
            value = given["schema_update_options"]
            query.append(
                (
                    "schemaUpdateOptions",
                    text(value) if isinstance(value, ast.List) else f"list({text(value)})",
                )
            )
        if "cluster_fields" in given:
            query.append(("clustering", f'{{"fields": {text(given["cluster_fields"])}}}'))
        destination = given.get("destination_dataset_table")
        if destination is not None:
            query.append(("destinationTable", _table_reference(destination)))
            for argument, (key, default) in DESTINATION_KEYS.items():
                query.append((key, text(given[argument]) if argument in given else default))
        indent = ctx.line_indent(call) + "    "
        newline = ctx.lines.newline()
        inner = indent + "    "
        query_text = (
            "{" + "".join(f'{newline}{inner}    "{k}": {v},' for k, v in query) + f"{newline}{inner}}}"
        )
        config_text = "{" + f'{newline}{inner}"query": {query_text},'
        if "labels" in given:
            config_text += f'{newline}{inner}"labels": {text(given["labels"])},'
        config_text += f"{newline}{indent}}}"
        arguments: list[str] = []
        placed = False
        for item in keyword_items(call):
            name = getattr(item, "arg", None)
            if name in MAPPED and name not in SAME_NAME:
                if not placed:
                    arguments.append(f"configuration={config_text}")
                    placed = True
                if name == "bigquery_conn_id":
                    arguments.append(f"gcp_conn_id={text(item.value)}")  # type: ignore[attr-defined]
                continue
            arguments.append(text(item))
        if not placed:
            arguments.append(f"configuration={config_text}")
        from_default_args = {"bigquery_conn_id", "gcp_conn_id"} & default_args_keys(ctx)
        if (
            from_contrib
            and "bigquery_conn_id" not in given
            and "gcp_conn_id" not in given
            and not from_default_args
        ):
            # Airflow 1.10's BigQueryOperator used the connection `bigquery_default`; the new operator's default
            # is `google_cloud_default`. Keep the connection the task really used.
            arguments.append('gcp_conn_id="bigquery_default"')
        name = INSERT_JOB
        bound = ctx.imports.bindings.get(INSERT_JOB)
        if bound is not None and bound.qualified != f"{INSERT_JOB_MODULE}.{INSERT_JOB}":
            name = "bigquery_" + INSERT_JOB
        call_text = (
            f"{name}({newline}"
            + "".join(f"{indent}{a},{newline}" for a in arguments)
            + f"{ctx.line_indent(call)})"
        )
        requirement = ctx.table.requirement(f"{INSERT_JOB_MODULE}.{INSERT_JOB}")
        return ctx.finding(
            BIGQUERY,
            call,
            "BigQueryExecuteQueryOperator was removed from the google provider; rewritten to BigQueryInsertJobOperator"
            " with the same query job configuration",
            edits=[ctx.replace(call, call_text)],
            imports=[ImportSpec(INSERT_JOB_MODULE, INSERT_JOB, None if name == INSERT_JOB else name)],
            requirements=[requirement] if requirement else [],
        )

    def _problem(self, call: ast.Call) -> str | None:
        if call.args:
            return "positional arguments; pass them by keyword first"
        if any(k.arg is None for k in call.keywords):
            return "**kwargs hide which arguments are given; rewrite by hand"
        given = {k.arg: k.value for k in call.keywords}
        for argument, reason in NOT_EXACT.items():
            if argument in given:
                return reason
        if "sql" in given and "bql" in given:
            return "both sql and bql are given"
        sql = given.get("sql") or given.get("bql")
        if isinstance(sql, (ast.List, ast.Tuple)):
            return "a list of statements ran one job each; BigQueryInsertJobOperator runs one query"
        destination = given.get("destination_dataset_table")
        if destination is not None and _table_reference(destination) == "":
            return (
                "destination_dataset_table must be a literal 'project.dataset.table' to map exactly "
                "(a template or a two-part name took the project from the connection)"
            )
        return None


def _empty(node: ast.expr) -> bool:
    return (isinstance(node, (ast.Tuple, ast.List, ast.Set)) and not node.elts) or (
        isinstance(node, ast.Constant) and node.value is None
    )


def _table_reference(node: ast.expr) -> str:
    """'project.dataset.table' or 'project:dataset.table' -> the API's table reference dict; '' otherwise."""
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return ""
    value = node.value
    if "{%" in value:
        return ""
    parts = _split_outside_templates(value)
    if len(parts) != 3 or not all(parts) or any(('"' in p or "\\" in p) for p in parts):
        return ""
    return '{{"projectId": "{}", "datasetId": "{}", "tableId": "{}"}}'.format(*parts)


def _split_outside_templates(value: str) -> list[str]:
    """Split 'project:dataset.table_{{ ds_nodash }}' on ':' and '.' that are not inside {{ }}: the old hook
    split the rendered name; splitting first is the same as long as each {{ }} renders into one part."""
    parts = [""]
    depth = 0
    index = 0
    separators_seen = 0
    while index < len(value):
        if value.startswith("{{", index):
            depth += 1
            parts[-1] += "{{"
            index += 2
            continue
        if value.startswith("}}", index) and depth:
            depth -= 1
            parts[-1] += "}}"
            index += 2
            continue
        char = value[index]
        if depth == 0 and (char == "." or (char == ":" and separators_seen == 0)):
            separators_seen += 1
            parts.append("")
        else:
            parts[-1] += char
        index += 1
    return parts if depth == 0 else []
