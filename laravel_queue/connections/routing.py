"""Where jobs go, decided outside their classes (Laravel 13: `Queue::route`,
`Queue::forward`).

A route names the queue and/or the connection of a job class and its subclasses. A job that
says nothing itself (no `queue`/`connection` class attribute, no `on_queue()`/
`on_connection()`) goes where its class is routed, however it is queued: `dispatch()`,
`Queue.push`/`bulk`, chains, batches, the scheduler.

A forward renames a queue: whatever names `old` acts on `new` instead — pushing, the
worker's `--queue`, sizes, listing, clearing, pausing, and `failed:retry` of jobs that failed
on `old` — so a queue can be renamed while jobs are still on their way to it: forward the old
name, deploy, and the jobs already queued under the new name are the only ones left.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from laravel_queue.exceptions import ConfigurationError
from laravel_queue.jobs import registry
from laravel_queue.jobs.queueable import Queueable

JobClasses = type[Queueable] | str | Iterable[type[Queueable] | str]
"""A job class, its dotted name, or several of either."""


@dataclass(frozen=True)
class Route:
    """Where a routed class goes; None leaves that half to the usual defaults."""

    queue: str | None = None
    connection: str | None = None


@dataclass(frozen=True)
class Forward:
    """Queue `to` instead of the forwarded name; only on `connection` when one is given
    (then jobs of a class routed nowhere else, whose own queue is the forwarded one, go to
    that connection)."""

    to: str
    connection: str | None = None


class QueueRoutes:
    """The routes and forwards of one manager (`manager.routes`)."""

    def __init__(self) -> None:
        self._routes: dict[type[Queueable], Route] = {}
        self._forwards: dict[str, Forward] = {}
        self._found: dict[type[Queueable], Route | None] = {}  # each class's route, looked up once

    def route(
        self, classes: JobClasses, queue: str | None = None, connection: str | None = None
    ) -> None:
        if queue is None and connection is None:
            raise ConfigurationError("Queue.route() needs a queue=, a connection= or both")
        route = Route(queue, connection)
        items = [classes] if isinstance(classes, (type, str)) else list(classes)
        for item in items:
            self._routes[_job_class(item)] = route
        self._found.clear()

    def forward(self, queue: str, to: str | None = None, connection: str | None = None) -> None:
        if to is None and connection is None:
            raise ConfigurationError(
                f"Queue.forward({queue!r}) needs a queue to forward to, a connection or both"
            )
        self._forwards[queue] = Forward(to or queue, connection)

    def route_for(self, cls: type[Queueable]) -> Route | None:
        """The route of `cls`, else of its nearest routed base class (Laravel: the class,
        then its parents, nearest first)."""
        if cls not in self._found:
            routed = (self._routes.get(base) for base in cls.__mro__)
            self._found[cls] = next((route for route in routed if route is not None), None)
        return self._found[cls]

    def connection_for(self, job: Queueable) -> str | None:
        """The connection `job` goes to (None: the default one): its own choice, else its
        class's route, else a forward of its own queue that names a connection."""
        own = job.options.connection or job.connection
        if own is not None or not (self._routes or self._forwards):
            return own
        route = self.route_for(type(job))
        if route is not None:
            return route.connection
        forward = self._forwards.get(job.options.queue or job.queue or "")
        return forward.connection if forward is not None else None

    def queue_for(self, job: Queueable, queue: str | None, connection: str, default: str) -> str:
        """The queue `job` is pushed to on `connection`: the one asked for, else its own,
        else its class's route, else `default`; forwarded."""
        name = queue or job.options.queue or job.queue
        if name is None and self._routes:
            route = self.route_for(type(job))
            name = route.queue if route is not None else None
        return self.forwarded(name or default, connection)

    def forwarded(self, queue: str, connection: str) -> str:
        """The queue `queue` stands for on `connection`."""
        forward = self._forwards.get(queue)
        if forward is None or forward.connection not in (None, connection):
            return queue
        return forward.to

    @property
    def forwards(self) -> dict[str, Forward]:
        return dict(self._forwards)


def _job_class(item: type[Queueable] | str) -> type[Queueable]:
    if isinstance(item, str):
        found = registry.job_class(item)
        if found is None:
            raise ConfigurationError(
                f"cannot route {item!r}: no job class is registered under that name (import "
                "its module first, or pass the class itself)"
            )
        return found
    if isinstance(item, type) and issubclass(item, Queueable):
        return item
    raise ConfigurationError(f"cannot route {item!r}: pass a Job class or its dotted name")
