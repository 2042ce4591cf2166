"""The cache store: locks, counters and keys on Redis, SQL or memory (one interface)."""
