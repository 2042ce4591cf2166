"""Queue connections (Laravel: Illuminate\\Queue's drivers): the `Connection` interface,
the Celery connection, and pausing queues. The `sync` connection, which runs jobs, is
`runtime.sync`."""
