"""The `job_batches` store: `record.BatchRecord` (a row, as a value) and `sql.BatchRepository`
(the table, with exact counters). Kept apart so the SQL driver loads only when a batch is
actually counted or read.
"""
