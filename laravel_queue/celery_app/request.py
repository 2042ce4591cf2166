"""`JobRequest`: Celery's request for job tasks (`JobTask.Request`), in the worker's main
process, where a batched job's success is counted with others before its message is
acknowledged (`worker.batch_counts`).

When the main process receives a batched job, the request marks the delivery
`SUCCESS_COUNTED_BY_WORKER`, so the pool process leaves a success to the main process; when
the job ends as a success, `acknowledge` hands the request to the worker's counter, which
acknowledges it once the success is counted. The counter is the worker's (`counters`, filled
by its `BatchCounts` step when the consumer starts), named here as a protocol.
"""

from __future__ import annotations

from typing import Any, Protocol

from celery.worker.request import Request

from laravel_queue.messages.payload import HEADER, SUCCESS_COUNTED_BY_WORKER

SUCCESSES = ("done", "deleted", "cancelled")  # how a job task reports a success (JobRun.outcome)


class HeldCounts(Protocol):
    """The worker's batch counter (`worker.batch_counts.BatchCounter`)."""

    @property
    def accepting(self) -> bool: ...

    def expect_counts(self) -> None: ...

    def hold(self, request: JobRequest) -> None: ...


# The counter of each app's running consumer (its main process), by id(app).
counters: dict[int, HeldCounts] = {}


class JobRequest(Request):  # type: ignore[misc]
    """Celery's request for job tasks (`JobTask.Request`), in the worker's main process."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Celery subclasses this class for each task (`create_request_cls`) with an
        `on_success` of its own, which is where the task's return value arrives: note there
        whether the job succeeded, before Celery acknowledges."""
        super().__init_subclass__(**kwargs)
        celery_on_success = cls.on_success

        def on_success(self: JobRequest, failed__retval__runtime: Any, **kw: Any) -> Any:
            failed, retval, _runtime = failed__retval__runtime
            self._lq_succeeded = not failed and str(retval).strip("'") in SUCCESSES
            return celery_on_success(self, failed__retval__runtime, **kw)

        cls.on_success = on_success

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lq_succeeded = False
        self._lq_took_a_slot = False  # raised the prefetch when held (`BatchCounter.hold`)
        self._lq_counter: HeldCounts | None = None
        self.batch_id = self.job_uuid = ""
        header = self._request_dict.get(HEADER)
        counter = counters.get(id(self._app))
        if counter is None or not counter.accepting or not isinstance(header, dict):
            return
        if header.get("batch_progress"):  # the job counts itself, in order with `progress`
            return
        batch_id, job_uuid = header.get("batch_id"), header.get("uuid")
        if isinstance(batch_id, str) and batch_id and isinstance(job_uuid, str):
            self.batch_id, self.job_uuid = batch_id, job_uuid
            self._lq_counter = counter
            counter.expect_counts()
            self._delivery_info[SUCCESS_COUNTED_BY_WORKER] = True  # the pool process reads it

    def acknowledge(self) -> None:
        counter, self._lq_counter = self._lq_counter, None
        if counter is not None and self._lq_succeeded and not self.acknowledged:
            counter.hold(self)  # acknowledged once the success is counted
            return
        super().acknowledge()

    def acknowledge_now(self) -> None:
        super().acknowledge()

    @property
    def delivery_tag(self) -> str:
        return str(self.message.delivery_tag)
