"""Kombu transports of laravel_queue's own (Redis and SQL with reliable fetch)."""
