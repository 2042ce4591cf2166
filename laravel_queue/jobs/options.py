"""Options of a job's run: what one dispatch chose (`DispatchOptions`, Laravel's
PendingDispatch) and the worker's defaults for every job it runs (`WorkerOptions`, the
options of `lq work`, with Laravel's defaults)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from laravel_queue.durations import Delay
from laravel_queue.messages.payload import ChainState

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

DEFAULT_WORKER_NAME = "default"


@dataclass
class WorkerOptions:
    name: str = DEFAULT_WORKER_NAME
    """The node name's first half; Celery's `%h`, `%n`, `%d` work in a name with its own `@`."""
    queues: list[str] = field(default_factory=lambda: ["default"])
    concurrency: int = 1
    pool: str = "prefork"
    once: bool = False
    stop_when_empty: bool = False
    max_jobs: int = 0
    max_time: float = 0
    sleep: float | None = None
    """Seconds a polling transport waits when it finds no job; None: 0.1 s on the SQL broker,
    Laravel's 3 s elsewhere (Redis and RabbitMQ deliver at once either way)."""
    rest: float = 0
    timeout: float = 60
    """Default for jobs whose `timeout` is None; 0 = no limit."""
    tries: int = 1
    """Default for jobs whose `tries` is None; 0 = unlimited."""
    backoff: list[int] = field(default_factory=lambda: [0])
    """Default for jobs whose `backoff` is None."""
    memory: int = 128
    """Megabytes; a worker process above it stops the worker with exit code 12."""
    wait_for_delayed: bool = False
    """With stop_when_empty: also wait for delayed jobs not yet due (used by `lq demo`)."""
    managed: bool = False
    """True when run by `lq work`: only then do the stop conditions apply."""
    mover_interval: float = 0.5
    """Seconds between two moves of due delayed jobs to their queues."""

    @property
    def job_limit(self) -> int:
        """How many jobs to take before stopping (0 = no limit)."""
        return 1 if self.once else self.max_jobs


@dataclass(frozen=True)
class Debounce:
    """Of a burst of dispatches with one debounce key, only the last runs, `seconds` after
    it; `max_wait` seconds after a burst's first dispatch, the next one runs at once."""

    seconds: float
    max_wait: float | None = None


@dataclass(frozen=True)
class AfterCommit:
    """`job.after_commit(...)`: push once this transaction commits — the SQLAlchemy
    `session`'s, else Django's on the `using` database (None: Django's default)."""

    session: Session | None = None
    using: str | None = None


@dataclass
class DispatchOptions:
    """Per-dispatch choices made with the fluent methods (Laravel: PendingDispatch)."""

    queue: str | None = None
    connection: str | None = None
    delay: Delay | None = None
    after_commit: AfterCommit | None = None
    chain: ChainState | None = None
    """The jobs to run after this one (`job.chain([...])`, `Bus.chain`, and in a worker the
    rest of the chain this job belongs to)."""
    batch_id: str | None = None
    """The batch the job belongs to (set by `Bus.batch`; in a worker, from its header)."""
    batch_index: int | None = None
    """Its place in the batch (Celery's `group_index`)."""
    priority: str | None = None
    """`job.on_priority(...)`: wins over the class's `priority`."""
    debounce: Debounce | None = None
    """`job.debounce(...)`: wins over the class's `debounce_for`/`debounce_max_wait`."""
    debounce_owner: list[str] | None = None
    """[debounce key, this dispatch's token], set by the dispatcher (`bus.debounce`)."""
    batch_progress: bool = False
    """The batch has `progress` callbacks: the job counts its own success, so they fire in
    order, right after it (other batched jobs leave that to the worker's main process)."""
