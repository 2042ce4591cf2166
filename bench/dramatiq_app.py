"""Dramatiq's side of bench/io_threads.py: the same 10 ms job on the same private Redis
(`LQ_BENCH_BROKER`), run by `dramatiq bench.dramatiq_app -p 1 -t 8`. Dramatiq is one of the
`bench` extra's peers, never a dependency of laravel_queue."""

from __future__ import annotations

import os
import time

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from bench.apps import IO_WAIT_SECONDS
from bench.counting import count

dramatiq.set_broker(RedisBroker(url=os.environ["LQ_BENCH_BROKER"]))


@dramatiq.actor(queue_name="bench-io", max_retries=0)
def waits_on_io() -> None:
    time.sleep(IO_WAIT_SECONDS)
    count()
