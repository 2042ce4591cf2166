"""Laravel's facades on the current manager: `Queue`, `Bus`, `RateLimiter` (and `Limit`)."""

from laravel_queue.facades.bus import Bus
from laravel_queue.facades.queue import Queue
from laravel_queue.facades.rate_limiter import Limit, RateLimiter

__all__ = ["Bus", "Limit", "Queue", "RateLimiter"]
