"""What makes Celery run our jobs: the task class every job becomes (`task`), the request
class that holds a batched job's acknowledgement (`request`), configuring a Celery app
(`configure`), and recording plain Celery tasks' failures (`plain_tasks`)."""
