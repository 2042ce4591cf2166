"""The dispatcher (Laravel: Bus\\Dispatcher, PendingDispatch and UniqueLock).

Every `dispatch()` takes this one path: the job's `prepare_for_dispatch()` may decline it
(dropped, `None`); a debounced job takes the last word in its debounce key and waits
(`bus.debounce`); a unique job takes its lock, owned by the new
job's uuid, or is dropped (`None`); a job given `after_commit()` inside a transaction waits
for the commit (and is dropped, its lock given back, on a rollback: `bus.after_commit`);
then it is pushed
on its connection, which fires `JobQueued`. A push that fails gives the lock back.
`Queue.push/later/bulk` come here too and push directly, as in Laravel: no preparing, no
unique lock, no after-commit. Both follow the class routes (`Queue.route`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from laravel_queue import events
from laravel_queue.bus.after_commit import waits_for_django, waits_for_sqlalchemy
from laravel_queue.bus.debounce import debounce_of, take_the_last_dispatch
from laravel_queue.bus.host import BusHost
from laravel_queue.bus.unique import ShouldBeUnique, unique_lock
from laravel_queue.durations import Delay
from laravel_queue.jobs.queueable import Queueable, require_job_instance
from laravel_queue.messages.ids import new_id


class Dispatcher:
    """Dispatch policy for one manager's connections and cache."""

    def __init__(self, manager: BusHost) -> None:
        self.manager = manager

    def dispatch(self, job: Queueable) -> str | None:
        """Push `job` (Laravel: PendingDispatch, then Dispatcher::dispatchToQueue); its uuid,
        or None when the job declined (`prepare_for_dispatch()` returned False) or a unique
        job's lock is held by another."""
        if job.prepare_for_dispatch() is False:
            return None
        debounce = debounce_of(job)
        job_id = new_id()
        recorder = self.manager.dispatch_recorder
        if recorder is not None and recorder.takes(job):  # Bus.fake()
            job._lq_uuid = job_id
            recorder.record_dispatch(job, job_id)
            return job_id
        if debounce is not None:  # never unique (refused above)
            take_the_last_dispatch(job, debounce, self.manager.cache)
        if waits_for_django(job.options.after_commit, lambda: self._lock_and_push(job, job_id)):
            job._lq_uuid = job_id  # known now, pushed at the commit
            return job_id
        return self._lock_and_push(job, job_id)

    def _lock_and_push(self, job: Queueable, job_id: str) -> str | None:
        """A unique job takes its lock (None if another holds it); then the push, or the
        wait for the SQLAlchemy commit (a push that fails gives the lock back)."""
        if not isinstance(job, ShouldBeUnique):
            return self._push_or_defer(job, job_id)
        lock = unique_lock(job, job_id, self.manager.cache)
        if not lock.acquire():
            connection = self.manager.connection(self.manager.routes.connection_for(job))
            events.dispatch(events.UniqueJobSkipped(connection.name, job))
            return None
        try:
            return self._push_or_defer(job, job_id, on_discard=lock.release_or_let_expire)
        except BaseException:
            lock.release_or_let_expire()
            raise

    def push(self, job: Queueable, queue: str | None = None, delay: Delay | None = None) -> str:
        """Laravel's `Queue::push` / `Queue::later`: straight onto the job's connection (no
        unique lock, no after-commit)."""
        require_job_instance(job)
        connection = self.manager.connection(self.manager.routes.connection_for(job))
        return connection.push(job, queue=queue, delay=delay)

    def bulk(self, jobs: Iterable[Queueable], queue: str | None = None) -> list[str]:
        """Laravel's `Queue::bulk`: one round trip per connection where the transport allows
        (the default connection, unless jobs choose or are routed to others); the uuids in
        the order of `jobs`."""
        by_connection: dict[str | None, list[tuple[int, Queueable]]] = defaultdict(list)
        listed = [require_job_instance(job, "bulk()") for job in jobs]
        for index, job in enumerate(listed):
            by_connection[self.manager.routes.connection_for(job)].append((index, job))
        ids = [""] * len(listed)
        for name, numbered in by_connection.items():
            pushed = self.manager.connection(name).bulk([job for _, job in numbered], queue)
            for (index, _), job_id in zip(numbered, pushed, strict=True):
                ids[index] = job_id
        return ids

    def dispatch_sync(self, job: Queueable) -> str:
        """Run `job` now, in this process, through the worker's pipeline."""
        return self.manager.connection("sync").push(job)

    def _push_or_defer(
        self, job: Queueable, job_id: str, on_discard: Callable[[], object] | None = None
    ) -> str:
        if waits_for_sqlalchemy(
            job.options.after_commit, lambda: self._push(job, job_id), on_discard
        ):
            job._lq_uuid = job_id  # known now, pushed at the commit
            return job_id
        return self._push(job, job_id)

    def _push(self, job: Queueable, job_id: str) -> str:
        job.options.after_commit = None  # pushed: a later dispatch of it waits for nothing
        connection = self.manager.connection(self.manager.routes.connection_for(job))
        return connection.push(job, job_id=job_id)
