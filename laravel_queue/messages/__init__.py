"""What travels and what is kept of it: the job message and its `lq` header (`payload`), the
JSON encoding of a job's state (`encoding`) and its encryption (`encryption`), and the plain
records of a failed job and of a batch (`records`, `batch_record`). Plain values: no I/O, no
job class, no manager."""
