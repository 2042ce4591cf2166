"""A distribution survives its JSON form and merges exactly (counts) and within 1 % (quantiles)."""

from __future__ import annotations

import json
import random

from laravel_queue.metrics.sketch import Distribution


def _true_quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[round(q * (len(ordered) - 1))]


def test_a_distribution_round_trips_through_json() -> None:
    values = [random.Random(1).uniform(0.001, 30) for _ in range(2000)] + [0.0] * 10
    d = Distribution()
    for v in values:
        d.add(v)
    again = Distribution.from_dict(json.loads(json.dumps(d.to_dict())))
    assert again.count == d.count == 2010
    assert again.sum == d.sum
    for q in (0.5, 0.95, 0.99):
        assert again.quantile(q) == d.quantile(q)


def test_merged_distributions_have_the_quantiles_of_all_values_within_one_percent() -> None:
    rng = random.Random(7)
    parts = [[rng.lognormvariate(0, 1.5) for _ in range(500)] for _ in range(6)]
    merged = Distribution()
    for part in parts:
        d = Distribution()
        for v in part:
            d.add(v)
        merged.merge(Distribution.from_dict(d.to_dict()))
    everything = [v for part in parts for v in part]
    assert merged.count == len(everything)
    for q in (0.5, 0.95, 0.99):
        found = merged.quantile(q)
        assert found is not None
        assert abs(found - _true_quantile(everything, q)) <= 0.011 * _true_quantile(everything, q)


def test_an_empty_distribution_has_no_quantiles() -> None:
    empty = Distribution.from_dict(Distribution().to_dict())
    assert empty.count == 0 and empty.quantile(0.5) is None
