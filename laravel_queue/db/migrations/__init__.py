"""Alembic migrations of laravel_queue's tables, run by `lq migrate` and on first use."""
