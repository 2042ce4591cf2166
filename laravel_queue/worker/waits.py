"""Bootstep: `LongWaitDetected` when a queue's oldest pending job has waited too long.

Every `CHECK_SECONDS`, each worker reads when the oldest pending job of each queue it
consumes was pushed (one broker read per queue) and compares its wait with the queue's
threshold (`QueueManager(wait_thresholds=...)`, 60 s by default, as Horizon's `waits`). An
episode starts when a wait goes over the threshold: the first worker to see it marks it in
the cache store (`add`, so one worker fires, once) and fires the event; it ends when a
worker sees the wait back under the threshold, and the next one fires again. RabbitMQ cannot
tell the age of its oldest message, so the check does nothing there.
"""

from __future__ import annotations

import time
from typing import Any

from laravel_queue import events
from laravel_queue.manager import manager_for_app
from laravel_queue.worker.mover import consumed_queues
from laravel_queue.worker.steps import RepeatingStep

CHECK_SECONDS = 5.0
WAIT_THRESHOLD_SECONDS = 60.0
"""Horizon's default, for every queue not named in `wait_thresholds`."""
EPISODE_TTL_SECONDS = 24 * 3600.0
"""An episode nobody sees end (every worker stopped) is forgotten after a day."""


class WaitMonitor(RepeatingStep):
    timer_priority = 7
    doing = "checking how long the queues' oldest jobs wait"

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.queues: list[str] = []

    def interval(self, c: Any) -> float:
        return CHECK_SECONDS

    def start(self, c: Any) -> None:
        if not self.queues:
            self.queues = consumed_queues(c)  # as started: a paused queue still backs up
        super().start(c)

    def tick(self, c: Any) -> None:
        manager = manager_for_app(c.app)
        connection = manager.connection_for_app(c.app)
        now = time.time()
        for queue in self.queues:
            threshold = wait_threshold(manager.wait_thresholds, connection.name, queue)
            if threshold <= 0:
                continue
            oldest = connection.oldest_pending_at(queue)
            waited = 0.0 if oldest is None else now - oldest
            episode = f"long-wait:{connection.name}:{queue}"
            if waited <= threshold:
                manager.cache.forget(episode)
            elif manager.cache.add(episode, str(now), EPISODE_TTL_SECONDS):
                events.dispatch(events.LongWaitDetected(connection.name, queue, waited))


def wait_threshold(thresholds: dict[str, float], connection: str, queue: str) -> float:
    """Seconds the oldest pending job of `queue` may wait: `thresholds["connection:queue"]`,
    else `thresholds["queue"]`, else 60; 0 turns the check off."""
    found = thresholds.get(f"{connection}:{queue}", thresholds.get(queue))
    return WAIT_THRESHOLD_SECONDS if found is None else float(found)
