"""The worker-side pipeline for one job (Laravel: Worker::process + CallQueuedHandler::call).

Read top to bottom, `JobRun.process` is the whole flow: count the attempt → `JobProcessing` →
fail without running if attempts are used up → decode → middleware → `handle` → settle
(success, release with backoff, or failure) → `JobAttempted`. Everything that must outlive
the message (a release, a `failed_jobs` row) is written before the task returns, and the
message is acknowledged only after the task returns (`acks_late`).

Attempts are counted as in Laravel — every reservation spends one — but without a store write
per job: a release republishes the message with the attempts so far in its `lq` header, and
only a *redelivered* message (its worker died, or its visibility timeout ran out) bumps a
counter in the cache store. See docs/internals/attempts.md.
"""

from __future__ import annotations

import inspect
import logging
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace

from celery.exceptions import SoftTimeLimitExceeded

from laravel_queue import events, tracing
from laravel_queue.bus.batch_outcomes import count_outcome
from laravel_queue.bus.chain import continue_chain, invoke_chain_catch
from laravel_queue.bus.debounce import replaced_by_a_later_dispatch
from laravel_queue.connections.base import Connection
from laravel_queue.durations import Delay, to_seconds
from laravel_queue.exceptions import (
    JobDecodeError,
    ManuallyFailedError,
    MaxAttemptsExceededError,
    ModelNotFoundError,
    TimeoutExceededError,
    describe,
    user_traceback,
)
from laravel_queue.jobs.models import RunModels
from laravel_queue.jobs.options import WorkerOptions
from laravel_queue.jobs.queueable import Queueable
from laravel_queue.jobs.serialization import decode_job
from laravel_queue.messages.payload import ChainState, JobMessage, LqHeader
from laravel_queue.runtime import interrupting, thread_timeouts
from laravel_queue.runtime.host import RunHost
from laravel_queue.runtime.pipeline import (
    call_failed_hook,
    give_back_unique_lock,
    named,
    run_through_middleware,
)
from laravel_queue.runtime.tracking import RunStatus
from laravel_queue.status.record import Progress

logger = logging.getLogger("laravel_queue.worker")


# A redelivery counter only needs to outlive the redeliveries of one publication.
REDELIVERY_COUNTER_TTL = 7 * 24 * 3600
DIED = "; the previous reservation never finished (its worker was killed or lost)"


class JobRun:
    """One reservation of one job message (Laravel: the queue Job object a worker pops).

    Listeners receive it as `event.job`: `job_id`, `name`, `attempts`, `message`, `instance`.
    """

    def __init__(
        self,
        manager: RunHost,
        connection: Connection,
        job_class: type[Queueable],
        message: JobMessage,
        *,
        redelivered: bool = False,
        sync: bool = False,
        success_counted_by_worker: bool = False,
    ) -> None:
        self.manager = manager
        self.connection = connection
        self.job_class = job_class
        self.message = message
        header = message.lq
        assert header is not None, "a JobRun needs a message with an lq header"
        self.header: LqHeader = header
        self.redelivered = redelivered
        self.sync = sync
        # A batched job's success is counted by the worker's main process, with others.
        self.success_counted_by_worker = success_counted_by_worker
        self.attempts = 0
        self.exceptions = self.header.exceptions
        self.instance: Queueable | None = None
        self.models: RunModels | None = None  # the models the job carries, once loaded
        # The middleware running now (a one-item list), so a release can say who made it.
        self.in_middleware: list[object] | None = None
        self.released = self.failed = self.deleted = self.is_cancelled = False
        self.span: tracing.Span | None = None  # the run's OpenTelemetry span, when tracing
        self.status = RunStatus.of(
            None if sync else manager.status,
            connection.name,
            message,
            None if sync else getattr(connection, "app", None),
        )

    @property
    def job_id(self) -> str:
        return self.header.uuid

    @property
    def name(self) -> str:
        return self.header.display_name

    @property
    def connection_name(self) -> str:
        return self.connection.name

    @property
    def outcome(self) -> str:
        if self.failed:
            return "failed"
        if self.is_cancelled:
            return "cancelled"
        return "released" if self.released else "deleted" if self.deleted else "done"

    # -- the flow ----------------------------------------------------------------------------

    def process(self) -> None:
        self.attempts = self._count_attempt()
        if self._cancelled_before_it_ran():
            self._forget_counters_when_done()
            return
        header = self.header
        with tracing.running(
            self.name,
            self.job_id,
            self.message.queue,
            self.connection_name,
            header.trace,
            attempt=self.attempts,
            batch_id=header.batch_id,
        ) as span:
            self.span = span
            self._run()
        self._forget_counters_when_done()

    def _run(self) -> None:
        started = time.time()
        self.status.started(self.attempts)
        events.dispatch(events.JobProcessing(self.connection_name, self))
        exception_occurred = False
        try:
            self._fail_if_already_exceeds_max_attempts()
            self.instance = self._decode()
            # A job whose models are gone, or debounced, is processed too, without running.
            if self.instance is not None and not self._debounced():
                cancels = None if self.sync else self.manager.cancels
                with interrupting.running(self.instance, self.job_id, cancels), self._limited():
                    run_through_middleware(
                        self, self.instance, self.job_id, self.manager.cache, self.timeout
                    )
                if not (self.released or self.failed):  # Laravel: CallQueuedHandler::call
                    self._ensure_next_job_in_chain_is_dispatched()  # failing to queue: retry
                    self._ensure_successful_batch_job_is_recorded()
                    self.status.succeeded()
            duration = time.time() - started
            events.dispatch(events.JobProcessed(self.connection_name, self, duration))
            if self.released:  # by the job or a middleware (Laravel 13: JobReleased)
                events.dispatch(events.JobReleased(self.connection_name, self))
        except SoftTimeLimitExceeded:
            exception_occurred = True
            self._handle_timeout()
        except Exception as exc:
            exception_occurred = True
            self._handle_exception(exc)
        finally:
            if self.instance is not None:
                self.instance._lq_run = None
            if self.models is not None:
                self.models.close()
            events.dispatch(events.JobAttempted(self.connection_name, self, exception_occurred))
            self._count_in_metrics(started)

    def _count_in_metrics(self, started: float) -> None:
        """The run in the worker's metrics (and how it ended, on its span)."""
        tracing.ended(self.span, self.outcome)
        metrics = None if self.sync else self.manager.metrics
        if metrics is None:
            return
        header = self.header
        metrics.record(
            self.connection_name,
            self.message.queue,
            self.name,
            "failed" if self.failed else "released" if self.released else "processed",
            time.time() - started,
            max(started - header.runnable_since, 0.0),
            header.tags or (),
        )

    def _cancelled_before_it_ran(self) -> bool:
        """A job cancelled while it waited is acknowledged without running: no `failed()`,
        its chain stops, and in a batch it counts as a cancelled batch's jobs do in Laravel
        (processed); a unique job's lock is given back."""
        if not self.cancelled():
            return False
        self.is_cancelled = True
        self.status.cancelled()
        events.dispatch(events.JobCancelled(self.connection_name, self))
        self._ensure_successful_batch_job_is_recorded()
        give_back_unique_lock(self.job_class, self.message, self.job_id, self.manager.cache)
        logger.info("cancelled %s[%s]: not run", self.name, self.job_id)
        return True

    def _debounced(self) -> bool:
        """A debounced job that a later dispatch replaced ends here, before its middleware,
        as deleted: no `handle()`, no chain (Laravel 13: CallQueuedHandler's debounce
        check). A job run in-process (`dispatch_sync`, the sync connection) always runs."""
        if self.sync or not replaced_by_a_later_dispatch(self.header, self.manager.cache):
            return False
        self.deleted = True
        self.status.debounced()
        events.dispatch(events.JobDebounced(self.connection_name, self))
        logger.info("debounced %s[%s]: a later dispatch replaced it", self.name, self.job_id)
        return True

    def cancelled(self) -> bool:
        return not self.sync and self.manager.cancels.is_cancelled(self.job_id)

    def _count_attempt(self) -> int:
        attempts = self.header.attempts + 1
        if self.redelivered and not self.sync:
            # The message came back without being settled: its earlier reservation(s) died.
            key = f"redeliveries:{self.job_id}:{self.header.pushed_at}"
            attempts += self.manager.cache.increment(key, ttl=REDELIVERY_COUNTER_TTL)
        return attempts

    def _fail_if_already_exceeds_max_attempts(self) -> None:
        deadline = self.header.retry_until
        if deadline is not None:
            exceeded = time.time() > deadline
        else:
            max_tries = self.max_tries
            exceeded = max_tries != 0 and self.attempts > max_tries
        if exceeded:
            exc = MaxAttemptsExceededError(
                f"{self.name} has been attempted too many times "
                f"({self.attempts} reservations, tries={self.max_tries}"
                f"{', retry_until passed' if deadline is not None else ''}"
                f"{DIED if self.redelivered else ''})"
            )
            self.fail(exc)
            raise exc

    def _decode(self) -> Queueable | None:
        """The job, its models loaded fresh; None when one of them is gone (settled)."""
        self.models = self.manager.models.for_run()
        try:
            job = decode_job(self.job_class, self.message, self.models)
        except ModelNotFoundError as exc:
            self._settle_missing_models(exc)
            return None
        except Exception as exc:
            # Deterministic: retrying cannot help, so the job fails at once with the reason.
            error = (
                exc
                if isinstance(exc, JobDecodeError)
                else JobDecodeError(f"cannot rebuild {self.name} from its message: {exc!r}")
            )
            self.fail(error)
            raise error from exc
        job._lq_uuid = self.job_id
        job._lq_run = self
        job.options.chain = self.header.chain_state()  # handle() may add to it
        job.options.batch_id = self.header.batch_id
        return job

    def _limited(self) -> AbstractContextManager[None]:
        """The job's timeout on the `threads` pool (`thread_timeouts`); an async job's
        coroutine has its own on its loop, and a run in the caller's process has none."""
        if self.sync or inspect.iscoroutinefunction(self.job_class.handle):
            return nullcontext()
        return thread_timeouts.limited(self.timeout)

    def _settle_missing_models(self, exc: ModelNotFoundError) -> None:
        """Laravel: CallQueuedHandler::handleModelNotFound. With `delete_when_missing_models`
        the job is deleted (its batch counts a success, its unique lock goes, its chain
        stops); otherwise it fails at once, whatever its tries: the row will not come back."""
        if not self.job_class.delete_when_missing_models:
            self.fail(exc)
            return
        self.deleted = True
        self.status.deleted()
        self._ensure_successful_batch_job_is_recorded()
        give_back_unique_lock(self.job_class, self.message, self.job_id, self.manager.cache)
        logger.info("deleted %s[%s]: %s", self.name, self.job_id, exc.gone)

    # -- settling ----------------------------------------------------------------------------

    def _handle_exception(self, exc: Exception) -> None:
        """Laravel: Worker::handleJobException."""
        self.status.raised(exc)
        tracing.raised(self.span, exc)
        try:
            if not self.failed and (self._exception_is_final() or self.sync):
                self.fail(exc)
            events.dispatch(events.JobExceptionOccurred(self.connection_name, self, exc))
        finally:
            if not (self.deleted or self.released or self.failed):
                backoff = self._backoff()
                self._release(backoff, count_attempt=True)
                events.dispatch(
                    events.JobReleasedAfterException(self.connection_name, self, backoff)
                )
                logger.warning(
                    "%s[%s] raised %s on %s; released for %gs",
                    self.name,
                    self.job_id,
                    describe(exc),
                    self.attempt_text,
                    backoff,
                )
                logger.debug("%s[%s] raised", self.name, self.job_id, exc_info=exc)
        if self.sync or self.failed:
            raise exc  # Celery reports it as the task's failure; the row is already written

    def _handle_timeout(self) -> None:
        """Laravel's timeout handler, minus killing the worker (Celery recovers the child)."""
        exc = TimeoutExceededError(f"{self.name} has timed out after {self.timeout}s")
        self.status.raised(exc)
        tracing.raised(self.span, exc)
        if not self.failed and (self._exception_is_final() or self.header.fail_on_timeout):
            self.fail(exc)
        events.dispatch(events.JobTimedOut(self.connection_name, self))
        if not (self.failed or self.released or self.deleted):
            # Laravel leaves the job reserved until retry_after; our equivalent is to put it
            # back at once, without the exception backoff (docs/differences.md).
            self.release(0)
        if self.failed:
            raise exc

    def _will_exceed_max_attempts(self) -> bool:
        deadline = self.header.retry_until
        if deadline is not None:
            return deadline <= time.time()
        return self.max_tries > 0 and self.attempts >= self.max_tries

    def _exception_is_final(self) -> bool:
        """Count the exception and say whether it ends the job: attempts used up, or Laravel's
        `maxExceptions` reached. Every one is counted (carried in the `lq` header across
        releases), so the failed row also says how many there were."""
        self.exceptions += 1
        limit = self.header.max_exceptions
        return self._will_exceed_max_attempts() or bool(limit and self.exceptions >= limit)

    def _backoff(self) -> float:
        steps = self.header.backoff or self.options.backoff
        if not steps:
            return 0.0
        index = self.attempts - 1
        return float(steps[index] if index < len(steps) else steps[-1])

    def _forget_counters_when_done(self) -> None:
        if self.redelivered and not self.released and not self.sync:
            self.manager.cache.forget(f"redeliveries:{self.job_id}:{self.header.pushed_at}")

    # -- what a job may call while it runs (Laravel: InteractsWithQueue) ----------------------

    def release(self, delay: Delay = 0, *, count_attempt: bool = True) -> None:
        """Publish the job again after `delay`; the next reservation is attempt + 1, or the
        same attempt again with `count_attempt=False` (a job that only waited its turn)."""
        if self._release(delay, count_attempt=count_attempt):
            by = f" by {named(self.in_middleware[0])}" if self.in_middleware else ""
            logger.info(
                "released %s[%s]%s for %gs (%s)",
                self.name,
                self.job_id,
                by,
                to_seconds(delay),
                self.attempt_text,
            )

    def _release(self, delay: Delay, *, count_attempt: bool) -> bool:
        if self.released or self.failed:
            return False
        self.released = True
        if self.sync:
            return True
        spent = self.attempts if count_attempt else self.attempts - 1
        header = self.header.republished(attempts=spent, exceptions=self.exceptions)
        self.status.released(spent, to_seconds(delay))  # before another worker can take it
        self.connection.publish(self.message.with_lq(header), to_seconds(delay))
        return True

    def delete(self) -> None:
        self.deleted = True

    def progress(self, current: float, total: float | None = None, message: str = "") -> None:
        """How far the job has come: its status (written at most every quarter second, the
        last value always) and `JobProgressed`, fired on every call."""
        progress = Progress(current, total, message)
        self.status.progressed(progress)
        events.dispatch(events.JobProgressed(self.connection_name, self, progress))

    def fail(self, exc: BaseException | str | None = None) -> None:
        """Laravel: Job::fail — `failed()` on a fresh instance, `JobFailed`, the failed_jobs row."""
        if self.failed:
            return
        self.failed = True
        if not isinstance(exc, BaseException):
            exc = ManuallyFailedError(exc or f"{self.name} was marked as failed")
        where = f"\n{user_traceback(exc) or ''}".rstrip()  # the job's own frames, once
        logger.error(
            "failed %s[%s] on %s: %s%s",
            self.name,
            self.job_id,
            self.attempt_text,
            describe(exc),
            where,
        )
        try:  # Laravel: CallQueuedHandler::failed
            self._ensure_failed_batch_job_is_recorded(exc)
            self._ensure_chain_catch_callbacks_are_invoked(exc)
        except Exception:
            logger.exception("%s[%s]: its batch or chain could not settle", self.name, self.job_id)
        self._call_failed_hook(exc)
        events.dispatch(events.JobFailed(self.connection_name, self, exc))
        self._record_failure(exc)

    def chain_state(self) -> ChainState | None:
        """The chain after this job, as `handle()` left it."""
        if self.instance is not None:
            return self.instance.options.chain
        return self.header.chain_state()

    # -- the steps of settling, by name (Laravel: CallQueuedHandler's ensure* methods) ----

    def _ensure_next_job_in_chain_is_dispatched(self) -> None:
        state = self.chain_state()
        if state is not None:
            continue_chain(self.manager, state, self.header.batch_id, self.header.batch_progress)

    def _ensure_successful_batch_job_is_recorded(self) -> None:
        """Unless the worker's main process counts it, with others, once the job has ended
        (`worker.batch_counts`)."""
        if self.header.batch_id and not self.success_counted_by_worker:
            count_outcome(self.manager, self.header.batch_id, self.job_id, None)

    def _ensure_failed_batch_job_is_recorded(self, exc: BaseException) -> None:
        if self.header.batch_id:
            count_outcome(self.manager, self.header.batch_id, self.job_id, exc)

    def _ensure_chain_catch_callbacks_are_invoked(self, exc: BaseException) -> None:
        state = self.chain_state()
        if state is not None:
            invoke_chain_catch(self.manager, state, exc)

    def _record_failure(self, exc: BaseException) -> None:
        """The `failed_jobs` row (`manager.failed.log`); Laravel's sync driver stores no
        failures either (semantics §0.5). The row's header says how many attempts and
        exceptions there were in the end, as the payload of a Laravel job reserved from Redis
        does."""
        if not self.sync:
            outcome = replace(self.header, attempts=self.attempts, exceptions=self.exceptions)
            self.manager.failed.log(self.message.with_lq(outcome), exc)
            self.status.failed(exc)

    def _call_failed_hook(self, exc: BaseException) -> None:
        call_failed_hook(
            self.job_class, self.message, self.job_id, self.manager.cache, exc, self.manager.models
        )

    # -- settings resolved against the worker's defaults -------------------------------------

    @property
    def options(self) -> WorkerOptions:
        return self.manager.worker_options

    @property
    def timeout(self) -> float:
        """Seconds this run may take (0 = no limit): the job's own, else the worker's."""
        timeout = self.header.timeout
        return float(self.options.timeout if timeout is None else timeout)

    @property
    def attempt_text(self) -> str:
        """`attempt 2/3` (or `2/unlimited`), as the log says it."""
        return f"attempt {self.attempts}/{self.max_tries or 'unlimited'}"

    @property
    def max_tries(self) -> int:
        if self.sync:
            return 1
        tries = self.header.max_tries
        return int(self.options.tries if tries is None else tries)
