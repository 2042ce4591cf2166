"""What a run needs of the manager above it (`QueueManager`), named here as a protocol so the
runtime knows no class above it."""

from __future__ import annotations

from typing import Protocol

from laravel_queue.bus.host import BusHost
from laravel_queue.jobs.models import ModelLoader
from laravel_queue.jobs.options import WorkerOptions
from laravel_queue.metrics.recorder import MetricsRecorder
from laravel_queue.status.cancels import Cancels
from laravel_queue.status.store import StatusStore


class RunHost(BusHost, Protocol):
    """The bus's needs, the worker's defaults for the job's settings, the jobs' statuses,
    the cancelled jobs, the metrics and where the jobs' models load from."""

    @property
    def worker_options(self) -> WorkerOptions: ...

    @property
    def status(self) -> StatusStore | None: ...

    @property
    def cancels(self) -> Cancels: ...

    @property
    def metrics(self) -> MetricsRecorder | None: ...

    @property
    def models(self) -> ModelLoader: ...
