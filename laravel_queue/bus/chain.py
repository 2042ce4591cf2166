"""Chains (Laravel: `Bus::chain`, PendingChain, and CallQueuedHandler's chain handling).

The first job carries the rest of the chain in its `lq` header (Laravel's `$chained`). When a
job of the chain succeeds — its middleware ended it without calling `next`, or it deleted
itself, count as success; a release does not — the next job is dispatched through the same
path as any `dispatch()` (unique lock, `JobQueued`, encryption) with the rest of the chain.
When one fails for good, the chain's `catch` callbacks run once, and the chain stops. A failed
link retried with `lq failed:retry` is republished whole, header included, so the chain goes
on once it succeeds.

Why not Celery's own `chain`: Celery advances a chain whenever a task returns, so a released
job would start the next one; it publishes the next task itself, bypassing unique locks and
`JobQueued`; and it calls errbacks on every failed delivery. Each hop is still a Celery task
published from inside the previous one, so `parent_id`/`root_id` link them in Flower.
"""

from __future__ import annotations

from laravel_queue.bus.batch import dispatch_batch_link
from laravel_queue.bus.callbacks import Callback, callback_spec, invoke
from laravel_queue.bus.dispatcher import Dispatcher
from laravel_queue.bus.host import BusHost
from laravel_queue.durations import Delay
from laravel_queue.jobs.serialization import (
    ChainItem,
    ChainLinkable,
    apply_chain_defaults,
    job_from_link,
    link_for,
)
from laravel_queue.messages.payload import ChainState


class PendingChain:
    """A chain being built: `Bus.chain([A(1), B(1)]).on_queue("q").catch(notify).dispatch()`.

    `on_queue` / `on_connection` are defaults for the jobs that name none of their own (a
    job's own queue wins, as in Laravel); `delay` applies to the first job only, if it has
    none; `catch` callbacks are checked when passed (a lambda is refused, saying why).
    """

    def __init__(self, jobs: list[ChainItem], manager: BusHost) -> None:
        for job in jobs:
            link_for(job)
        self.jobs = list(jobs)
        self.manager = manager
        self.queue: str | None = None
        self.connection: str | None = None
        self.delay_seconds: Delay | None = None
        self.catch_callbacks: list[dict[str, object]] = []

    def on_queue(self, queue: str) -> PendingChain:
        self.queue = queue
        return self

    def on_connection(self, connection: str) -> PendingChain:
        self.connection = connection
        return self

    def delay(self, delay: Delay) -> PendingChain:
        self.delay_seconds = delay
        return self

    def catch(self, callback: Callback) -> PendingChain:
        """Run `callback(exc)` (or dispatch it, a Job) once if a job of the chain fails."""
        self.catch_callbacks.append(callback_spec(callback, "chain catch()"))
        return self

    def prepend(self, job: ChainItem) -> PendingChain:
        link_for(job)
        self.jobs.insert(0, job)
        return self

    def append(self, job: ChainItem) -> PendingChain:
        link_for(job)
        self.jobs.append(job)
        return self

    def dispatch(self) -> str | None:
        """Queue the first job carrying the rest; its uuid (None if it is a unique job whose
        lock is held, and then no job of the chain runs), or the id of the batch the chain
        starts with."""
        if not self.jobs:
            raise ValueError("a chain needs at least one job")
        first, *rest = self.jobs
        state = ChainState(
            links=[link_for(item) for item in rest],
            catch=[dict(spec) for spec in self.catch_callbacks],
            queue=self.queue,
            connection=self.connection,
        )
        manager = self.manager
        if isinstance(
            first, ChainLinkable
        ):  # Laravel wraps it in a ChainedBatch job; here it goes at once
            state.links.insert(0, link_for(first))
            return continue_chain(manager, state)
        if first.options.chain is not None:  # first.chain([...]) and then Bus.chain: both
            state.links.extend(first.options.chain.links)
        first.options.chain = state
        apply_chain_defaults(first, state)
        if first.options.delay is None and self.delay_seconds is not None:
            first.options.delay = self.delay_seconds
        return Dispatcher(manager).dispatch(first)


def continue_chain(
    manager: BusHost,
    state: ChainState,
    batch_id: str | None = None,
    batch_progress: bool = False,
) -> str | None:
    """Dispatch the head of `state` with the rest of the chain: a job carries the rest in
    its header; a batch carries it in its `finally` (Laravel: ChainedBatch). Returns the
    job's uuid (None if a unique job's lock is held), or the batch's id."""
    if not state.links:
        return None
    head, *links = state.links
    rest = ChainState(links, state.catch, state.queue, state.connection)
    if "batch" in head:
        return dispatch_batch_link(manager, head, rest)
    following = job_from_link(head)
    following.options.chain = rest
    following.options.batch_id = batch_id  # a chain inside a batch stays in it
    following.options.batch_progress = batch_progress
    apply_chain_defaults(following, state)
    return Dispatcher(manager).dispatch(following)


def invoke_chain_catch(manager: BusHost, state: ChainState, failure: BaseException) -> None:
    """A job of the chain failed for good: run the chain's `catch` callbacks, once."""
    for spec in state.catch:
        invoke(spec, manager, failure)
