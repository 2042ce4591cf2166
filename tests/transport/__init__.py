"""Tests of laravel_queue.transport."""
