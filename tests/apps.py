"""The app module worker *processes* load in tests: `lq --app tests.apps work`.

Configured from the environment the test sets, so the worker shares the test's broker,
cache and database.
"""

from __future__ import annotations

import os

from celery import Celery

from laravel_queue import QueueManager

from . import jobs  # noqa: F401 - registers the job classes

app = Celery("lq_tests", broker=os.environ["LQ_TEST_BROKER"])
app.conf.broker_transport_options = {
    "visibility_timeout": int(os.environ.get("LQ_TEST_VISIBILITY", "30"))
}
if "LQ_TEST_FETCH_TTL" in os.environ:  # reliable fetch that notices a dead worker quickly
    ttl = float(os.environ["LQ_TEST_FETCH_TTL"])
    app.conf.broker_transport_options.update(
        fetch_heartbeat_ttl=ttl, fetch_heartbeat_interval=ttl / 4, unacked_restore_interval=1
    )
if os.environ.get("LQ_TEST_RELIABLE_FETCH") == "0":  # Kombu's own fetch, to compare
    app.conf.broker_transport_options["reliable_fetch"] = False
manager = QueueManager(
    app,
    database_url=os.environ["LQ_TEST_DATABASE"],
    cache_url=os.environ.get("LQ_TEST_CACHE") or None,
)

if "LQ_TEST_EVENT_TRACE" in os.environ:  # every job event, in the process it fires in
    from laravel_queue import Queue, events

    def _trace_event(event: events.Event) -> None:
        job = getattr(event, "job", None)
        job_id = getattr(job, "job_id", "") or getattr(event, "id", "")
        with open(os.environ["LQ_TEST_EVENT_TRACE"], "a") as trace:
            trace.write(f"{type(event).__name__} {job_id} pid={os.getpid()}\n")

    worker_events = (
        events.WorkerStarting,
        events.WorkerStopping,
        events.JobPopped,
        events.WorkerIdle,
        events.WorkerInterrupted,
    )
    for _event in (*events.JOB_EVENTS, *worker_events):
        Queue.listen(_event, _trace_event)

if "LQ_TEST_HOLD_WHILE" in os.environ:  # a Looping listener: hold the worker while a file exists
    from pathlib import Path

    from laravel_queue import Queue

    Queue.looping(lambda event: False if Path(os.environ["LQ_TEST_HOLD_WHILE"]).exists() else None)

if "LQ_TEST_OTEL_SPANS" in os.environ:  # every finished span, one JSON line each, to a file
    import json
    from collections.abc import Sequence

    from opentelemetry import trace
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import (
        SimpleSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )

    class _FileExporter(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            with open(os.environ["LQ_TEST_OTEL_SPANS"], "a") as out:
                for span in spans:
                    out.write(json.dumps(json.loads(span.to_json())) + "\n")
            return SpanExportResult.SUCCESS

    _provider = TracerProvider()
    _provider.add_span_processor(SimpleSpanProcessor(_FileExporter()))
    trace.set_tracer_provider(_provider)

if "LQ_TEST_WAIT_THRESHOLD" in os.environ:  # LongWaitDetected, written where the test reads it
    from laravel_queue import Queue, events

    manager.wait_thresholds["default"] = float(os.environ["LQ_TEST_WAIT_THRESHOLD"])

    def _note_long_wait(event: events.LongWaitDetected) -> None:
        with open(os.environ["LQ_TEST_LONG_WAITS"], "a") as out:
            out.write(f"{event.connection} {event.queue} {event.seconds:.1f}\n")

    Queue.listen(events.LongWaitDetected, _note_long_wait)
