"""Metrics per job class and per queue (Laravel Horizon's metrics): what the workers ran,
how long each run took and how long each job waited, in one-minute buckets in the cache
store. `recorder` aggregates in each worker process, `store` keeps the buckets and the
totals, `report` reads them back as figures (`lq stats`, `Queue.metrics`)."""
