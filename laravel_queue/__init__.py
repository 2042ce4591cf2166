"""laravel_queue: Laravel's queue ergonomics on top of Celery.

from laravel_queue import QueueManager, Job, Queue
"""

from . import (
    batch_outcomes,  # noqa: F401 - counts a batched job's outcome when it ends
    job_task,  # noqa: F401 - makes every Job class a Celery task
)
from .batches import Batch
from .bus import Bus
from .callbacks import callback
from .encryption import ShouldBeEncrypted
from .exceptions import QueueConnectionError
from .job import Job
from .limits import Limit, RateLimiter
from .manager import QueueManager
from .queue import Queue
from .unique import ShouldBeUnique, ShouldBeUniqueUntilProcessing

__all__ = [
    "Batch",
    "Bus",
    "Job",
    "Limit",
    "Queue",
    "QueueConnectionError",
    "QueueManager",
    "RateLimiter",
    "ShouldBeEncrypted",
    "ShouldBeUnique",
    "ShouldBeUniqueUntilProcessing",
    "callback",
]
__version__ = "0.1.0"
