"""Failed jobs: the durable, replayable record of every final failure (DESIGN §4, §5).

`store` is `manager.failed` (record, list, find, forget, flush, prune, retry), `replay` builds
the message a retry publishes, `plain_tasks` records failures of ordinary Celery tasks.
"""

from .records import FailedJob
from .replay import NotRetryableError, RetryReport
from .store import FailedJobs

__all__ = ["FailedJob", "FailedJobs", "NotRetryableError", "RetryReport"]
