"""One job's run in a worker (Laravel: Worker::process and CallQueuedHandler): `job_run.JobRun`,
the middleware pipeline, and the `sync` connection that runs a job in the calling process."""
