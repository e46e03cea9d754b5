"""The verification result: per-DAG comparisons, import errors on both sides, optional task runs.

One document feeds every report (text, JSON, HTML), so the three never disagree."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from airshift.verify.snapshot_model import FileProblem

DagStatus = Literal["match", "mismatch", "missing", "extra"]
DifferenceKind = Literal["missing", "extra", "changed"]


class Difference(BaseModel):
    """One thing that differs between the original and the migrated DAG.

    `intended` holds the reason when the upgrade rules make this change on purpose (a renamed argument,
    a SubDAG turned TaskGroup): listed for review, but not a mismatch."""

    dag_id: str
    task_id: str | None = None
    field: str
    kind: DifferenceKind
    before: Any = None
    after: Any = None
    intended: str | None = None

    @property
    def is_mismatch(self) -> bool:
        return self.intended is None

    def where(self) -> str:
        return f"{self.dag_id}.{self.task_id}" if self.task_id else self.dag_id


class DagComparison(BaseModel):
    dag_id: str
    file_before: str | None = None
    file_after: str | None = None
    status: DagStatus
    tasks_before: int = 0
    tasks_after: int = 0
    differences: list[Difference] = Field(default_factory=list)

    @property
    def mismatches(self) -> list[Difference]:
        return [d for d in self.differences if d.is_mismatch]


class TaskOutcome(BaseModel):
    task_id: str
    state: str | None
    try_number: int | None = None


class RunOutcome(BaseModel):
    """`airflow dags test` of one migrated DAG in the target runtime."""

    dag_id: str
    logical_date: str
    exit_code: int | None
    seconds: float
    tasks: list[TaskOutcome] = Field(default_factory=list)
    error: str | None = None
    log_tail: str = ""

    @property
    def ok(self) -> bool:
        return (
            self.exit_code == 0
            and self.error is None
            and all(t.state in ("success", "skipped") for t in self.tasks)
        )


class Summary(BaseModel):
    dags_before: int
    dags_after: int
    matching: int
    mismatched: int
    missing: int
    extra: int
    differences: int
    intended: int
    import_errors_before: int
    import_errors_after: int
    runs: int = 0
    runs_failed: int = 0


class VerifyResult(BaseModel):
    original: str
    migrated: str
    source_airflow: str
    target_airflow: str
    logical_date: str
    dags: list[DagComparison] = Field(default_factory=list)
    problems_before: list[FileProblem] = Field(default_factory=list)
    problems_after: list[FileProblem] = Field(default_factory=list)
    runs: list[RunOutcome] = Field(default_factory=list)
    seconds: dict[str, float] = Field(default_factory=dict)

    def summary(self) -> Summary:
        def count(status: str) -> int:
            return sum(1 for d in self.dags if d.status == status)

        return Summary(
            dags_before=sum(1 for d in self.dags if d.status != "extra"),
            dags_after=sum(1 for d in self.dags if d.status != "missing"),
            matching=count("match"),
            mismatched=count("mismatch"),
            missing=count("missing"),
            extra=count("extra"),
            differences=sum(len(d.mismatches) for d in self.dags),
            intended=sum(len(d.differences) - len(d.mismatches) for d in self.dags),
            import_errors_before=sum(1 for p in self.problems_before if p.kind != "stdout"),
            import_errors_after=sum(1 for p in self.problems_after if p.kind != "stdout"),
            runs=len(self.runs),
            runs_failed=sum(1 for r in self.runs if not r.ok),
        )

    @property
    def ok(self) -> bool:
        """True when every DAG matches, no file failed to load, and every requested run succeeded."""
        s = self.summary()
        return (
            s.mismatched == 0
            and s.missing == 0
            and s.extra == 0
            and s.import_errors_before == 0
            and s.import_errors_after == 0
            and s.runs_failed == 0
        )
