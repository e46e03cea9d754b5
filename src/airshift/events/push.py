"""PushArtifactOperator (Airflow 2 and 3): publish what a task produced -- a payload, a payload URI and
an MD5 manifest of files -- through the EventStream API (Airflow 3 workers have no database access).

    PushArtifactOperator(task_id="publish", payload={"rows": 42}, payload_uri="s3://b/export/{{ ds }}/",
                         files=["/data/export/{{ ds }}"], base_dir="/data/export/{{ ds }}")

One artifact per task try: a retry of the same try is reported as a duplicate, not logged twice.
The API URL and token come from `[airshift_events] url` / `token_file` (or $AIRSHIFT_EVENTS_TOKEN),
or the `api_url` / `token_file` arguments.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from airshift.errors import AirshiftError
from airshift.events import settings

try:  # Airflow 3 (Task SDK), then Airflow 2
    from airflow.sdk import BaseOperator  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - depends on the Airflow version
    from airflow.models.baseoperator import BaseOperator  # type: ignore[import-not-found,unused-ignore,no-redef]

_CHUNK = 1024 * 1024


def md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def build_manifest(paths: Iterable[str | Path], base_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """{path, md5, size} for every file (directories are walked), paths relative to `base_dir`."""
    base = Path(base_dir) if base_dir else None
    entries = []
    for raw in paths:
        root = Path(raw)
        if not root.exists():
            raise AirshiftError(f"artifact file {root} does not exist")
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        for file in files:
            name = (
                str(file.relative_to(base)) if base is not None and file.is_relative_to(base) else str(file)
            )
            entries.append({"path": name, "md5": md5_of(file), "size": file.stat().st_size})
    return entries


class PushArtifactOperator(BaseOperator):  # type: ignore[misc]
    template_fields: Sequence[str] = ("payload", "payload_uri", "files", "base_dir")

    def __init__(
        self,
        *,
        payload: Any = None,
        payload_uri: str | None = None,
        files: Sequence[str] = (),
        base_dir: str | None = None,
        api_url: str | None = None,
        token_file: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.payload = payload
        self.payload_uri = payload_uri
        self.files = list(files)
        self.base_dir = base_dir
        self.api_url = api_url
        self.token_file = token_file

    def execute(self, context: Any) -> dict[str, Any]:
        from airshift.events.client import EventsClient, read_token

        url = self.api_url or settings.get("url")
        if not url:
            raise AirshiftError("PushArtifactOperator: no API URL ([airshift_events] url or api_url=)")
        token_file = self.token_file or settings.get("token_file")
        token = read_token(Path(token_file) if token_file else None)
        ti = context["ti"]
        map_index = getattr(ti, "map_index", -1)
        body = {
            "dag_id": ti.dag_id,
            "run_id": ti.run_id,
            "task_id": ti.task_id,
            "map_index": -1 if map_index is None else int(map_index),
            "try_number": int(ti.try_number),
            "payload": self.payload,
            "payload_uri": self.payload_uri,
            "manifest": build_manifest(self.files, self.base_dir),
        }
        client = EventsClient(url, token)
        try:
            result = client.publish_artifact(body)
        finally:
            client.close()
        self.log.info("published %d file(s) for %s: %s", len(body["manifest"]), ti.task_id, result)
        return {**result, "manifest": body["manifest"]}
