"""OpenTelemetry spans: one for each dispatch and one for each run, in one trace.

Optional (`pip install laravel_queue[otel]`, which brings `opentelemetry-api` only): the app
configures the SDK and its exporter as it does for its web requests. The dispatch span
("send SendInvoice", a PRODUCER span, a child of whatever span is current — the request that
dispatched the job) puts its context in the job's `lq` header (W3C `traceparent`), and the
worker's run span ("process SendInvoice", CONSUMER) continues that trace, so a trace shows
the request, the dispatch and each attempt of the job (as Nightwatch and BullMQ link them).
Spans are named after the job class, not after the Celery task that carries every job.

Nothing is done (not even a context look-up) until a tracer provider is set: without the
package, or without an SDK, a dispatch and a run cost one check each.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

try:
    from opentelemetry import propagate, trace
    from opentelemetry.trace import (
        NoOpTracerProvider,
        ProxyTracerProvider,
        Span,
        SpanKind,
        StatusCode,
    )
except ImportError:  # pragma: no cover - the extra is not installed
    trace = None  # type: ignore[assignment]

SYSTEM = "laravel_queue"


def active() -> bool:
    """Whether the app set a tracer provider (else every span would be a no-op)."""
    return trace is not None and not isinstance(
        trace.get_tracer_provider(), (ProxyTracerProvider, NoOpTracerProvider)
    )


@contextmanager
def dispatching(job: str, job_id: str, queue: str, connection: str) -> Iterator[dict[str, str]]:
    """The span of one dispatch of `job`; yields the trace context to carry in its header
    (empty when tracing is off)."""
    if not active():
        yield {}
        return
    tracer = trace.get_tracer(SYSTEM)
    attributes = _attributes(job_id, queue, connection, "send")
    with tracer.start_as_current_span(f"send {job}", kind=SpanKind.PRODUCER, attributes=attributes):
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        yield carrier


@contextmanager
def running(
    job: str,
    job_id: str,
    queue: str,
    connection: str,
    carried: dict[str, str] | None,
    **attributes: Any,
) -> Iterator[None]:
    """The span of one run of `job`, continuing the trace its dispatch `carried`; the run
    says what it raised (`raised`) and how it ended (`ended`)."""
    if not active():
        yield
        return
    tracer = trace.get_tracer(SYSTEM)
    with tracer.start_as_current_span(
        f"process {job}",
        context=propagate.extract(carried or {}),
        kind=SpanKind.CONSUMER,
        record_exception=False,  # `raised` did, once
        set_status_on_exception=False,
        attributes={
            **_attributes(job_id, queue, connection, "process"),
            **{f"lq.{name}": value for name, value in attributes.items() if value is not None},
        },
    ):
        yield


def raised(exc: BaseException) -> None:
    """Record `exc`, raised by the job, on the current run's span."""
    if active():
        trace.get_current_span().record_exception(exc)


def ended(outcome: str) -> None:
    """How the current run ended (`lq.outcome`: done, released, failed, …); a run that
    failed the job marks its span as an error."""
    if not active():
        return
    span: Span = trace.get_current_span()
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
