"""The job as the queue sees it (`queueable.Queueable`), its options (`options`), what it may
ask of its queue (`interactions`), the registry of job classes, and a job to its message and
back (`serialization`). No I/O, no manager, no bus: the `Job` users subclass is
`laravel_queue.dispatchable.Job`, above them."""
