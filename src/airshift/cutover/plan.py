"""The cutover plan file: the two Airflows, the waves of DAGs, and where the journal lives.

A TOML file, validated with pydantic. Credentials never appear in it: passwords, tokens and database
URLs are named by a file (`*_file`, read relative to the plan) or an environment variable (`*_env`).

    [old]                                # the Airflow the DAGs leave
    name = "composer1"
    url = "https://old-airflow.example.com"
    api = "auto"                         # auto | experimental | v1 | v2
    user = "admin"
    password_file = "secrets/old.password"   # or password_env = "OLD_AIRFLOW_PASSWORD"
    db_url_file = "secrets/old-db.url"       # or db_url_env: the metadata DB (history, rollback)

    [new]                                # the Airflow the DAGs move to
    url = "https://new-airflow.example.com"
    token_file = "secrets/new.token"         # or token_env, or user + password_file/password_env
    ca_file = "ca.pem"                       # or tls_verify = false
    db_url_env = "NEW_AIRFLOW_DB_URL"

    [cutover]
    journal = "cutover-journal.sqlite"   # default: <plan name>.journal.sqlite beside the plan
    # journal_url_env = "AIRSHIFT_JOURNAL_URL"   (a postgresql:// URL for teams)
    drain_timeout = 600                  # seconds to wait for runs in flight
    on_drain_timeout = "fail"            # fail | hand-over
    parallelism = 4
    verify_report = "verify.json"        # `airshift verify --format json` output

    [[waves]]
    name = "first"
    dag_ids = ["billing_daily"]
    globs = ["reports_*"]
    tags = ["tier3"]
"""

from __future__ import annotations

import fnmatch
import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from airshift.errors import AirshiftError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ApiFlavour = Literal["auto", "experimental", "v1", "v2"]
DrainPolicy = Literal["fail", "hand-over"]
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Environment(_Strict):
    """One Airflow: its REST API, how to authenticate, optionally its metadata database."""

    name: str = ""
    url: str
    api: ApiFlavour = "auto"
    user: str | None = None
    password_file: Path | None = None
    password_env: str | None = None
    token_file: Path | None = None
    token_env: str | None = None
    ca_file: Path | None = None
    tls_verify: bool = True
    db_url_file: Path | None = None
    db_url_env: str | None = None
    db_password_file: Path | None = None
    db_password_env: str | None = None
    timeout: float = Field(default=60.0, gt=0)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL of the Airflow webserver or API server")
        if "@" in value.split("://", 1)[1].split("/", 1)[0]:
            raise ValueError("must not contain credentials; use user + password_file/password_env")
        return value

    @field_validator("password_env", "token_env", "db_url_env", "db_password_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError(f"{value!r} is not an environment variable name")
        return value

    @model_validator(mode="after")
    def _one_credential(self) -> Environment:
        tokens = [self.token_file, self.token_env]
        passwords = [self.password_file, self.password_env]
        if sum(x is not None for x in tokens) > 1:
            raise ValueError("give token_file or token_env, not both")
        if sum(x is not None for x in passwords) > 1:
            raise ValueError("give password_file or password_env, not both")
        if any(x is not None for x in tokens) and (self.user or any(x is not None for x in passwords)):
            raise ValueError("give a token (token_file/token_env) or user + password, not both")
        if any(x is not None for x in passwords) and not self.user:
            raise ValueError("password_file/password_env need user")
        if self.user and not any(x is not None for x in passwords):
            raise ValueError(f"user {self.user!r} needs password_file or password_env")
        if self.db_url_file is not None and self.db_url_env is not None:
            raise ValueError("give db_url_file or db_url_env, not both")
        if self.ca_file is not None and not self.tls_verify:
            raise ValueError("ca_file and tls_verify = false contradict each other")
        return self

    @property
    def label(self) -> str:
        return self.name or self.url

    @property
    def has_db(self) -> bool:
        return self.db_url_file is not None or self.db_url_env is not None


class Wave(_Strict):
    """A group of DAGs switched together: exact ids, fnmatch globs and tags (any match selects)."""

    name: str
    dag_ids: list[str] = Field(default_factory=list)
    globs: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_empty(self) -> Wave:
        if not (self.dag_ids or self.globs or self.tags):
            raise ValueError(f"wave {self.name!r} selects no DAG: give dag_ids, globs or tags")
        return self

    def selects(self, dag_id: str, tags: Iterable[str] = ()) -> bool:
        if dag_id in self.dag_ids:
            return True
        if any(fnmatch.fnmatchcase(dag_id, pattern) for pattern in self.globs):
            return True
        return bool(set(self.tags) & set(tags))

    def resolve(self, available: dict[str, list[str]]) -> list[str]:
        """The wave's DAG ids among `available` (DAG id -> tags), plus listed ids that are missing
        (kept so that the plan reports them instead of silently dropping them), sorted."""
        chosen = {dag_id for dag_id, tags in available.items() if self.selects(dag_id, tags)}
        return sorted(chosen | set(self.dag_ids))


class CutoverSettings(_Strict):
    journal: str | None = None
    journal_url_env: str | None = None
    journal_url_file: Path | None = None
    drain_timeout: float = Field(default=600.0, ge=0)
    on_drain_timeout: DrainPolicy = "fail"
    parallelism: int = Field(default=4, ge=1, le=64)
    verify_report: Path | None = None
    confirm_timeout: float = Field(default=180.0, gt=0)

    @model_validator(mode="after")
    def _one_journal(self) -> CutoverSettings:
        given = [x for x in (self.journal, self.journal_url_env, self.journal_url_file) if x is not None]
        if len(given) > 1:
            raise ValueError("give one of journal, journal_url_env, journal_url_file")
        if self.journal and "://" in self.journal and "@" in self.journal.split("://", 1)[1]:
            head = self.journal.split("://", 1)[1].split("@", 1)[0]
            if ":" in head:
                raise ValueError(
                    "journal URL contains a password; put the URL in a file (journal_url_file) or an "
                    "environment variable (journal_url_env)"
                )
        return self


class CutoverPlan(_Strict):
    old: Environment
    new: Environment
    cutover: CutoverSettings = Field(default_factory=CutoverSettings)
    waves: list[Wave] = Field(min_length=1)

    # Set by load_plan: the plan file, for messages and relative paths.
    path: Path = Path("cutover.toml")

    @model_validator(mode="after")
    def _unique_waves(self) -> CutoverPlan:
        names = [wave.name for wave in self.waves]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"waves: wave names must be unique: {', '.join(duplicates)}")
        return self

    @property
    def drain_timeout(self) -> float:
        return self.cutover.drain_timeout

    @property
    def parallelism(self) -> int:
        return self.cutover.parallelism

    @property
    def on_drain_timeout(self) -> DrainPolicy:
        return self.cutover.on_drain_timeout

    @property
    def journal(self) -> str:
        """Where the journal lives: an SQLite file path or a database URL (may carry a password read
        from the named file or variable: never print it, use `journal_display`)."""
        settings = self.cutover
        if settings.journal_url_env is not None:
            value = os.environ.get(settings.journal_url_env, "").strip()
            if not value:
                raise AirshiftError(
                    f"{self.path}: [cutover] journal_url_env: ${settings.journal_url_env} is not set"
                )
            return value
        if settings.journal_url_file is not None:
            return _read_text(self.path, "[cutover] journal_url_file", settings.journal_url_file)
        if settings.journal:
            if "://" in settings.journal:
                return settings.journal
            return str(_relative(self.path, Path(settings.journal)))
        return str(self.path.with_name(f"{self.path.stem}.journal.sqlite"))

    def wave(self, which: str | int) -> Wave:
        """A wave by its 1-based number or its name."""
        text = str(which)
        if text.isdigit():
            number = int(text)
            if 1 <= number <= len(self.waves):
                return self.waves[number - 1]
        for wave in self.waves:
            if wave.name == text:
                return wave
        names = ", ".join(f"{index} ({wave.name})" for index, wave in enumerate(self.waves, 1))
        raise AirshiftError(f"{self.path}: no wave {text!r}; the plan has {names}")

    def wave_of(self, dag_id: str, tags: Iterable[str] = ()) -> Wave | None:
        for wave in self.waves:
            if wave.selects(dag_id, tags):
                return wave
        return None

    def side(self, name: Literal["old", "new"]) -> Environment:
        return self.old if name == "old" else self.new

    def file(self, relative: Path) -> Path:
        return _relative(self.path, relative)


def _relative(plan_path: Path, path: Path) -> Path:
    return path if path.is_absolute() else plan_path.parent / path


def _read_text(plan_path: Path, key: str, path: Path) -> str:
    full = _relative(plan_path, path)
    try:
        value = full.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise AirshiftError(f"{plan_path}: {key}: cannot read {full}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise AirshiftError(f"{plan_path}: {key}: {full} is not UTF-8 text") from None
    if not value:
        raise AirshiftError(f"{plan_path}: {key}: {full} is empty")
    return value


def load_plan(path: Path) -> CutoverPlan:
    """Read and validate a plan file; every error names the file and the key."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise AirshiftError(f"cannot read plan file {path}: {error.strerror or error}") from None
    try:
        data: dict[str, Any] = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise AirshiftError(f"plan file {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise AirshiftError(f"plan file {path} is not valid TOML: {error}") from None
    if "path" in data:
        raise AirshiftError(f"{path}: unknown key 'path'")
    try:
        plan = CutoverPlan.model_validate({**data, "path": path})
    except ValidationError as error:
        raise AirshiftError(f"{path}: {_describe(error)}") from None
    return plan


def _describe(error: ValidationError) -> str:
    """Pydantic's errors as `key: reason` lines, without echoing any value (a value could be a secret)."""
    parts = []
    for item in error.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        elif item["type"] == "missing":
            message = "required key is missing"
        parts.append(f"{location}: {message}" if location else message)
    return "; ".join(parts)
