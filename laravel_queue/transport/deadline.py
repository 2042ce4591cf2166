"""How long a dispatch may wait for a broker that does not answer (`dispatch_timeout`).

Celery retries a failed publish (`task_publish_retry_policy`: 3 retries) and Kombu reconnects
between tries, each read waiting up to the broker's socket timeout: a frozen Redis (a network
partition looks the same) held `dispatch()` for 10.6 s. A `PublishDeadline` is Kombu's
`errback`, called before every retry and reconnection: a retry starts only while two more
socket waits (a reconnection's handshake and the write) still fit before the deadline, so a
broker that refuses at once is retried at once, and one that does not answer is given up on
in time. The socket timeouts themselves are at most half the deadline (`socket_timeout`).
"""

from __future__ import annotations

import time

# The default bound on one dispatch: connecting, writing and retrying together.
DISPATCH_TIMEOUT_SECONDS = 5.0
# The longest a broker or cache socket waits for one reply (unless the app sets its own).
SOCKET_TIMEOUT_SECONDS = 2.0


def socket_timeout(dispatch_timeout: float) -> float:
    """A socket wait short enough that a fresh connection (its handshake, then the write)
    fits in one dispatch: at most `SOCKET_TIMEOUT_SECONDS`."""
    return min(SOCKET_TIMEOUT_SECONDS, dispatch_timeout / 2)


class PublishDeadline:
    """Kombu's `errback(exc, interval)` for one dispatch: re-raises `exc` (ending the
    retries) once another try could not finish before the deadline."""

    def __init__(self, seconds: float, socket_wait: float) -> None:
        self.ends = time.monotonic() + seconds
        self.socket_wait = socket_wait

    def __call__(self, exc: BaseException, interval: float) -> None:
        if time.monotonic() + interval + 2 * self.socket_wait > self.ends:
            raise exc
