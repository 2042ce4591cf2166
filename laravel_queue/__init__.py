"""laravel_queue: Laravel's queue ergonomics on top of Celery.

from laravel_queue import QueueManager, Job, Queue
"""

from .exceptions import QueueConnectionError
from .job import Job
from .manager import QueueManager
from .queue import Queue

__all__ = ["Job", "Queue", "QueueConnectionError", "QueueManager"]
__version__ = "0.1.0"
