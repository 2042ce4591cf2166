"""OpenTelemetry spans: one for each dispatch and one for each run, in one trace.

Optional (`pip install laravel_queue[otel]`, which brings `opentelemetry-api` only): the app
configures the SDK and its exporter as it does for its web requests. The dispatch span
("send SendInvoice", a PRODUCER span, a child of whatever span is current — the request that
dispatched the job) puts its context in the job's `lq` header (W3C `traceparent`), and the
worker's run span ("process SendInvoice", CONSUMER) continues that trace, so a trace shows
the request, the dispatch and each attempt of the job (as Nightwatch and BullMQ link them).
Spans are named after the job class, not after the Celery task that carries every job.

Nothing is done (not even a context look-up) until a tracer provider is set: without the
package, or without an SDK, a dispatch and a run cost one check each (about a microsecond).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

try:
    from opentelemetry import propagate, trace
    from opentelemetry.trace import (
        NoOpTracerProvider,
        ProxyTracerProvider,
        SpanKind,
        StatusCode,
    )
    from opentelemetry.trace import Span as Span  # re-exported: a run keeps its span
except ImportError:  # pragma: no cover - the extra is not installed
    trace = None  # type: ignore[assignment]

SYSTEM = "laravel_queue"


_MISSING = object()
# A provider named in the environment is made by the API on first use: check it each time.
_PROVIDER_FROM_ENV = bool(os.environ.get("OTEL_PYTHON_TRACER_PROVIDER"))


def active() -> bool:
    """Whether the app set a tracer provider (else every span would be a no-op).

    `get_tracer_provider()` reads the environment on every call while none is set (a
    microsecond per job); the API's own global says the same for nothing, and the full
    check still runs wherever that global is not there as expected."""
    if trace is None:
        return False
    if not _PROVIDER_FROM_ENV and getattr(trace, "_TRACER_PROVIDER", _MISSING) is None:
        return False
    return not isinstance(trace.get_tracer_provider(), (ProxyTracerProvider, NoOpTracerProvider))


def dispatching(
    job: str, job_id: str, queue: str, connection: str
) -> AbstractContextManager[dict[str, str] | None]:
    """The span of one dispatch of `job`; gives the trace context to carry in its header
    (None when tracing is off)."""
    if not active():
        return nullcontext()
    return _dispatching(job, job_id, queue, connection)


@contextmanager
def _dispatching(job: str, job_id: str, queue: str, connection: str) -> Iterator[dict[str, str]]:
    tracer = trace.get_tracer(SYSTEM)
    attributes = _attributes(job_id, queue, connection, "send")
    with tracer.start_as_current_span(f"send {job}", kind=SpanKind.PRODUCER, attributes=attributes):
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        yield carrier


def running(
    job: str,
    job_id: str,
    queue: str,
    connection: str,
    carried: dict[str, str] | None,
    **attributes: Any,
) -> AbstractContextManager[Span | None]:
    """The span of one run of `job`, continuing the trace its dispatch `carried` (None when
    tracing is off); the run says what it raised (`raised`) and how it ended (`ended`)."""
    if not active():
        return nullcontext()
    return trace.get_tracer(SYSTEM).start_as_current_span(
        f"process {job}",
        context=propagate.extract(carried or {}),
        kind=SpanKind.CONSUMER,
        record_exception=False,  # `raised` did, once
        set_status_on_exception=False,
        attributes={
            **_attributes(job_id, queue, connection, "process"),
            **{f"lq.{name}": value for name, value in attributes.items() if value is not None},
        },
    )


def raised(span: Span | None, exc: BaseException) -> None:
    """Record `exc`, raised by the job, on its run's span."""
    if span is not None:
        span.record_exception(exc)


def ended(span: Span | None, outcome: str) -> None:
    """How the run ended (`lq.outcome`: done, released, failed, …); a run that failed the
    job marks its span as an error."""
    if span is None:
        return
    span.set_attribute("lq.outcome", outcome)
    if outcome == "failed":
        span.set_status(StatusCode.ERROR, "the job failed")


def _attributes(job_id: str, queue: str, connection: str, operation: str) -> dict[str, str]:
    return {
        "messaging.system": SYSTEM,
        "messaging.operation.type": operation,
        "messaging.destination.name": queue,
        "messaging.message.id": job_id,
        "lq.connection": connection,
    }
