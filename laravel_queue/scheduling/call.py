"""`Schedule.call(function)`: the function runs as a job on a worker, never in the scheduler
(Laravel runs a closure in the scheduler's own process; here the scheduler only dispatches,
so a slow function never delays the next due event)."""

from __future__ import annotations

from laravel_queue.bus.callbacks import registered_function
from laravel_queue.dispatchable import Job


class CallsFunction(Job):
    """Calls a `@callback` function, named by its `module:qualname`, with no arguments."""

    def __init__(self, function: str) -> None:
        self.function = function

    def handle(self) -> None:
        registered_function(self.function)()

    def tags(self) -> list[str]:
        """Which function: what `lq failed --tag` and the dashboard find it by."""
        return [f"function:{self.function.replace(':', '.')}"]
