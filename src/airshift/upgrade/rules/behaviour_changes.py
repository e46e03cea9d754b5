"""Renames that load fine but change what the task does.

- 1.10's S3ToRedshiftTransfer read `s3://bucket/<s3_key>/<table>`; S3ToRedshiftOperator reads `s3_key` as
  given. With literal `s3_key` and `table` the key is joined exactly; otherwise it is reported.
- 1.10's KubernetesPodOperator `resources={"request_memory": ...}` is `container_resources=
  k8s.V1ResourceRequirements(requests=..., limits=...)` (1.10's Resources mapped the same keys).
- EmailOperator moved to the smtp provider and sends through an SMTP connection (`conn_id`, default
  `smtp_default`) instead of airflow.cfg [smtp]: reported until `conn_id=` is given.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from airshift.upgrade.context import FileContext
from airshift.upgrade.dag_calls import call_sites, keyword
from airshift.upgrade.model import Category, Finding, FixSafety, ImportSpec, RuleMeta

S3_KEY = RuleMeta(
    code="AS340",
    name="s3-to-redshift-key",
    title="S3ToRedshiftTransfer -> S3ToRedshiftOperator no longer appends the table to `s3_key`",
    why="Airflow 1.10's S3ToRedshiftTransfer copied from s3://bucket/<s3_key>/<table>; the amazon provider's "
    "S3ToRedshiftOperator copies from s3://bucket/<s3_key> (1.10.15 and amazon provider sources).",
    category=Category.BEHAVIOUR,
    fix=FixSafety.SAFE,
    deprecated_from="2.0",
    removed_in="2.0",
    limits="An s3_key or table that is not a string literal: the join is reported, not written.",
    sources=("1.10",),  # 2.x code already uses S3ToRedshiftOperator's own behaviour
)
POD_RESOURCES = RuleMeta(
    code="AS341",
    name="pod-resources",
    title="KubernetesPodOperator `resources={...}` -> `container_resources=k8s.V1ResourceRequirements(...)`",
    why="The cncf-kubernetes provider removed `resources` (1.10's dict of request_*/limit_* keys); it takes the "
    "kubernetes client's V1ResourceRequirements as container_resources.",
    category=Category.REQUIRED,
    fix=FixSafety.SAFE,
    deprecated_from="2.0",
    removed_in="2.0",
)
EMAIL_CONNECTION = RuleMeta(
    code="AS342",
    name="email-smtp-connection",
    title="EmailOperator sends through an SMTP connection (`conn_id`), not airflow.cfg [smtp]",
    why="Airflow 3 moved EmailOperator to the smtp provider, which reads host and credentials from the "
    "connection conn_id (default smtp_default) (smtp provider docs).",
    category=Category.BEHAVIOUR,
    fix=FixSafety.NONE,
    deprecated_from="3.0",
    removed_in="3.0",
)

RESOURCE_KEYS = {
    "request_memory": ("requests", "memory"),
    "request_cpu": ("requests", "cpu"),
    "request_ephemeral_storage": ("requests", "ephemeral-storage"),
    "limit_memory": ("limits", "memory"),
    "limit_cpu": ("limits", "cpu"),
    "limit_gpu": ("limits", "nvidia.com/gpu"),
    "limit_ephemeral_storage": ("limits", "ephemeral-storage"),
}


def _string(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


class BehaviourChanges:
    metas: tuple[RuleMeta, ...] = (S3_KEY, POD_RESOURCES, EMAIL_CONNECTION)
    owned_arguments = frozenset({"resources", *RESOURCE_KEYS})

    def check(self, ctx: FileContext) -> Iterator[Finding]:
        if not ctx.imports.imports_airflow():
            return
        text = ctx.text
        if "S3ToRedshift" not in text and "KubernetesPodOperator" not in text and "EmailOperator" not in text:
            return
        for site in call_sites(ctx).airflow:
            call, last = site.node, site.last
            if last in ("S3ToRedshiftTransfer", "S3ToRedshiftOperator"):
                yield from self._s3_key(ctx, call)
            elif last == "KubernetesPodOperator":
                yield from self._resources(ctx, call)
            elif last == "EmailOperator" and keyword(call, "conn_id") is None:
                yield ctx.finding(
                    EMAIL_CONNECTION, call,
                    "EmailOperator sends through the SMTP connection `smtp_default` on Airflow 3 (airflow.cfg "
                    "[smtp] is not read): create it, or pass conn_id= naming yours",
                )  # fmt: skip

    def _s3_key(self, ctx: FileContext, call: ast.Call) -> Iterator[Finding]:
        key, table = keyword(call, "s3_key"), keyword(call, "table")
        if key is None or table is None:
            return
        key_text, table_text = _string(key.value), _string(table.value)
        if key_text is not None and table_text is not None:
            if key_text.endswith("/" + table_text):
                return  # already joined (by this rule)
            joined = f"{key_text.rstrip('/')}/{table_text}"
            yield ctx.finding(
                S3_KEY, key,
                f"S3ToRedshiftOperator reads s3_key as given; 1.10 read `{joined}`: s3_key now says so",
                edits=[ctx.replace_string(key.value, joined)],
            )  # fmt: skip
            return
        yield ctx.finding(
            S3_KEY, key,
            "S3ToRedshiftOperator reads s3_key as given, 1.10's S3ToRedshiftTransfer read s3_key/table: "
            "append the table to the key to keep loading the same files",
        )  # fmt: skip

    def _resources(self, ctx: FileContext, call: ast.Call) -> Iterator[Finding]:
        item = keyword(call, "resources")
        if item is None:
            return
        value = item.value
        keys = (
            [_string(k) if k is not None else None for k in value.keys] if isinstance(value, ast.Dict) else []
        )
        k8s_taken = (
            "k8s" in ctx.assigned and ctx.imports.qualified(ast.Name("k8s")) != "kubernetes.client.models"
        )
        if (
            not isinstance(value, ast.Dict)
            or any(k not in RESOURCE_KEYS for k in keys)
            or keyword(call, "container_resources") is not None
            or k8s_taken
        ):
            yield ctx.finding(
                POD_RESOURCES, item,
                "KubernetesPodOperator no longer takes resources=; pass container_resources="
                "k8s.V1ResourceRequirements(requests={...}, limits={...})"
            )  # fmt: skip
            return
        assert isinstance(value, ast.Dict)
        parts: dict[str, list[str]] = {"requests": [], "limits": []}
        for key, node in zip(keys, value.values, strict=True):
            assert key is not None
            group, name = RESOURCE_KEYS[key]
            parts[group].append(f'"{name}": {ctx.segment(node)}')
        arguments = ", ".join(f"{group}={{{', '.join(items)}}}" for group, items in parts.items() if items)
        text = f"container_resources=k8s.V1ResourceRequirements({arguments})"
        yield ctx.finding(
            POD_RESOURCES, item, f"KubernetesPodOperator `resources=` is `{text}`",
            edits=[ctx.replace(item, text)],
            imports=[ImportSpec("kubernetes.client", "models", "k8s")]
        )  # fmt: skip
