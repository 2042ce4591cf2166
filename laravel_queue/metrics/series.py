"""What one series counts in one minute: runs by outcome, their run times and wait times."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from laravel_queue.metrics.sketch import Distribution

Outcome = Literal["processed", "failed", "released"]
"""How a run ended: `processed` (done, or deleted by the job), `failed` (for good), or
`released` (back on its queue, to run again)."""
OUTCOMES: tuple[Outcome, ...] = ("processed", "failed", "released")


@dataclass(frozen=True, order=True)
class Series:
    """The runs of one job class on one queue; `tag` set for a monitored tag's own series."""

    connection: str
    queue: str
    job: str
    tag: str = ""

    def field(self, process: str) -> str:
        """This series' field of a minute's hash, as written by `process`."""
        return json.dumps([process, self.connection, self.queue, self.job, self.tag])

    @classmethod
    def from_field(cls, text: str) -> Series:
        """The series a field names (`ValueError` if it is not one of ours)."""
        parts = json.loads(text)
        if not (isinstance(parts, list) and len(parts) == 5):
            raise ValueError(f"not a metrics field: {text!r}")
        return cls(*(str(part) for part in parts[1:]))


@dataclass
class Tally:
    """Runs by outcome, with the distribution of their run and wait times, in seconds."""

    processed: int = 0
    failed: int = 0
    released: int = 0
    runtime: Distribution = field(default_factory=Distribution)
    wait: Distribution = field(default_factory=Distribution)

    @property
    def runs(self) -> int:
        return self.processed + self.failed + self.released

    def record(self, outcome: Outcome, runtime: float, wait: float) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        self.runtime.add(runtime)
        self.wait.add(wait)

    def merge(self, other: Tally) -> None:
        self.processed += other.processed
        self.failed += other.failed
        self.released += other.released
        self.runtime.merge(other.runtime)
        self.wait.merge(other.wait)

    def to_json(self) -> str:
        return json.dumps(
            {
                "p": self.processed,
                "f": self.failed,
                "r": self.released,
                "rt": self.runtime.to_dict(),
                "w": self.wait.to_dict(),
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> Tally:
        """The tally `to_json` gave (`ValueError`, `TypeError` or `KeyError` if malformed)."""
        data: Any = json.loads(text)
        return cls(
            processed=int(data["p"]),
            failed=int(data["f"]),
            released=int(data["r"]),
            runtime=Distribution.from_dict(data["rt"]),
            wait=Distribution.from_dict(data["w"]),
        )
