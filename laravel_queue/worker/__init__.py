"""`lq work`: a Celery worker with Laravel's worker options and defaults."""
