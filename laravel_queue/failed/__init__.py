"""Failed jobs: the durable, replayable record of every final failure (DESIGN §4, §5).

`store` is `manager.failed` (record, list, search, find, forget, flush, prune, retry), `search`
what a search asks for, `replay` builds the message a retry publishes, `repository` is the
SQL table. Failures of ordinary Celery tasks
are recorded by `celery_app.plain_tasks`.
"""

from laravel_queue.failed.replay import NotRetryableError, RetryReport
from laravel_queue.failed.search import FailedSearch
from laravel_queue.failed.store import FailedJobs
from laravel_queue.messages.records import FailedJob

__all__ = ["FailedJob", "FailedJobs", "FailedSearch", "NotRetryableError", "RetryReport"]
