"""Big messages a worker refuses leave no memory behind (glibc's allocator settings).

A worker's main process reads every message whole, and records the ones it refuses (over
`max_payload_bytes`, undecodable) with their bodies, base64'd and JSON-encoded: several copies
of each, a few MB apiece. glibc serves a block this big from `mmap` and gives it back when
freed, until the first such block is freed: then it raises its threshold to that size (up to
32 MB), so the next ones come from the heap, where freed space is kept for reuse and rarely
returned. After 15 refused 2 MB messages a worker's main process kept ~70 MB more than when
idle, and `--memory 128` stopped it. Fixing the threshold keeps big blocks in `mmap`, so each
is returned the moment it is freed. Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from typing import Any

logger = logging.getLogger("laravel_queue.worker")

M_MMAP_THRESHOLD = -3  # glibc's mallopt() parameter
BIG_BLOCK_BYTES = 256 * 1024  # blocks this big or bigger are mapped, and unmapped when freed


def _libc() -> Any:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c"))
    except (OSError, TypeError):
        return None


def return_big_blocks_when_freed() -> bool:
    """Fix glibc's mmap threshold in this process; False where there is no glibc."""
    mallopt = getattr(_libc(), "mallopt", None)
    if mallopt is None:
        logger.debug("no glibc mallopt here: big blocks stay with the allocator's defaults")
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, BIG_BLOCK_BYTES))


def give_back_freed_memory() -> None:
    """Return the heap's free pages to the system (glibc's malloc_trim): after a refused big
    message, the copies made to decode and record it are free, but kept by the allocator."""
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)
