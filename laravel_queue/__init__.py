"""laravel_queue: Laravel's queue ergonomics on top of Celery.

from laravel_queue import QueueManager, Job, Queue
"""

from laravel_queue.bus.batch import Batch
from laravel_queue.bus.callbacks import callback
from laravel_queue.bus.unique import ShouldBeUnique, ShouldBeUniqueUntilProcessing
from laravel_queue.dispatchable import Job
from laravel_queue.exceptions import QueueConnectionError
from laravel_queue.facades.bus import Bus
from laravel_queue.facades.queue import Queue
from laravel_queue.facades.rate_limiter import Limit, RateLimiter
from laravel_queue.manager import QueueManager
from laravel_queue.messages.encryption import ShouldBeEncrypted
from laravel_queue.scheduling.schedule import Schedule

__all__ = [
    "Batch",
    "Bus",
    "Job",
    "Limit",
    "Queue",
    "QueueConnectionError",
    "QueueManager",
    "RateLimiter",
    "Schedule",
    "ShouldBeEncrypted",
    "ShouldBeUnique",
    "ShouldBeUniqueUntilProcessing",
    "callback",
]
__version__ = "0.1.0"
