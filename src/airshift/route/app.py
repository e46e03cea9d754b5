"""The FastAPI app: one route per inbound call, each authenticating first and answering in its own
shape. Blocking work (journal reads, calls to the owner) runs in the thread pool."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timezone, tzinfo
from types import ModuleType
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from airshift.errors import AirshiftError
from airshift.route.auth import Authenticator, AuthFailure, Caller
from airshift.route.dates import parse_lenient
from airshift.route.model import Answer, DuplicateRun, RouteError, TriggerRequest
from airshift.route.router import Router
from airshift.route.shapes import experimental, pubsub, v1, v2

log = logging.getLogger("airshift.route")
StatusPage = Callable[[], tuple[str, dict[str, Any]]]


@dataclass
class RouteSettings:
    router: Router
    auth: Authenticator
    status_page: StatusPage
    naive_zone: tzinfo = field(default=timezone.utc)
    public_url: str = ""


def _respond(answer: Answer) -> Response:
    return JSONResponse(
        answer.body, status_code=answer.status, media_type=answer.media_type, headers=answer.headers
    )


def create_app(settings: RouteSettings) -> FastAPI:
    app = FastAPI(title="airshift route", docs_url=None, redoc_url=None, openapi_url=None)
    router = settings.router

    def authenticate(request: Request) -> Caller:
        try:
            return settings.auth.authenticate(request.headers.get("authorization"))
        except AuthFailure as failure:
            log.warning("refused %s %s: %s", request.method, request.url.path, failure)
            raise RouteError("unauthorized", str(failure)) from None

    async def trigger(
        request: Request, shape: ModuleType, parse: Callable[[bytes], TriggerRequest]
    ) -> Response:
        try:
            caller = authenticate(request)
            raw = await request.body()
            trigger_request = parse(raw)
            routed = await run_in_threadpool(router.trigger, trigger_request)
            log.info(
                "%s triggered %s as %s (%s)",
                caller.name,
                trigger_request.dag_id,
                routed.run.run_id,
                shape.__name__.rsplit(".", 1)[-1],
            )
            return _respond(shape.created(routed.run))
        except DuplicateRun as duplicate:
            return _respond(shape.duplicate(duplicate.run))
        except RouteError as failure:
            return _respond(shape.error(failure))
        except Exception as error:  # answer in the caller's shape even when airshift has a bug
            log.exception("internal error on %s", request.url.path)
            return _respond(
                shape.error(
                    RouteError("owner_error", f"internal error in the router ({type(error).__name__})")
                )
            )

    async def read(request: Request, shape: ModuleType, work: Callable[[], Answer]) -> Response:
        try:
            authenticate(request)
            return _respond(await run_in_threadpool(work))
        except RouteError as failure:
            return _respond(shape.error(failure))
        except Exception as error:
            log.exception("internal error on %s", request.url.path)
            return _respond(
                shape.error(
                    RouteError("owner_error", f"internal error in the router ({type(error).__name__})")
                )
            )

    # -- Airflow 1.10 experimental API -----------------------------------------------------------------

    @app.post("/api/experimental/dags/{dag_id}/dag_runs")
    async def experimental_trigger(dag_id: str, request: Request) -> Response:
        return await trigger(
            request,
            experimental,
            lambda raw: experimental.parse_trigger(
                dag_id, raw, now=router.clock(), naive_zone=settings.naive_zone
            ),
        )

    @app.get("/api/experimental/dags/{dag_id}/dag_runs")
    async def experimental_runs(dag_id: str, request: Request) -> Response:
        state = request.query_params.get("state")

        def work() -> Answer:
            runs = [run for run in router.runs(dag_id) if state is None or run.state == state]
            return experimental.run_list(runs, settings.public_url)

        return await read(request, experimental, work)

    @app.get("/api/experimental/dags/{dag_id}/dag_runs/{execution_date}")
    async def experimental_run_state(dag_id: str, execution_date: str, request: Request) -> Response:
        def work() -> Answer:
            try:
                when = parse_lenient(execution_date, settings.naive_zone)
            except ValueError:
                raise RouteError("bad_request", experimental.bad_date_message(execution_date)) from None
            return experimental.run_state(router.run_at(dag_id, when))

        return await read(request, experimental, work)

    @app.get("/api/experimental/test")
    async def experimental_test(request: Request) -> Response:
        return await read(request, experimental, lambda: Answer(200, {"status": "OK"}))

    # -- Airflow 2.x /api/v1 ---------------------------------------------------------------------------

    @app.post("/api/v1/dags/{dag_id}/dagRuns")
    async def v1_trigger(dag_id: str, request: Request) -> Response:
        return await trigger(request, v1, lambda raw: v1.parse_trigger(dag_id, raw, now=router.clock()))

    @app.get("/api/v1/dags/{dag_id}/dagRuns/{dag_run_id}")
    async def v1_run(dag_id: str, dag_run_id: str, request: Request) -> Response:
        return await read(request, v1, lambda: v1.run_state(router.run(dag_id, dag_run_id)))

    # -- Airflow 3.x /api/v2 ---------------------------------------------------------------------------

    @app.post("/api/v2/dags/{dag_id}/dagRuns")
    async def v2_trigger(dag_id: str, request: Request) -> Response:
        return await trigger(request, v2, lambda raw: v2.parse_trigger(dag_id, raw, now=router.clock()))

    @app.get("/api/v2/dags/{dag_id}/dagRuns/{dag_run_id}")
    async def v2_run(dag_id: str, dag_run_id: str, request: Request) -> Response:
        return await read(request, v2, lambda: v2.run_state(router.run(dag_id, dag_run_id)))

    # -- Pub/Sub push ----------------------------------------------------------------------------------

    @app.post("/pubsub")
    async def pubsub_push(request: Request) -> Response:
        return await trigger(request, pubsub, lambda raw: pubsub.parse_push(raw, now=router.clock()))

    # -- the cutover status, for people and machines ---------------------------------------------------

    async def collect() -> tuple[str, dict[str, Any]] | str:
        """The page and its data, or why they cannot be made (the journal unreadable, for one)."""
        try:
            return await run_in_threadpool(settings.status_page)
        except AirshiftError as error:  # already worded for users, secrets redacted
            return f"the cutover status cannot be collected: {error}"
        except Exception as error:  # a database driver's message could quote a URL: name the kind only
            log.error("status page failed: %s", type(error).__name__)
            return f"the cutover status cannot be collected ({type(error).__name__}; see the router log)"

    @app.get("/")
    async def status_html(request: Request) -> Response:
        try:
            authenticate(request)
        except RouteError as failure:
            return Response(
                failure.message, status_code=401, media_type="text/plain",
                headers={"WWW-Authenticate": 'Basic realm="airshift route"'},
            )  # fmt: skip
        page = await collect()
        if isinstance(page, str):
            return Response(page, status_code=503, media_type="text/plain")
        return HTMLResponse(page[0])

    @app.get("/status.json")
    async def status_json(request: Request) -> Response:
        try:
            authenticate(request)
        except RouteError as failure:
            return _respond(v2.error(failure))
        page = await collect()
        if isinstance(page, str):
            return _respond(v2.error(RouteError("owner_down", page)))
        return JSONResponse(page[1])

    return app
