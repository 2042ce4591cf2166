"""The status of one run (`JobRun.status`), written on the transitions the run goes through:
started (`processing`, written only if it still runs a moment later), progress (throttled),
and how it ended (`released`, `succeeded`, `failed`, written at once and in order); the same
transitions as Celery states where the app has a result backend (`results.ResultMirror`)."""

from __future__ import annotations

import time
from dataclasses import replace

from celery import Celery

from laravel_queue.exceptions import describe
from laravel_queue.messages.payload import JobMessage
from laravel_queue.runtime.results import ResultMirror
from laravel_queue.status.record import JobStatus, Progress, State
from laravel_queue.status.store import StatusStore


class RunStatus:
    """What a run tells its job's status; nothing at all when tracking is off (`store` None:
    `status_ttl=0`, or a `sync` run, which is not queued)."""

    def __init__(
        self, store: StatusStore | None, first: JobStatus, mirror: ResultMirror | None = None
    ) -> None:
        self.store = store
        self.current = first
        self.mirror = mirror
        self._raised: BaseException | None = None

    @classmethod
    def of(
        cls,
        store: StatusStore | None,
        connection: str,
        message: JobMessage,
        app: Celery | None = None,
    ) -> RunStatus:
        """The status of a run of `message` (which has its `lq` header), as it was queued;
        mirrored into the result backend of `app`, if it has one."""
        header = message.lq
        assert header is not None
        return cls(
            store,
            JobStatus(
                id=header.uuid,
                state="pending",
                name=header.display_name,
                connection=connection,
                queue=message.queue,
                attempts=header.attempts,
                batch_id=header.batch_id,
                queued_at=header.pushed_at,
                tags=header.tags,
            ),
            ResultMirror.of(app, header.uuid),
        )

    def started(self, attempts: int) -> None:
        now = time.time()
        self._move("processing", now, attempts=attempts, started_at=now, available_at=None)
        if self.store is not None:
            self.store.running(self.current)
        if self.mirror is not None:
            self.mirror.started()

    def progressed(self, progress: Progress) -> None:
        if self._kept:
            self.current = replace(self.current, progress=progress, updated_at=time.time())
        if self.store is not None:
            self.store.progressed(self.current)
        if self.mirror is not None:
            self.mirror.progressed(progress)

    def raised(self, exc: BaseException) -> None:
        """The attempt raised `exc` (written with how the attempt ends)."""
        if self._kept:
            self.current = replace(self.current, exception=describe(exc))
        self._raised = exc

    def released(self, attempts: int, delay: float) -> None:
        now = time.time()
        self._end("released", now, attempts=attempts, available_at=now + delay)
        if self.mirror is not None:
            self.mirror.released(self._raised)

    def succeeded(self) -> None:
        now = time.time()
        self._move("succeeded", now, finished_at=now)
        if self.store is not None:
            self.store.ended(self.current)
        if self.mirror is not None:
            self.mirror.succeeded()

    def cancelled(self) -> None:
        now = time.time()
        self._end("cancelled", now, finished_at=now)
        if self.mirror is not None:
            self.mirror.cancelled()

    def debounced(self) -> None:
        self._done_without_running("debounced")

    def deleted(self) -> None:
        self._done_without_running("deleted")

    def _done_without_running(self, state: State) -> None:
        now = time.time()
        self._end(state, now, finished_at=now)
        if self.mirror is not None:
            self.mirror.succeeded()  # Laravel's worker sees such a job as done

    def failed(self, exc: BaseException) -> None:
        now = time.time()
        self._end("failed", now, exception=describe(exc), finished_at=now)
        if self.mirror is not None:
            self.mirror.failed(exc)

    def _end(self, state: State, now: float, **changes: object) -> None:
        self._move(state, now, **changes)
        if self.store is not None:
            self.store.record(self.current)

    @property
    def _kept(self) -> bool:
        """Whether anything keeps the status (else it is not worth updating)."""
        return self.store is not None or self.mirror is not None

    def _move(self, state: State, now: float, **changes: object) -> None:
        if self._kept:
            self.current = self.current.moved(state, now, **changes)
