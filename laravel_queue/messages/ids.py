"""Job ids and delivery tags: random (version 4) UUIDs, made fast.

`uuid.uuid4()` reads 16 bytes from the kernel for every id, one system call each: 16 µs on
a virtual machine, and a dispatch needs two (the job's uuid and Kombu's delivery tag), a
seventh of what it costs in all. Here each thread reads the kernel's randomness 4 KiB at a
time and slices 16 bytes per id: the same source and the same format, one system call per
256 ids. A forked child reads its own (the parent's unused bytes would give both processes
the same ids).
"""

from __future__ import annotations

import os
import threading

IDS_PER_READ = 256


class _Randomness(threading.local):
    def __init__(self) -> None:
        self.buffer = b""
        self.offset = 0
        self.pid = 0


_randomness = _Randomness()


def new_id() -> str:
    """A random UUID as text (`str(uuid.uuid4())`'s format and randomness)."""
    pool = _randomness
    offset = pool.offset
    if offset >= len(pool.buffer) or pool.pid != os.getpid():
        pool.buffer, pool.pid, offset = os.urandom(16 * IDS_PER_READ), os.getpid(), 0
    raw = bytearray(pool.buffer[offset : offset + 16])
    pool.offset = offset + 16
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # the RFC 4122 variant
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
