"""The bus (Laravel: Illuminate\\Bus): the dispatcher, unique locks, chains, batches, their
callbacks, counting a batched job's outcome, and the `job_batches` repository."""
