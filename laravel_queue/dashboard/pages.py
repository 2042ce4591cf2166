"""What each dashboard page shows, as plain data: the page's template renders it, and the same
data is the page's JSON (`Accept: application/json`), so a script sees what an operator sees.

Everything is read at each request from the stores the workers write (metrics, heartbeats,
statuses, `failed_jobs`, `job_batches`) and from the broker; the dashboard keeps nothing.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any

from laravel_queue.failed.search import FailedSearch
from laravel_queue.manager import QueueManager
from laravel_queue.messages.batch_record import BatchRecord
from laravel_queue.messages.payload import HEADER
from laravel_queue.messages.records import FailedJob
from laravel_queue.metrics.report import build_report
from laravel_queue.overview import queue_views
from laravel_queue.worker.heartbeat import WorkerRegistry
from laravel_queue.worker.scaling import why_not_scalable

HOUR = 3600.0
PAGE_SIZE = 50


def overview(manager: QueueManager) -> dict[str, Any]:
    """Is everything all right? The last hour's throughput, failures, p95 run time and wait,
    the longest wait now, the workers alive and the queues paused."""
    report = build_report(manager.metrics_store, HOUR)
    workers = WorkerRegistry(manager.cache).all()
    queues = queue_views(manager, workers=workers)
    longest = max(queues, key=lambda q: q.oldest_wait or 0.0, default=None)
    total = report.total
    return {
        "since": report.since,
        "jobs_per_minute": total.throughput,
        "processed": total.processed,
        "failed": total.failed,
        "runtime_p95": total.runtime.p95,
        "wait_p95": total.wait.p95,
        "longest_wait": longest.oldest_wait if longest else None,
        "longest_wait_queue": longest.address if longest and longest.oldest_wait else None,
        "workers_alive": sum(worker.healthy() for worker in workers),
        "workers_stale": sum(not worker.healthy() for worker in workers),
        "paused_queues": [q.address for q in queues if q.paused],
        "failed_jobs_stored": manager.failed.count(),
        "chart": {
            "since": report.since,
            "runs": list(total.per_minute),
            "failed": list(total.failed_per_minute),
        },
    }


def queues(manager: QueueManager) -> dict[str, Any]:
    """How full is each queue, and is it paused?"""
    return {"queues": [{**asdict(view), "address": view.address} for view in queue_views(manager)]}


def workers(manager: QueueManager) -> dict[str, Any]:
    """Who is working, on what, and since when?"""
    now = time.time()
    found = WorkerRegistry(manager.cache).all()
    return {
        "workers": [
            {**asdict(worker), "healthy": worker.healthy(now=now), "age": worker.age(now)}
            for worker in found
        ],
        "not_scalable": why_not_scalable(manager.connection()),
    }


def classes(manager: QueueManager, since: float = HOUR) -> dict[str, Any]:
    """Which job classes run, how often, and how long they take, minute by minute."""
    report = build_report(manager.metrics_store, since)
    return {"since": report.since, "classes": [figures.to_dict() for figures in report.jobs]}


def failed_row(job: FailedJob) -> dict[str, Any]:
    return {**job.to_row(), "failed_at": _iso(job.failed_at)}  # saying it is UTC


def failed(
    manager: QueueManager, search: FailedSearch, before: int | None = None
) -> dict[str, Any]:
    """What failed, and why? A page of the rows matching the search, newest first."""
    started = time.perf_counter()
    rows = manager.failed.search(search, before=before, limit=PAGE_SIZE)
    return {
        "rows": [failed_row(job) for job in rows],
        "next_before": rows[-1].id if len(rows) == PAGE_SIZE else None,
        "search_ms": round((time.perf_counter() - started) * 1000, 1),
    }


def failed_job(job: FailedJob) -> dict[str, Any]:
    """One failure in full: where it ran, its attempts, its state and the traceback."""
    header = job.headers.get(HEADER)
    header = header if isinstance(header, dict) else {}
    return {
        **failed_row(job),
        "attempts": header.get("attempts"),
        "max_tries": header.get("max_tries"),
        "batch_id": header.get("batch_id"),
        "state": decoded_state(job),
        "encrypted": job.encrypted,
        "traceback": job.exception,
    }


def decoded_state(job: FailedJob) -> Any:
    """What the job was made of: its attributes, or a plain Celery task's arguments."""
    if HEADER not in job.headers:
        return {"args": job.payload.get("args") or [], "kwargs": job.state}
    return job.decoded_state


def batch_row(batch: BatchRecord) -> dict[str, Any]:
    return {
        "id": batch.id,
        "name": batch.name,
        "progress": batch.progress(),
        "total_jobs": batch.total_jobs,
        "pending_jobs": batch.pending_jobs,
        "processed_jobs": batch.processed_jobs(),
        "failed_jobs": batch.failed_jobs,
        "created_at": _iso_unix(batch.created_at),
        "finished_at": _iso_unix(batch.finished_at),
        "cancelled_at": _iso_unix(batch.cancelled_at),
        "problem": batch.problem,
    }


def batches(manager: QueueManager) -> dict[str, Any]:
    """How far along is each batch?"""
    return {"batches": [batch_row(batch) for batch in manager.batches.all(PAGE_SIZE)]}


def batch(record: BatchRecord) -> dict[str, Any]:
    return {**batch_row(record), "failed_job_ids": record.failed_job_ids}


def job(manager: QueueManager, job_id: str) -> dict[str, Any] | None:
    """Where is this job? Its status, progress and attempts; None when none is kept."""
    status = manager.status.find(job_id) if manager.status is not None else None
    if status is None:
        return None
    found = asdict(status)
    found["finished"] = status.finished
    found["percent"] = status.progress.percent if status.progress else None
    found["timeline"] = [
        (label, _iso_unix(moment))
        for label, moment in (
            ("queued", status.queued_at),
            ("available", status.available_at),
            ("started", status.started_at),
            ("finished", status.finished_at),
        )
        if moment
    ]
    return found


def _iso(moment: datetime) -> str:
    return moment.replace(tzinfo=timezone.utc).isoformat(sep=" ", timespec="seconds")


def _iso_unix(moment: float | None) -> str | None:
    if not moment:
        return None
    return _iso(datetime.fromtimestamp(moment, timezone.utc).replace(tzinfo=None))
