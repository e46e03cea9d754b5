"""Schemathesis against the OpenAPI document that a real `airshift events serve` publishes: generated
requests (valid and invalid) for every operation, and stateful sequences that follow the document's
links (a supplement, then that run's status and artifacts). No answer may be a 5xx, and every answer
must match the document (status code, content type, body schema). Bounded: a few tens of seconds."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from events_helpers import task_event
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.generation.modes import GenerationMode

from airshift.events.stores.sqlite import SqliteEventLog
from tests.state.airflow_envs import free_port, stop_process_group

TOKEN = "fuzz-test-token-0123456789abcdefghijklmn"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FUZZ = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same requests on every run: a failure reproduces
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: bounded time, the failing request is printed
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("fuzz")
    log = SqliteEventLog(folder / "events.db")
    log.append([task_event("t", "running"), task_event("t", "success")])
    port, output = free_port(), folder / "serve.log"
    env = {**os.environ, "AIRSHIFT_EVENTS_TOKEN": TOKEN}
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "airshift", "events", "serve", "--log", str(log.path), "--port", str(port),
             "--max-body-bytes", "65536"],
            env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, output.read_text()
            try:
                httpx.get(url + "/events", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, output.read_text()
                time.sleep(0.2)
        yield url
    finally:
        stop_process_group(process)
    text = output.read_text()
    assert "Traceback" not in text and TOKEN not in text, text[-3000:]


@pytest.fixture(scope="module")
def api_schema(served: str) -> Any:
    schema = schemathesis.openapi.from_url(f"{served}/openapi.json", headers=AUTH, timeout=30)
    schema.config.update(base_url=served, headers=AUTH)
    return schema


def _no_long_poll(case: Any) -> None:
    """GET /events may long-poll up to 60 s by design; the fuzzer asks without waiting."""
    if isinstance(case.query, dict) and isinstance(case.query.get("wait"), int | float):
        case.query["wait"] = 0


def _operations(api_schema: Any) -> list[Any]:
    return [result.ok() for result in api_schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_as_documented(api_schema: Any, mode: GenerationMode) -> None:
    operations = _operations(api_schema)
    assert {op.label for op in operations} >= {"GET /events", "POST /artifacts", "POST /supplements"}
    fuzzed = []
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @FUZZ
        def answers_as_documented(case: Any) -> None:
            _no_long_poll(case)
            case.call_and_validate(headers=AUTH, timeout=30)

        try:
            answers_as_documented()
        except Unsatisfiable:  # no invalid request exists (e.g. only free-text path parameters)
            assert mode is GenerationMode.NEGATIVE, operation.label
            continue
        fuzzed.append(operation.label)
    assert {"GET /events", "POST /artifacts", "POST /supplements"} <= set(fuzzed)


def test_stateful_sequences_follow_the_links(api_schema: Any) -> None:
    machine = api_schema.as_state_machine()

    class Workflow(machine):  # type: ignore[misc, valid-type]
        def before_call(self, case: Any) -> None:
            _no_long_poll(case)

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": AUTH, "timeout": 30}

    run_state_machine_as_test(
        Workflow,
        settings=settings(
            max_examples=15,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
        ),
    )
