"""Arguments that changed when a class moved or was replaced inside a provider.

The moves table says where a class went; this rule renames the keywords the new class spells differently:
the per-database SQL operators became SQLExecuteQueryOperator (`postgres_conn_id` -> `conn_id`), Google's
operators take `gcp_conn_id` where 1.10 had `bigquery_conn_id` / `google_cloud_storage_conn_id`. Arguments
with no exact equivalent are reported. The rule looks at every name on a call's move chain, so it works in
the same pass that rewrites the import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field

from airshift.upgrade.context import FileContext, keyword_items
from airshift.upgrade.dag_calls import call_sites, default_args_dicts, keyword
from airshift.upgrade.intended_changes import IntendedChanges
from airshift.upgrade.model import Category, Finding, FixSafety, RuleMeta

CHANGED_ARGUMENTS = RuleMeta(
    code="AS202",
    name="provider-changed-arguments",
    title="Arguments renamed or removed when an operator moved to its current provider class",
    why="Provider releases replaced PostgresOperator, MySqlOperator and friends with SQLExecuteQueryOperator "
    "(conn_id) and unified Google connections under gcp_conn_id; the old keywords raise 'Invalid arguments'.",
    category=Category.REQUIRED,
    fix=FixSafety.SAFE,
    deprecated_from="2.0",
    removed_in="2.0",
)


@dataclass(frozen=True)
class ArgumentMap:
    renames: dict[str, str] = field(default_factory=dict)
    unsupported: dict[str, str] = field(default_factory=dict)  # keyword -> what to do instead
    splits: dict[str, tuple[str, ...]] = field(default_factory=dict)  # one old keyword -> several new ones


def _sql(conn: str, database_note: bool = True) -> ArgumentMap:
    unsupported = (
        {"database": "pass hook_params={'database': ...} to SQLExecuteQueryOperator"} if database_note else {}
    )
    return ArgumentMap({conn: "conn_id"}, unsupported)


# Keyed by a class name anywhere on a call's move chain.
BY_CLASS: dict[str, ArgumentMap] = {
    "airflow.providers.postgres.operators.postgres.PostgresOperator": _sql("postgres_conn_id"),
    "airflow.providers.mysql.operators.mysql.MySqlOperator": _sql("mysql_conn_id"),
    "airflow.providers.sqlite.operators.sqlite.SqliteOperator": _sql("sqlite_conn_id", database_note=False),
    "airflow.providers.microsoft.mssql.operators.mssql.MsSqlOperator": _sql("mssql_conn_id"),
    "airflow.providers.oracle.operators.oracle.OracleOperator": _sql("oracle_conn_id", database_note=False),
    "airflow.providers.jdbc.operators.jdbc.JdbcOperator": _sql("jdbc_conn_id", database_note=False),
    "airflow.providers.trino.operators.trino.TrinoOperator": _sql("trino_conn_id", database_note=False),
    "airflow.providers.vertica.operators.vertica.VerticaOperator": _sql(
        "vertica_conn_id", database_note=False
    ),
    # 1.10's SSHOperator used `timeout` for both the connection and the command; ssh 3.0 split it and
    # later releases removed it.
    "airflow.providers.ssh.operators.ssh.SSHOperator": ArgumentMap(
        splits={"timeout": ("conn_timeout", "cmd_timeout")}
    ),
    "airflow.providers.slack.operators.slack_webhook.SlackWebhookOperator": ArgumentMap(
        {"http_conn_id": "slack_webhook_conn_id"},
        {
            "webhook_token": "keep the webhook token in the connection's password, not in DAG code",
            "link_names": "SlackWebhookOperator no longer takes link_names; use <@user> mentions in the message",
        },
    ),
    "airflow.providers.slack.hooks.slack_webhook.SlackWebhookHook": ArgumentMap(
        {"http_conn_id": "slack_webhook_conn_id"},
        {
            "webhook_token": "keep the webhook token in the connection's password, not in DAG code",
            "message": "the hook no longer takes the message; call hook.send(text=...) instead of execute()",
            "channel": "Incoming Webhooks post to the channel of the Slack app; call hook.send(...)",
            "username": "Incoming Webhooks post as the Slack app; call hook.send(...)",
        },
    ),
}
GOOGLE = ArgumentMap(
    {"bigquery_conn_id": "gcp_conn_id", "google_cloud_storage_conn_id": "gcp_conn_id"},
    {"delegate_to": "the google provider removed delegate_to; use impersonation_chain"},
)
GOOGLE_PREFIX = "airflow.providers.google."


def _maps_for(ctx: FileContext, qualified: str) -> list[ArgumentMap]:
    chain = [qualified]
    resolution = ctx.table.resolve(qualified, ctx.target)
    if resolution is not None:
        chain += [hop.new for hop in resolution.hops if hop.new]
    maps = [BY_CLASS[name] for name in chain if name in BY_CLASS]
    if chain[-1].startswith(GOOGLE_PREFIX) and any(
        n.startswith(GOOGLE_PREFIX) or "contrib" in n for n in chain
    ):
        maps.append(GOOGLE)
    return maps


class ProviderChangedArguments:
    metas: tuple[RuleMeta, ...] = (CHANGED_ARGUMENTS,)
    owned_arguments = frozenset(
        name
        for mapping in (*BY_CLASS.values(), GOOGLE)
        for name in (*mapping.renames, *mapping.unsupported, *mapping.splits)
    )
    # the Google connection keys become gcp_conn_id in default_args too
    intended = IntendedChanges(default_args=dict(GOOGLE.renames))

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if not ctx.imports.imports_airflow():
            return
        uses_google = False
        for site in call_sites(ctx).airflow:
            call, qualified = site.node, site.qualified
            assert qualified is not None  # an Airflow call is resolved
            maps = _maps_for(ctx, qualified)
            if GOOGLE in maps:
                uses_google = True
            for mapping in maps:
                yield from self._apply(ctx, call, mapping, qualified)
        if uses_google:
            yield from self._google_default_args(ctx)

    def _apply(
        self, ctx: FileContext, call: ast.Call, mapping: ArgumentMap, qualified: str
    ) -> Iterator[Finding]:
        short = qualified.rpartition(".")[2]
        by_new: dict[str, list[ast.keyword]] = {}
        for old, new in mapping.renames.items():
            item = keyword(call, old)
            if item is not None:
                by_new.setdefault(new, []).append(item)
        for new, items in by_new.items():
            yield from self._rename(ctx, call, short, items, new)
        for old, news in mapping.splits.items():
            item = keyword(call, old)
            if item is None:
                continue
            if any(keyword(call, new) is not None for new in news):
                yield ctx.finding(
                    CHANGED_ARGUMENTS, item, f"{short}: `{old}=` next to its replacements; keep those"
                )
                continue
            value = ctx.segment(item.value)
            text = ", ".join(f"{new}={value}" for new in news)
            yield ctx.finding(
                CHANGED_ARGUMENTS,
                item,
                f"{short}: `{old}=` is now {' and '.join(f'`{n}=`' for n in news)}",
                edits=[ctx.replace(item, text)],
            )
        for old, advice in mapping.unsupported.items():
            item = keyword(call, old)
            if item is not None:
                yield ctx.finding(
                    CHANGED_ARGUMENTS, item, f"{short}: `{old}=` is not accepted any more: {advice}"
                )

    def _rename(
        self, ctx: FileContext, call: ast.Call, short: str, items: list[ast.keyword], new: str
    ) -> Iterator[Finding]:
        """Rename old keywords to `new`. Several old keywords that all became `new` (1.10's
        bigquery_conn_id and google_cloud_storage_conn_id -> gcp_conn_id) become one keyword: renaming both
        would repeat it, which does not compile."""
        first = items[0]
        if keyword(call, new) is not None:
            for item in items:
                yield ctx.finding(
                    CHANGED_ARGUMENTS,
                    item,
                    f"{short}: `{item.arg}=` and `{new}=` are both given; keep `{new}=`",
                )
            return
        if len(items) == 1:
            yield ctx.finding(
                CHANGED_ARGUMENTS,
                first,
                f"{short}: `{first.arg}=` is `{new}=` on the current provider class",
                edits=[ctx.keyword_name_edit(first, new)],
            )
            return
        arguments = keyword_items(call)
        edits = [ctx.keyword_name_edit(first, new)]
        edits += [ctx.remove_item(arguments, arguments.index(item)) for item in items[1:]]
        names = " and ".join(f"`{item.arg}=`" for item in items)
        values = {ctx.segment(item.value) for item in items}
        message = f"{short}: {names} are one `{new}=` on the current provider class"
        if len(values) > 1:
            kept = ctx.segment(first.value)
            message += (
                f"; the values differ, so `{new}={kept}` now serves all of them: check that this connection "
                f"can do what the others did"
            )
        yield ctx.finding(
            CHANGED_ARGUMENTS,
            first,
            message,
            edits=edits,
            category=Category.BEHAVIOUR if len(values) > 1 else None,
        )

    def _google_default_args(self, ctx: FileContext) -> Iterator[Finding]:
        """default_args reach every operator; gcp_conn_id is only a Google operator argument, so renaming the
        Google connection keys there keeps their meaning."""
        for node in default_args_dicts(ctx):
            if not isinstance(node, ast.Dict):
                continue
            keys = {k.value: k for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
            old_keys = [k for k in GOOGLE.renames if k in keys]
            if not old_keys:
                continue
            if "gcp_conn_id" in keys or len(old_keys) > 1:
                yield ctx.finding(
                    CHANGED_ARGUMENTS,
                    keys[old_keys[0]],
                    "default_args has several Google connection keys; keep one `gcp_conn_id`",
                )
                continue
            key = keys[old_keys[0]]
            yield ctx.finding(
                CHANGED_ARGUMENTS,
                key,
                f"default_args `{old_keys[0]}` is `gcp_conn_id` for the Google operators",
                edits=[ctx.replace_string(key, "gcp_conn_id")],
            )
