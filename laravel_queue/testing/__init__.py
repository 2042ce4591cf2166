"""Test helpers: `Queue.fake()` and `Bus.fake()` record what would have been sent, and
`job.with_fake_queue_interactions()` lets a test call `handle()` and check what the job
asked of its queue (Laravel's queue and bus fakes). pytest fixtures: `queue_fake`,
`bus_fake` (the plugin `laravel_queue.pytest_plugin`, loaded automatically)."""

from __future__ import annotations

from laravel_queue.testing.bus_fake import BusFake
from laravel_queue.testing.fake_batch import FakeBatch
from laravel_queue.testing.queue_fake import PushedJob, QueueFake

__all__ = ["BusFake", "FakeBatch", "PushedJob", "QueueFake"]
