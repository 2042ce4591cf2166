"""`Queue.route` and `Queue.forward` (Laravel 13): a class sent to a queue or connection
without touching it, a queue renamed with jobs in flight; through dispatch, push, bulk,
chains, batches, `failed:retry` and `lq work`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from laravel_queue import Bus, Queue, QueueManager
from laravel_queue.cli.app import Context, cli
from laravel_queue.connections.routing import Route
from laravel_queue.exceptions import ConfigurationError

from .. import jobs
from ..support import lines, run_isolated


def queued(manager: QueueManager, queue: str, connection: str | None = None) -> list[str]:
    """The names of the jobs waiting on `queue` (as forwarded), in order."""
    return [job.name for job in manager.connection(connection).pending_jobs(queue)]


def names(manager: QueueManager, queue: str, connection: str | None = None) -> list[str]:
    """The `name` attribute of the `Traced` jobs waiting on `queue`."""
    return [
        str((job.payload or {}).get("name"))
        for job in manager.connection(connection).pending_jobs(queue)
    ]


def test_a_routed_class_goes_to_its_queue_unless_the_job_chooses(
    sqlite_manager: QueueManager, trace: Path
) -> None:
    Queue.route(jobs.Routed, queue="billing")
    jobs.Routed(str(trace)).dispatch()
    jobs.RoutedChild(str(trace)).dispatch()  # routed through its parent
    jobs.RoutedButChooses(str(trace)).dispatch()  # its own class attribute wins
    jobs.Routed(str(trace)).on_queue("chosen").dispatch()  # and so does on_queue()
    Queue.push(jobs.Routed(str(trace)))
    jobs.Traced(str(trace)).dispatch()  # not routed
    assert queued(sqlite_manager, "billing") == [
        "tests.jobs.Routed",
        "tests.jobs.RoutedChild",
        "tests.jobs.Routed",
    ]
    assert queued(sqlite_manager, "own") == ["tests.jobs.RoutedButChooses"]
    assert queued(sqlite_manager, "chosen") == ["tests.jobs.Routed"]
    assert queued(sqlite_manager, "default") == ["tests.jobs.Traced"]


def test_the_nearest_route_wins_and_a_name_routes_too(sqlite_manager: QueueManager) -> None:
    Queue.route("tests.jobs.Routed", queue="parent")
    Queue.route([jobs.RoutedChild], queue="child")
    assert sqlite_manager.routes.route_for(jobs.RoutedChild) == Route(queue="child")
    assert sqlite_manager.routes.route_for(jobs.Routed) == Route(queue="parent")
    assert sqlite_manager.routes.route_for(jobs.Traced) is None


def test_routes_hold_through_bulk_chains_and_batches(
    sqlite_manager: QueueManager, trace: Path
) -> None:
    Queue.route(jobs.Routed, queue="billing")
    Queue.bulk([jobs.Routed(str(trace)), jobs.Traced(str(trace))])
    Bus.chain([jobs.Routed(str(trace)), jobs.Traced(str(trace))]).dispatch()
    Bus.batch([jobs.Routed(str(trace))]).dispatch()
    assert queued(sqlite_manager, "billing") == ["tests.jobs.Routed"] * 3
    assert queued(sqlite_manager, "default") == ["tests.jobs.Traced"]  # the chain's rest waits


def test_a_route_to_another_connection(sqlite_manager: QueueManager, trace: Path) -> None:
    manager = QueueManager(connections={"second": sqlite_manager.app.conf.broker_url})
    Queue.route(jobs.Routed, connection="second", queue="billing")
    ids = Queue.bulk([jobs.Traced(str(trace), "a"), jobs.Routed(str(trace), "b")])
    assert [job.uuid for job in manager.connection("second").pending_jobs("billing")] == ids[1:]
    assert [job.uuid for job in manager.connection().pending_jobs("default")] == ids[:1]
    manager.engine.dispose()


def test_a_forwarded_queue_is_renamed_for_pushes_sizes_and_pauses(
    sqlite_manager: QueueManager, trace: Path
) -> None:
    Queue.forward("reports", to="audit")
    jobs.Traced(str(trace)).on_queue("reports").dispatch()
    Queue.push(jobs.Traced(str(trace)), queue="reports")
    assert queued(sqlite_manager, "audit") == ["tests.jobs.Traced"] * 2
    assert Queue.size("reports") == Queue.size("audit") == 2
    shown = CliRunner().invoke(
        cli, ["queue:size", "reports", "--json"], obj=Context(manager=sqlite_manager)
    )
    [row] = json.loads(shown.output)
    assert (row["queue"], row["forwarded_to"], row["size"]) == ("reports", "audit", 2)
    Queue.pause("reports")
    assert Queue.is_paused("audit")
    assert Queue.clear("reports") == 2 and Queue.size("audit") == 0


def test_a_forward_on_one_connection_only(sqlite_manager: QueueManager, trace: Path) -> None:
    manager = QueueManager(connections={"cloud": sqlite_manager.app.conf.broker_url})
    Queue.forward("reports", to="audit", connection="cloud")
    jobs.Traced(str(trace), "moved").on_queue("reports").dispatch()  # its queue sends it to cloud
    jobs.Traced(str(trace), "kept").on_queue("reports").on_connection("default").dispatch()
    assert names(manager, "audit", "cloud") == ["moved"]
    assert names(manager, "reports") == ["kept"]
    manager.engine.dispose()


def test_bad_routes_are_refused_when_declared(sqlite_manager: QueueManager) -> None:
    with pytest.raises(ConfigurationError, match=r"'shop\.jobs\.Nope'.*no job class is registered"):
        Queue.route("shop.jobs.Nope", queue="x")
    with pytest.raises(ConfigurationError, match="pass a Job class"):
        Queue.route(str, queue="x")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="needs a queue=, a connection= or both"):
        Queue.route(jobs.Routed)
    with pytest.raises(ConfigurationError, match="no queue connection named 'nowhere'"):
        Queue.route(jobs.Routed, connection="nowhere")
    with pytest.raises(ConfigurationError, match="needs a queue to forward to"):
        Queue.forward("reports")


def test_routed_and_forwarded_jobs_land_where_routed_through_failed_retry_and_lq_work(
    sqlite_manager: QueueManager, trace: Path, lq_home: Path
) -> None:
    """Before the forward, a job fails on "reports"; after it (the app module routes and
    forwards), `failed:retry` puts it on "audit", and a worker given `--queue reports` runs
    it there, with a routed job from "billing"."""

    def lq(app: str, *args: str) -> str:
        done = run_isolated(["-m", "laravel_queue", "--app", app, *args], lq_home)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return done.stdout + done.stderr

    jobs.AlwaysFails(str(trace), "old").on_queue("reports").dispatch()
    lq("tests.jobs", "work", "--queue", "reports", "--stop-when-empty")
    [failure] = sqlite_manager.failed.all()
    assert failure.queue == "reports"

    sqlite_manager.route(jobs.Routed, queue="billing")  # what tests.routing_app declares
    sqlite_manager.forward("reports", to="audit")
    jobs.Routed(str(trace), "routed").dispatch()
    lq("tests.routing_app", "failed:retry", "all")
    assert queued(sqlite_manager, "audit") == ["tests.jobs.AlwaysFails"]
    assert queued(sqlite_manager, "billing") == ["tests.jobs.Routed"]

    trace.write_text("")
    output = lq("tests.routing_app", "work", "--queue", "reports,billing", "--stop-when-empty")
    assert ".> forwarded:   reports -> audit (then what is left on reports)" in output
    ran = sorted(line.split()[0] for line in lines(trace) if "attempt=1" in line)
    assert ran == ["old", "routed"]
