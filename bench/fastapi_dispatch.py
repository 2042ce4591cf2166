"""A FastAPI endpoint dispatching under load: how late its event loop runs, with
`await Job.dispatch_async()` against a plain `dispatch()` called in the endpoint.

    .venv/bin/python bench/fastapi_dispatch.py --requests 1000 --rounds 3

uvicorn serves `bench/fastapi_server.py` in its own process; 50 concurrent clients in this
process post 1,000 requests in all, each request dispatching one no-op job onto a private
redis-server, while a ticker in the server sleeps 5 ms in a loop and records how late it
wakes: the loop's lag. A third endpoint dispatches nothing, to show what serving the
requests alone costs. The broker and the store sit behind a proxy that delays each way by
half of `--rtt-ms` (1 ms by default: a managed Redis in the same region). Target: the p99 lag
with `dispatch_async` at most half the blocking dispatch's; the floor (no dispatch) is shown.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.servers import delayed, ending_with_this_process, use_private, use_private_broker  # noqa: E402

use_private_broker()

from bench.measure import Row, interleaved, report, report_arguments  # noqa: E402

CLIENTS = 50


def serve(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        ending_with_this_process(
            [
                *(sys.executable, "-m", "uvicorn", "bench.fastapi_server:app"),
                *("--port", str(port), "--log-level", "warning", "--no-access-log"),
            ]
        ),
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
    )
    for _ in range(200):
        try:
            asyncio.run(load(port, "/none", CLIENTS))
            return server, port
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise RuntimeError("uvicorn did not start")


async def post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str) -> bytes:
    """One keep-alive HTTP/1.1 POST and its body: a client light enough that the server, not
    the client, is what a run measures (httpx tops out near 250 requests/s here)."""
    writer.write(f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Length: 0\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(head.decode(errors="replace"))
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return await reader.readexactly(length)


async def load(port: int, path: str, requests: int) -> tuple[float, float]:
    """(p99 loop lag in ms, requests/s) of `requests` posts to `path` from CLIENTS clients."""

    async def client(count: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(count):
            await post(reader, writer, path)
        writer.close()

    async def lag() -> dict[str, float]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        body = await post(reader, writer, "/lag")
        writer.close()
        return dict(json.loads(body))

    await lag()  # a new window
    started = time.perf_counter()
    await asyncio.gather(*(client(requests // CLIENTS) for _ in range(CLIENTS)))
    elapsed = time.perf_counter() - started
    return float((await lag())["p99"]), requests / elapsed


def rows(requests: int, rounds: int, rtt: float) -> list[Row]:
    broker, cache = os.environ["LQ_BENCH_BROKER"], use_private("LQ_BENCH_CACHE")
    with delayed(broker, rtt) as far_broker, delayed(cache, rtt) as far_cache:
        server, port = serve({"LQ_BENCH_BROKER": far_broker, "LQ_BENCH_CACHE": far_cache})
        try:
            samples = interleaved(
                rounds,
                {
                    path: lambda r, path=path: asyncio.run(load(port, f"/{path}", requests))
                    for path in ("blocking", "async", "none")
                },
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
    return [
        Row(
            f"FastAPI endpoint, {requests:,} dispatches: event loop lag p99",
            "ms",
            [lag for lag, _ in samples["async"]],
            [lag for lag, _ in samples["blocking"]],
            ratio_at_most=0.5,
            baseline="dispatch() in the endpoint",
        ),
        Row(
            "FastAPI endpoint: event loop lag p99, dispatch_async()",
            "ms",
            [lag for lag, _ in samples["async"]],
            [lag for lag, _ in samples["none"]],
            baseline="the same requests, no dispatch",
        ),
        Row(
            "FastAPI endpoint: requests served, each dispatching",
            "req/s",
            [rate for _, rate in samples["async"]],
            [rate for _, rate in samples["blocking"]],
            baseline="dispatch() in the endpoint",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rtt-ms", type=float, default=1.0, help="the broker's round trip")
    report_arguments(parser)
    args = parser.parse_args()
    title = (
        f"{args.requests:,} requests x {args.rounds} rounds, {CLIENTS} clients, uvicorn, Redis "
        f"{args.rtt_ms:g} ms away"
    )
    report(title, rows(args.requests, args.rounds, args.rtt_ms / 1000), args.json)


if __name__ == "__main__":
    main()
