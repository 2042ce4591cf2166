"""The listener registry (Laravel: the events Dispatcher) and `dispatch`, which fires an event
to its listeners and to the Celery-style signal of the same name (`events.signals`).

Listen with `Queue.listen(JobFailed, fn)` or the shortcuts (`Queue.failing(fn)`, ...), or
connect to the signal. Listeners are process-global, like Laravel's event dispatcher:
register them at import time of your app module and they run in every worker process. A
listener that raises is logged and ignored, so it can never break a job or a worker.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from laravel_queue.events.signals import by_event, send

logger = logging.getLogger("laravel_queue.events")

E = TypeVar("E")
Listener = Callable[[Any], Any]


@dataclass
class Listeners:
    """The listeners of each event class, called for an event of it or of a subclass
    (Laravel's events `Dispatcher`; `dispatch()` below is what fires an event)."""

    listeners: dict[type, list[Listener]] = field(default_factory=lambda: defaultdict(list))

    def listen(self, event: type[E], listener: Callable[[E], Any]) -> Callable[[E], Any]:
        self.listeners[event].append(listener)
        return listener

    def forget(self, event: type, listener: Listener | None = None) -> None:
        if listener is None:
            self.listeners.pop(event, None)
        elif listener in self.listeners.get(event, []):
            self.listeners[event].remove(listener)

    def dispatch(self, event: object) -> None:
        self.until(event)

    def until(self, event: object) -> object:
        """Call every listener; the first answer that is not None (Laravel's `until`, which
        the worker reads for `Looping`: False holds it)."""
        answer = None
        for cls in type(event).__mro__:
            for listener in self.listeners.get(cls, ()):
                try:
                    result = listener(event)
                except Exception:
                    logger.exception("listener %r of %s raised; ignored", listener, cls.__name__)
                    continue
                if answer is None:
                    answer = result
        return answer


listeners = Listeners()


def dispatch(event: object) -> object:
    """Fire `event` to its listeners and to the signal of the same name; the listeners'
    first answer that is not None."""
    answer = listeners.until(event)
    send(event)
    return answer


def listened(event: type) -> bool:
    """Whether a listener or a signal receiver waits for events of class `event`: what
    costs something to deliver (a job of its own) is skipped when nobody would hear it."""
    signal = by_event.get(event)
    registered = listeners.listeners
    return any(registered.get(cls) for cls in event.__mro__) or bool(
        signal is not None and signal.receivers
    )
