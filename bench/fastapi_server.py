"""The FastAPI app `fastapi_dispatch.py` serves with uvicorn: three endpoints that differ
only in how (or whether) they dispatch, and a ticker measuring its own event loop's lag."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bench.apps import CountedJob

TICK = 0.005
lateness: list[float] = []


async def ticker() -> None:
    """Sleeps 5 ms over and over, noting how late it wakes: the loop's lag."""
    while True:
        start = time.perf_counter()
        await asyncio.sleep(TICK)
        lateness.append(time.perf_counter() - start - TICK)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    task = asyncio.create_task(ticker())
    yield
    task.cancel()


app = FastAPI(lifespan=lifespan)


@app.post("/none")
async def no_dispatch() -> dict[str, str | None]:
    return {"job": None}  # the floor: what serving the requests alone costs the loop


@app.post("/blocking")
async def blocking() -> dict[str, str | None]:
    return {"job": CountedJob.dispatch()}  # the mistake: the loop waits for the broker


@app.post("/async")
async def off_the_loop() -> dict[str, str | None]:
    return {"job": await CountedJob.dispatch_async()}


@app.post("/lag")
async def lag() -> dict[str, float]:
    """The p99 and the largest lag since the last call, in ms; starts a new window."""
    samples, lateness[:] = list(lateness), []
    p99 = statistics.quantiles(samples, n=100)[98] if len(samples) > 1 else max(samples, default=0)
    return {"p99": p99 * 1000, "max": max(samples, default=0) * 1000, "ticks": len(samples)}
