"""How every benchmark reports: samples per side, their median and spread, a ratio, a target.

A `Row` holds the samples of both sides (laravel_queue and its baseline: raw Celery, or a
plainer run of ours; or only ours when a figure has no counterpart) so the report can show
the spread next to the median; `interleaved` runs the sides of a comparison in alternating
order, so neither side always runs first (cold caches, a busy box) — the rule
`bench/run_all.py` holds every benchmark to.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Row:
    """One measured figure. `ratio` is ours / the baseline's (raw Celery unless `baseline`
    names another side) in the row's own unit, so a rate wants it high (`ratio_at_least`)
    and a duration wants it low (`ratio_at_most`); `at_most` bounds our own median, for
    figures with an absolute target (start-up, lateness)."""

    name: str
    unit: str
    ours: list[float]
    base: list[float] = field(default_factory=list)
    ratio_at_least: float | None = None
    ratio_at_most: float | None = None
    at_most: float | None = None
    baseline: str = "raw Celery"
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if not self.base or not self.ours:
            return None
        return statistics.median(self.ours) / statistics.median(self.base)

    @property
    def target(self) -> str:
        if self.ratio_at_least is not None:
            return f">= {self.ratio_at_least:g}x"
        if self.ratio_at_most is not None:
            return f"<= {self.ratio_at_most:g}x"
        if self.at_most is not None:
            return f"<= {self.at_most:g} {self.unit}"
        return ""

    @property
    def met(self) -> bool | None:
        ratio = self.ratio
        if self.ratio_at_least is not None and ratio is not None:
            return ratio >= self.ratio_at_least
        if self.ratio_at_most is not None and ratio is not None:
            return ratio <= self.ratio_at_most
        if self.at_most is not None:
            return statistics.median(self.ours) <= self.at_most
        return None

    @property
    def verdict(self) -> str:
        return {True: "met", False: "MISSED", None: ""}[self.met]


def summary(samples: list[float]) -> str:
    """`1,234 (1,200-1,260)`: the median, and the spread when there is more than one sample."""
    if not samples:
        return "—"
    median = statistics.median(samples)
    text = _number(median)
    if len(samples) > 1:
        text += f" ({_number(min(samples))}-{_number(max(samples))})"
    return text


def _number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def interleaved(rounds: int, sides: dict[str, Callable[[int], T]]) -> dict[str, list[T]]:
    """Run every side once per round, `sides`' order in even rounds and reversed in odd ones;
    each side gets the round number (for fresh queue names) and returns its sample."""
    samples: dict[str, list[T]] = {name: [] for name in sides}
    names = list(sides)
    for round_ in range(rounds):
        for name in names if round_ % 2 == 0 else reversed(names):
            samples[name].append(sides[name](round_))
    return samples


HEADER = ("measurement", "unit", "baseline", "baseline's", "laravel_queue", "ratio", "target", "")


def table(rows: Iterable[Row]) -> str:
    """The rows as a Markdown table (what RESULTS.md holds and each benchmark prints)."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for row in rows:
        ratio = f"{row.ratio:.2f}x" if row.ratio is not None else ""
        baseline = row.baseline if row.base else ""
        cells = (row.name, row.unit, baseline, summary(row.base), summary(row.ours), ratio)
        cells += (row.target,)
        lines.append("| " + " | ".join((*cells, row.verdict)) + " |")
    return "\n".join(lines)


def notes(rows: Iterable[Row]) -> str:
    return "\n".join(f"- {row.name}: {row.note}" for row in rows if row.note)


def report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", type=Path, help="also write the rows here (bench/run_all.py)")


def report(title: str, rows: list[Row], json_path: Path | None) -> None:
    """Print the rows under `title`; with `json_path`, write them there too."""
    print(title)
    print(table(rows))
    if json_path is not None:
        json_path.write_text(json.dumps({"title": title, "rows": [asdict(r) for r in rows]}))


def load(json_path: Path) -> tuple[str, list[Row]]:
    data = json.loads(json_path.read_text())
    return data["title"], [Row(**row) for row in data["rows"]]
