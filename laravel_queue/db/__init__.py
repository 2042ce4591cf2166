"""SQL storage: the failed-jobs table, the SQL cache and delayed-job tables."""
