"""A local, append-only file for failures that could not be written to the database.

"Nothing lost" (DESIGN §2.6): when `failed_jobs` cannot be written, the record is appended
here — one JSON line, fsynced before the message is acknowledged — and moved into the table
once the database answers again (by the worker, and by every `lq failed*` command).
Appends and the drain hold an exclusive `flock`, so several processes share one spool.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


class Spool:
    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, record: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(record) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)  # closing releases the lock

    def pending(self) -> bool:
        try:
            return self.path.stat().st_size > 0
        except FileNotFoundError:
            return False

    def drain(self, write: Callable[[dict[str, Any]], None]) -> int:
        """Hand every record to `write`; the file is emptied only if all were written."""
        if not self.pending():
            return 0
        fd = os.open(self.path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with os.fdopen(os.dup(fd), "rb") as handle:
                records = [json.loads(line) for line in handle if line.strip()]
            for record in records:
                write(record)  # raises while the database is still down: file kept
            os.ftruncate(fd, 0)
            os.fsync(fd)
            return len(records)
        finally:
            os.close(fd)
