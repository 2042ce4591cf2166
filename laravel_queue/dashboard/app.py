"""The dashboard as an ASGI app (Starlette): its addresses, pages and actions.

Pages are GETs that answer HTML, or their data as JSON for `Accept: application/json`;
actions are POSTs carrying the CSRF token, answered with a redirect to the page that shows
their effect (or JSON). Work that blocks (the database, Redis, the broker) runs in Starlette's
thread pool, so one slow store never stalls the event loop.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from laravel_queue.bus.batch import Batch
from laravel_queue.dashboard import pages
from laravel_queue.dashboard.formatting import FILTERS
from laravel_queue.dashboard.security import Authorize, Gate, checked_form
from laravel_queue.exceptions import ConfigurationError, QueueConnectionError, describe
from laravel_queue.failed.search import FailedSearch
from laravel_queue.manager import QueueManager, current_manager
from laravel_queue.status.cancels import cancel_job
from laravel_queue.worker.heartbeat import WorkerRegistry
from laravel_queue.worker.scaling import scale_workers

HERE = Path(__file__).parent
logger = logging.getLogger("laravel_queue")
REFRESH_SECONDS = 2

Handler = Callable[[Request], Awaitable[Response]]


class Dashboard:
    """The pages and actions over one manager (or the current one, looked up per request)."""

    def __init__(self, manager: QueueManager | None, read_only: bool) -> None:
        self._manager = manager
        self.read_only = read_only
        self.templates = Jinja2Templates(directory=HERE / "templates")
        self.templates.env.filters.update(FILTERS)

    @property
    def manager(self) -> QueueManager:
        return self._manager or current_manager()

    # -- answering ---------------------------------------------------------------------------

    def answer(
        self, request: Request, template: str, data: dict[str, Any], status: int = 200
    ) -> Response:
        if wants_json(request):
            return json_response(data, status)
        context = {
            "data": data,
            "read_only": self.read_only,
            "csrf": request.state.csrf,
            "refresh": REFRESH_SECONDS,
            "notice": request.query_params.get("notice"),
            "root": request.scope.get("root_path", ""),
        }
        response = self.templates.TemplateResponse(request, template, context, status)
        response.headers["cache-control"] = "no-store"
        return response

    def done(self, request: Request, page: str, notice: str, **data: Any) -> Response:
        """An action's answer: its result as JSON, or back to `page` saying what was done."""
        if wants_json(request):
            return json_response({"ok": True, "notice": notice, **data})
        root = request.scope.get("root_path", "")
        return RedirectResponse(f"{root}{page}?{urlencode({'notice': notice})}", 303)

    async def form(self, request: Request) -> dict[str, str]:
        if self.read_only:
            raise HTTPException(403, "Forbidden: this dashboard is read-only.")
        return await checked_form(request)

    # -- pages -------------------------------------------------------------------------------

    async def overview(self, request: Request) -> Response:
        data = await run_in_threadpool(pages.overview, self.manager)
        return self.answer(request, "overview.html", data)

    async def queues(self, request: Request) -> Response:
        data = await run_in_threadpool(pages.queues, self.manager)
        return self.answer(request, "queues.html", data)

    async def workers(self, request: Request) -> Response:
        data = await run_in_threadpool(pages.workers, self.manager)
        return self.answer(request, "workers.html", data)

    async def classes(self, request: Request) -> Response:
        data = await run_in_threadpool(pages.classes, self.manager)
        return self.answer(request, "classes.html", data)

    async def failed(self, request: Request) -> Response:
        search = search_of(request.query_params)
        before = _int(request.query_params.get("before"))
        data = await run_in_threadpool(pages.failed, self.manager, search, before)
        data["search"] = {
            "q": search.text,
            "job": search.job,
            "queue": search.queue,
            "tag": search.tag,
            "since": request.query_params.get("since", ""),
            "until": request.query_params.get("until", ""),
        }
        return self.answer(request, "failed.html", data)

    async def failed_job(self, request: Request) -> Response:
        job = await run_in_threadpool(self.manager.failed.find, request.path_params["id"])
        if job is None:
            raise HTTPException(404, "No failed job has that id.")
        return self.answer(request, "failed_job.html", pages.failed_job(job))

    async def batches(self, request: Request) -> Response:
        data = await run_in_threadpool(pages.batches, self.manager)
        return self.answer(request, "batches.html", data)

    async def batch(self, request: Request) -> Response:
        record = await run_in_threadpool(self.manager.batches.find, request.path_params["id"])
        if record is None:
            raise HTTPException(404, "No batch has that id.")
        return self.answer(request, "batch.html", pages.batch(record))

    async def job(self, request: Request) -> Response:
        job_id = request.path_params["id"]
        data = await run_in_threadpool(pages.job, self.manager, job_id)
        if data is None:
            tracking = self.manager.status is not None
            why = "No status is kept for that id." if tracking else "Job tracking is off."
            raise HTTPException(404, why)
        return self.answer(request, "job.html", data)

    async def jump(self, request: Request) -> Response:
        """The header's job-id box: `/jobs?id=ID` is `/jobs/ID`."""
        job_id = request.query_params.get("id", "").strip()
        root = request.scope.get("root_path", "")
        return RedirectResponse(f"{root}/jobs/{quote(job_id)}" if job_id else f"{root}/", 303)

    # -- actions -----------------------------------------------------------------------------

    async def retry_failed(self, request: Request) -> Response:
        await self.form(request)
        job = await run_in_threadpool(self.manager.failed.find, request.path_params["id"])
        if job is None:
            raise HTTPException(404, "No failed job has that id.")
        report = await run_in_threadpool(self.manager.failed.retry, [job.id])
        if report.refused:
            raise HTTPException(409, f"Not retried: {report.reasons[0][1]}")
        return self.done(request, f"/jobs/{job.uuid}", f"Retried {job.name}.", uuid=job.uuid)

    async def forget_failed(self, request: Request) -> Response:
        await self.form(request)
        gone = await run_in_threadpool(self.manager.failed.forget, request.path_params["id"])
        if not gone:
            raise HTTPException(404, "No failed job has that id.")
        return self.done(request, "/failed", "Forgot the failed job.")

    async def retry_matching(self, request: Request) -> Response:
        form = await self.form(request)
        search = search_of(form)
        report = await run_in_threadpool(self.manager.failed.retry_matching, search)
        notice = f"Retried {report.retried} failed job(s)."
        if report.refused:
            notice += f" {report.refused} could not be retried."
        return self.done(request, "/failed", notice, retried=report.retried)

    async def pause_queue(self, request: Request) -> Response:
        await self.form(request)
        connection, queue = self._queue(request)
        await run_in_threadpool(connection.pause, queue)
        return self.done(request, "/queues", f"Paused {request.path_params['queue']}.")

    async def resume_queue(self, request: Request) -> Response:
        await self.form(request)
        connection, queue = self._queue(request)
        await run_in_threadpool(connection.resume, queue)
        return self.done(request, "/queues", f"Resumed {request.path_params['queue']}.")

    def _queue(self, request: Request) -> tuple[Any, str]:
        name, _, queue = request.path_params["queue"].rpartition(":")
        try:
            return self.manager.connection(name or None), queue
        except ConfigurationError as exc:
            raise HTTPException(404, str(exc)) from None

    async def retry_batch(self, request: Request) -> Response:
        await self.form(request)
        batch_id = request.path_params["id"]
        record = await run_in_threadpool(self.manager.batches.find, batch_id)
        if record is None:
            raise HTTPException(404, "No batch has that id.")
        report = await run_in_threadpool(self.manager.failed.retry, record.failed_job_ids)
        notice = f"Retried {report.retried} failed job(s) of the batch."
        return self.done(request, f"/batches/{batch_id}", notice, retried=report.retried)

    async def cancel_batch(self, request: Request) -> Response:
        await self.form(request)
        batch_id = request.path_params["id"]
        batch = await run_in_threadpool(Batch.find, self.manager, batch_id)
        if batch is None:
            raise HTTPException(404, "No batch has that id.")
        await run_in_threadpool(batch.cancel)
        return self.done(request, f"/batches/{batch_id}", "Cancelled the batch.")

    async def cancel_job(self, request: Request) -> Response:
        await self.form(request)
        job_id = request.path_params["id"]
        manager = self.manager
        cancelled = await run_in_threadpool(cancel_job, manager.cancels, manager.status, job_id)
        notice = "Cancelled the job." if cancelled else "The job had already finished."
        return self.done(request, f"/jobs/{job_id}", notice, cancelled=cancelled)

    async def scale_worker(self, request: Request) -> Response:
        form = await self.form(request)
        name = request.path_params["name"]
        workers = await run_in_threadpool(WorkerRegistry(self.manager.cache).all)
        found = next((worker for worker in workers if worker.name == name), None)
        if found is None:
            raise HTTPException(404, "No worker has that name.")
        wanted = found.concurrency + (_int(form.get("by")) or 0)
        try:
            await run_in_threadpool(scale_workers, self.manager, wanted, [name])
        except ConfigurationError as exc:
            raise HTTPException(409, str(exc)) from None
        return self.done(request, "/workers", f"Scaled {name} to {wanted} process(es).")

    def routes(self) -> list[Route | Mount]:
        get, post = ["GET"], ["POST"]
        return [
            Route("/", self.overview, methods=get),
            Route("/queues", self.queues, methods=get),
            Route("/queues/{queue}/pause", self.pause_queue, methods=post),
            Route("/queues/{queue}/resume", self.resume_queue, methods=post),
            Route("/workers", self.workers, methods=get),
            Route("/workers/{name}/scale", self.scale_worker, methods=post),
            Route("/classes", self.classes, methods=get),
            Route("/failed", self.failed, methods=get),
            Route("/failed/retry", self.retry_matching, methods=post),
            Route("/failed/{id}", self.failed_job, methods=get),
            Route("/failed/{id}/retry", self.retry_failed, methods=post),
            Route("/failed/{id}/forget", self.forget_failed, methods=post),
            Route("/batches", self.batches, methods=get),
            Route("/batches/{id}", self.batch, methods=get),
            Route("/batches/{id}/retry", self.retry_batch, methods=post),
            Route("/batches/{id}/cancel", self.cancel_batch, methods=post),
            Route("/jobs", self.jump, methods=get),
            Route("/jobs/{id}", self.job, methods=get),
            Route("/jobs/{id}/cancel", self.cancel_job, methods=post),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ]


def app(
    manager: QueueManager | None = None,
    *,
    authorize: Authorize | None = None,
    read_only: bool = False,
    insecure_no_auth: bool = False,
) -> Starlette:
    """The dashboard, to serve (`lq dashboard`) or mount in your own ASGI app:
    `app.mount("/queue", dashboard.app(manager, authorize=is_admin))`.

    `authorize(request)` (sync or async) lets a request in; without it only requests from
    this machine are, unless `insecure_no_auth`. `read_only` hides every button and refuses
    every action. Without `manager`, the current one (`LQ_APP`) is used."""
    dashboard = Dashboard(manager, read_only)

    async def error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            status, detail = exc.status_code, exc.detail
        else:  # a store or the broker did not answer: say which, and keep serving
            status, detail = 503, f"A store cannot be reached: {describe(exc)}"
            logger.warning("dashboard: %s %s: %s", request.method, request.url.path, detail)
        if wants_json(request):
            return json_response({"error": detail}, status)
        return dashboard.answer(request, "error.html", {"error": detail}, status)

    unreachable = (
        SQLAlchemyError,
        RedisError,
        KombuOperationalError,
        OSError,
        QueueConnectionError,
    )
    return Starlette(
        routes=dashboard.routes(),
        middleware=[Middleware(Gate, authorize=authorize, insecure_no_auth=insecure_no_auth)],
        exception_handlers={HTTPException: error, **dict.fromkeys(unreachable, error)},
    )


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def json_response(data: dict[str, Any], status: int = 200) -> Response:
    body = json.dumps(data, default=str)
    return Response(body, status, media_type="application/json")


def search_of(values: Any) -> FailedSearch:
    """The failed-jobs search of a query string or a form (times as ISO 8601, UTC)."""
    return FailedSearch(
        text=str(values.get("q") or "").strip(),
        job=str(values.get("job") or "").strip(),
        queue=str(values.get("queue") or "").strip(),
        tag=str(values.get("tag") or "").strip(),
        since=_moment(values.get("since")),
        until=_moment(values.get("until")),
    )


def _moment(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise HTTPException(400, f"Not a date and time: {text!r} (use 2026-12-06T13:00).") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.replace(tzinfo=None)


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        raise HTTPException(400, f"Not a whole number: {text!r}.") from None
