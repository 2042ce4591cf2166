"""Per-job priority levels within one queue: `critical`, `high`, `normal`, `low` (what the
PHP frameworks our users come from put on each job; Laravel reaches it only through queue
order), and what each level is in each broker's own terms.

Redis (Kombu's priority lists, taken in our order by the reliable fetch): a job with no level
is `normal` and stays in the queue's own list (priority 0), so queues written before levels
existed, and plain Celery tasks, read as `normal`; `low` is Kombu's priority 3, `high` 6,
`critical` 9, and the fetch takes 9, 6, 0, 3. RabbitMQ: message priority 3/2/1/0 on queues
declared with `x-max-priority` 3 (`app.conf.task_queue_max_priority = 3`); a message with no
priority counts as 0 there, so every job carries its level.
"""

from __future__ import annotations

from laravel_queue.exceptions import ConfigurationError

LEVELS = ("critical", "high", "normal", "low")
NORMAL = "normal"

REDIS = {"critical": 9, "high": 6, "normal": 0, "low": 3}
REDIS_FETCH_ORDER = (9, 6, 0, 3)  # Kombu's priority steps, in the order jobs are taken
AMQP = {"critical": 3, "high": 2, "normal": 1, "low": 0}
AMQP_MAX_PRIORITY = 3


def checked_level(level: object, what: str) -> str | None:
    """`level` if it is one of `LEVELS` (or None); else `ConfigurationError` naming `what`."""
    if level is None or level in LEVELS:
        return level
    raise ConfigurationError(f"{what}: unknown priority {level!r}; use one of {', '.join(LEVELS)}")


def redis_level(priority: int) -> str:
    """The level of a Kombu priority step."""
    return next((level for level, step in REDIS.items() if step == priority), NORMAL)
