"""The dispatcher (Laravel: Bus\\Dispatcher, PendingDispatch and UniqueLock).

Every `dispatch()` takes this one path: the job's `prepare_for_dispatch()` may decline it
(dropped, `None`); a debounced job takes the last word in its debounce key and waits
(`bus.debounce`); a unique job takes its lock, owned by the new
job's uuid, or is dropped (`None`); a job given `after_commit(session)` inside a transaction
waits for the commit (and is dropped, its lock given back, on a rollback); then it is pushed
on its connection, which fires `JobQueued`. A push that fails gives the lock back.
`Queue.push/later/bulk` come here too and push directly, as in Laravel: no preparing, no
unique lock, no after-commit. Both follow the class routes (`Queue.route`).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from laravel_queue import events
from laravel_queue.bus.debounce import debounce_of, take_the_last_dispatch
from laravel_queue.bus.host import BusHost
from laravel_queue.bus.unique import ShouldBeUnique, unique_lock
from laravel_queue.durations import Delay
from laravel_queue.jobs.queueable import Queueable, require_job_instance


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
        job_id = str(uuid.uuid4())
        recorder = self.manager.dispatch_recorder
        if recorder is not None and recorder.takes(job):  # Bus.fake()
            job._lq_uuid = job_id
            recorder.record_dispatch(job, job_id)
            return job_id
        if debounce is not None:  # never unique (refused above)
            take_the_last_dispatch(job, debounce, self.manager.cache)
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
        session = job.options.after_commit
        if session is not None and session.in_transaction():
            job._lq_uuid = job_id  # known now, pushed at the commit
            self._push_after_commit(job, job_id, session, on_discard)
            return job_id
        return self._push(job, job_id)

    def _push(self, job: Queueable, job_id: str) -> str:
        connection = self.manager.connection(self.manager.routes.connection_for(job))
        return connection.push(job, job_id=job_id)

    def _push_after_commit(
        self, job: Queueable, job_id: str, session: Any, on_discard: Callable[[], object] | None
    ) -> None:
        """Laravel's afterCommit: push when the transaction commits, drop the job on rollback
        (`on_discard` then gives a unique job's lock back)."""
        # Imported here, not at the top: only a caller holding a SQLAlchemy session gets here,
        # and a worker or publisher that never passes one should not load SQLAlchemy.
        from sqlalchemy import event

        def on_commit(_session: Any) -> None:
            event.remove(session, "after_soft_rollback", on_rollback)
            job.options.after_commit = None
            try:
                self._push(job, job_id)
            except BaseException:
                if on_discard is not None:
                    on_discard()
                raise

        def on_rollback(_session: Any, _previous: Any) -> None:
            event.remove(session, "after_commit", on_commit)
            if on_discard is not None:
                on_discard()

        event.listen(session, "after_commit", on_commit, once=True)
        event.listen(session, "after_soft_rollback", on_rollback, once=True)
