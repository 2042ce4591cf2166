"""A local, append-only file for failures that could not be written to the database.

"Nothing lost" (DESIGN §2.6): when `failed_jobs` cannot be written, the record is appended
here — one JSON line, fsynced before the message is acknowledged — and moved into the table
once the database answers again (by the worker, and by every `lq failed*` command).

Appends hold an exclusive `flock` only for the append itself. A drain never holds it while
it talks to the database: it first renames the file away under the lock (so appends go on
into a new file at once), writes the records from the renamed file, and puts back what it
could not write. A database that hangs can therefore hold a drainer, never a job that is
failing. A drainer killed half-way leaves its file behind; the next drain takes it over.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Record = dict[str, Any]

logger = logging.getLogger("laravel_queue")


@dataclass(frozen=True)
class SetAside:
    """A spooled record that could not be written as it is, and why."""

    record: Record
    reason: str
    at: float


class Spool:
    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, record: Record) -> None:
        self.append_all([record])

    def append_all(self, records: list[Record]) -> None:
        if not records:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = "".join(json.dumps(record, default=str) + "\n" for record in records).encode()
        with self._locked(os.O_WRONLY | os.O_CREAT | os.O_APPEND) as fd:
            os.write(fd, data)
            os.fsync(fd)

    def pending(self) -> bool:
        try:
            if self.path.stat().st_size > 0:
                return True
        except FileNotFoundError:
            pass
        return any(self._orphans())

    def drain(
        self, write: Callable[[Record], None], unavailable: Callable[[BaseException], bool]
    ) -> int:
        """Hand every record to `write`. When the store is `unavailable` (judged from what
        `write` raised), that record and the rest are put back and the error is raised; any
        other error is the record's own (it can never be written as it is): the record is set
        aside with the reason, logged, and the drain goes on with the rest."""
        taken = [path for path in (self._take(), *self._adopt_orphans()) if path is not None]
        moved = 0
        for n, path in enumerate(taken):
            records = self._read(path)
            done = 0
            try:
                for record in records:
                    try:
                        write(record)
                    except Exception as exc:
                        if unavailable(exc):
                            raise
                        self._set_aside(record, exc)
                    else:
                        moved += 1
                    done += 1
            except BaseException:
                self._put_back(records[done:], path)
                for rest in taken[n + 1 :]:
                    self._put_back(self._read(rest), rest)
                raise
            path.unlink()
        return moved

    # -- records that can never be written as they are ---------------------------------------

    @property
    def set_aside_path(self) -> Path:
        return self.path.with_name(f"{self.path.stem}.set-aside.jsonl")

    def set_aside(self) -> list[SetAside]:
        """The records a drain could not apply, with why (`lq spool`)."""
        try:
            lines = self.set_aside_path.read_bytes().splitlines()
        except FileNotFoundError:
            return []
        return [SetAside(**json.loads(line)) for line in lines if line.strip()]

    def restore_set_aside(self) -> int:
        """Put the set-aside records back in the spool, to be tried again (`lq spool:retry`,
        once what made them fail is fixed)."""
        entries = self.set_aside()
        self.append_all([entry.record for entry in entries])
        self.set_aside_path.unlink(missing_ok=True)
        return len(entries)

    def _set_aside(self, record: Record, exc: BaseException) -> None:
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
        entry = {"record": record, "reason": reason, "at": time.time()}
        Spool(self.set_aside_path).append(entry)
        logger.warning(
            "a spooled record cannot be written and was set aside in %s (%s); "
            "`lq spool` lists it, `lq spool:retry` tries it again",
            self.set_aside_path,
            reason,
        )

    # -- internals ---------------------------------------------------------------------------

    @contextmanager
    def _locked(self, flags: int) -> Iterator[int]:
        fd = os.open(self.path, flags, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)  # closing releases the lock

    def _draining_name(self, pid: int) -> Path:
        return self.path.with_name(f"{self.path.name}.draining-{pid}-{os.urandom(4).hex()}")

    def _take(self) -> Path | None:
        """Rename the spool away under the lock, so appends go on into a fresh file."""
        try:
            with self._locked(os.O_RDWR) as _fd:
                if self.path.stat().st_size == 0:
                    return None
                taken = self._draining_name(os.getpid())
                os.rename(self.path, taken)
                return taken
        except FileNotFoundError:
            return None

    def _orphans(self) -> Iterator[Path]:
        """Files of drainers that died before they finished."""
        for path in self.path.parent.glob(f"{self.path.name}.draining-*"):
            pid = int(path.name.rsplit("-", 2)[1])
            if pid != os.getpid() and not _alive(pid):
                yield path

    def _adopt_orphans(self) -> Iterator[Path]:
        for orphan in self._orphans():
            adopted = self._draining_name(os.getpid())
            with suppress(FileNotFoundError):  # another drainer adopted it first
                os.rename(orphan, adopted)
                yield adopted

    def _put_back(self, records: list[Record], path: Path) -> None:
        self.append_all(records)
        path.unlink()  # only once its records are safely in the spool again

    @staticmethod
    def _read(path: Path) -> list[Record]:
        return [json.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
