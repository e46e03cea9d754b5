"""The snapshot document: what one real Airflow install saw in a DAG folder (JSON, schema-versioned)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from airshift.errors import AirshiftError

SCHEMA_VERSION = 1
ProblemKind = Literal["import_error", "timeout", "crash", "stdout"]


class TaskSnapshot(BaseModel):
    model_config = ConfigDict(extra="ignore")

    task_id: str
    operator_class: str
    operator_name: str = ""
    # The class's newest path per the upgrader's move table: old and new paths of one class share it.
    canonical_operator: str = ""
    upstream: list[str] = Field(default_factory=list)
    downstream: list[str] = Field(default_factory=list)
    trigger_rule: str = ""
    retries: Any = None
    retry_delay_s: Any = None
    pool: str | None = None
    queue: str | None = None
    priority_weight: Any = None
    weight_rule: str | None = None
    depends_on_past: bool = False
    execution_timeout_s: Any = None
    template_fields: list[str] = Field(default_factory=list)
    callbacks: list[str] = Field(default_factory=list)
    task_group: str | None = None
    rendered: dict[str, Any] = Field(default_factory=dict)
    render_errors: dict[str, str] = Field(default_factory=dict)


class DagSnapshot(BaseModel):
    model_config = ConfigDict(extra="ignore")

    dag_id: str
    file: str
    schedule: dict[str, Any] = Field(default_factory=dict)
    start_date: str | None = None
    end_date: str | None = None
    catchup: bool = False
    max_active_runs: Any = None
    max_active_tasks: Any = None
    tags: list[str] = Field(default_factory=list)
    params: Any = None
    default_args: Any = None
    callbacks: list[str] = Field(default_factory=list)
    is_subdag: bool = False
    tasks: dict[str, TaskSnapshot] = Field(default_factory=dict)
    render_run: dict[str, Any] | None = None
    render_error: str | None = None


class FileProblem(BaseModel):
    """A DAG file that did not load cleanly: import error, hang, interpreter crash, or stdout output."""

    file: str
    kind: ProblemKind
    message: str
    line: int | None = None
    traceback: str = ""


class Snapshot(BaseModel):
    schema_version: int = SCHEMA_VERSION
    airflow_version: str
    python_version: str
    folder: str
    logical_date: str
    rendered: bool = True
    files: list[str] = Field(default_factory=list)
    dags: dict[str, DagSnapshot] = Field(default_factory=dict)
    problems: list[FileProblem] = Field(default_factory=list)
    seconds: float = 0.0

    @property
    def import_errors(self) -> list[FileProblem]:
        """Problems that cost DAGs (everything except a file that merely printed)."""
        return [p for p in self.problems if p.kind != "stdout"]


def write_snapshot(snapshot: Snapshot, path: Path) -> None:
    """Write atomically: a reader never sees half a snapshot."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(snapshot.model_dump_json(indent=1) + "\n", encoding="utf-8")
    temporary.replace(path)


def read_snapshot(path: Path) -> Snapshot:
    """Load a snapshot file; a missing, unreadable or malformed file is a clear error."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise AirshiftError(f"cannot read snapshot {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise AirshiftError(f"snapshot {path} is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        raise AirshiftError(f"snapshot {path} is not JSON: {error}") from None
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        raise AirshiftError(f"snapshot {path}: not an airshift snapshot with schema_version {SCHEMA_VERSION}")
    try:
        return Snapshot.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise AirshiftError(f"snapshot {path}: {where}: {first['msg']}") from None
