"""The Prometheus collector, mounted in a WSGI app as a user's web app would."""

from __future__ import annotations

from wsgiref.util import setup_testing_defaults

from prometheus_client.parser import text_string_to_metric_families

from laravel_queue.manager import QueueManager
from laravel_queue.metrics.recorder import MetricsRecorder
from laravel_queue.prometheus import wsgi_app

from . import jobs


def _get(app: object) -> dict[str, list[tuple[dict[str, str], float]]]:
    environ: dict[str, object] = {}
    setup_testing_defaults(environ)
    body = b"".join(app(environ, lambda status, headers: None))  # type: ignore[operator]
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def test_counters_summaries_and_queue_sizes_as_prometheus_names_them(
    sqlite_manager: QueueManager,
) -> None:
    recorder = MetricsRecorder(sqlite_manager.metrics_store)
    for seconds in (0.1, 0.2, 0.3):
        recorder.record("default", "default", "shop.Send", "processed", seconds, 1.0)
    recorder.record("default", "default", "shop.Send", "failed", 1.0, 1.0)
    recorder.flush()
    jobs.TaggedByHand("eu").dispatch()

    found = _get(wsgi_app(sqlite_manager, queues=["mail"]))
    labels = {"connection": "default", "queue": "default", "job": "shop.Send"}
    assert found["lq_jobs_processed_total"] == [(labels, 3.0)]
    assert found["lq_jobs_failed_total"] == [(labels, 1.0)]
    assert (labels, 4.0) in found["lq_job_runtime_seconds_count"]
    assert found["lq_job_runtime_seconds_sum"] == [(labels, 1.6)]
    quantiles = {s[0]["quantile"]: s[1] for s in found["lq_job_runtime_seconds"]}
    assert abs(quantiles["0.5"] - 0.2) <= 0.01 * 0.2
    sizes = {s[0]["queue"]: s[1] for s in found["lq_queue_pending_jobs"]}
    assert sizes == {"default": 1.0, "mail": 0.0}
    ages = {s[0]["queue"]: s[1] for s in found["lq_queue_oldest_pending_age_seconds"]}
    assert ages["mail"] == 0.0 and 0 <= ages["default"] < 60
    assert found["lq_workers"] == [({"state": "healthy"}, 0.0), ({"state": "stale"}, 0.0)]
