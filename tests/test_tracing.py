"""OpenTelemetry: the dispatch span and the run span are one trace across the process boundary."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from opentelemetry.util._once import Once

from laravel_queue import tracing
from laravel_queue.manager import QueueManager

from . import jobs
from .support import ServiceUrls, lq_running, wait_until


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    """This process's spans, in memory; the global provider is put back as it was after
    (opentelemetry's own tests reset the same globals)."""
    found = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(found))
    trace.set_tracer_provider(provider)
    try:
        yield found
    finally:
        trace._TRACER_PROVIDER_SET_ONCE = Once()
        trace._TRACER_PROVIDER = None


def test_nothing_is_traced_until_the_app_sets_a_tracer_provider() -> None:
    assert not tracing.active()
    with tracing.dispatching("J", "id", "default", "default") as carried:
        assert carried is None


def test_a_run_in_a_worker_process_continues_the_trace_of_its_dispatch(
    exporter: InMemorySpanExporter,
    redis_manager: QueueManager,
    redis_urls: ServiceUrls,
    tmp_path: Path,
) -> None:
    spans_file = tmp_path / "spans.jsonl"
    tracer = trace.get_tracer("the web app")
    with tracer.start_as_current_span("POST /invoices") as request:
        ok = jobs.TaggedByHand("eu").dispatch()
        failing = jobs.AlwaysFails(str(tmp_path / "trace"), "x").dispatch()
    sent = {
        span.attributes["messaging.message.id"]: span
        for span in exporter.get_finished_spans()
        if span.kind == SpanKind.PRODUCER
    }  # type: ignore[index]
    assert sent[ok].name == "send tests.jobs.TaggedByHand"
    assert (
        sent[ok].parent is not None
        and sent[ok].parent.span_id == request.get_span_context().span_id
    )

    env = {
        "LQ_TEST_BROKER": redis_urls.broker,
        "LQ_TEST_CACHE": redis_urls.cache,
        "LQ_TEST_DATABASE": f"sqlite:///{tmp_path}/store.sqlite",
        "LQ_TEST_OTEL_SPANS": str(spans_file),
    }
    with lq_running("--app", "tests.apps", "work", "--sleep", "0.1", env=env):
        wait_until(
            lambda: spans_file.exists() and len(spans_file.read_text().splitlines()) >= 2,
            timeout=30,
        )
    runs = {
        span["attributes"]["messaging.message.id"]: span
        for span in map(json.loads, spans_file.read_text().splitlines())
    }
    trace_id = f"0x{request.get_span_context().trace_id:032x}"
    run = runs[ok]
    assert run["name"] == "process tests.jobs.TaggedByHand"
    assert run["kind"] == "SpanKind.CONSUMER"
    assert run["context"]["trace_id"] == trace_id
    assert run["parent_id"] == f"0x{sent[ok].context.span_id:016x}"
    assert run["attributes"]["lq.attempt"] == 1
    assert run["attributes"]["lq.outcome"] == "done"
    failed = runs[failing]
    assert failed["context"]["trace_id"] == trace_id
    assert failed["status"]["status_code"] == "ERROR"
    assert [event["name"] for event in failed["events"]] == ["exception"]
