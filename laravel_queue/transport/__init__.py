"""Kombu transports of laravel_queue's own (Redis with reliable fetch)."""
