"""Where each job is: its status record in the cache store (`record.JobStatus`), written on
the transitions a job goes through anyway (`store.StatusStore`), the ones that may wait
written from a background thread (`writer.LaterWrites`)."""
