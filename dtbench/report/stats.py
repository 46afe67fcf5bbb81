"""Statistics over training seeds: the one bootstrap (runs resampled with replacement, within
each task when there are several: `resample`, `percentile_interval`), the interval of the mean
it gives the tables, and whether two methods' intervals separate (the only case in which a
table or the README claims one is better). The rliable aggregates use the same bootstrap."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

REPS, SEED, LEVEL = 10_000, 0, 0.95  # the tables' bootstrap replications, its seed, level


def resample(values: np.ndarray, rng: np.random.Generator, reps: int) -> np.ndarray:
    """[reps, *values.shape]: the runs (axis 0) redrawn with replacement, independently in
    each column: for runs x tasks, within each task (rliable's stratified bootstrap)."""
    draws = rng.integers(0, values.shape[0], size=(reps, *values.shape))
    return np.take_along_axis(np.broadcast_to(values, (reps, *values.shape)), draws, axis=1)


def percentile_interval(samples: np.ndarray, tail: float) -> tuple[np.ndarray, np.ndarray]:
    """The `tail` and 100 - `tail` percentiles of a statistic's bootstrap samples (axis 0)."""
    return np.percentile(samples, tail, axis=0), np.percentile(samples, 100 - tail, axis=0)


def bootstrap_interval(values: Sequence[float], reps: int = REPS, seed: int = SEED,
                       level: float = LEVEL) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean over seeds (resampling seeds with
    replacement); one value has none to resample, its interval is the point."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return (float(x[0]), float(x[0])) if len(x) else (np.nan, np.nan)
    means = resample(x, np.random.default_rng(seed), reps).mean(axis=1)
    low, high = percentile_interval(means, 100 * (1 - level) / 2)
    return float(low), float(high)


def separated(a: Sequence[float], b: Sequence[float]) -> int:
    """+1 when a's interval lies wholly above b's, -1 wholly below, 0 when they overlap (or
    either has fewer than two seeds: no interval to speak of)."""
    if len(a) < 2 or len(b) < 2:
        return 0
    (a_low, a_high), (b_low, b_high) = bootstrap_interval(a), bootstrap_interval(b)
    return 1 if a_low > b_high else -1 if a_high < b_low else 0


def fixed(x: float, places: int = 1) -> str:
    """`x` to `places` decimals, without the sign of a value that rounds to zero: '-0.0' would
    read as a (tiny) negative score."""
    text = f"{x:.{places}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def interval_text(values: Sequence[float], places: int = 1) -> str:
    """'[low, high]': the bootstrap interval of the mean, without a negative zero."""
    low, high = bootstrap_interval(values)
    return f"[{fixed(low, places)}, {fixed(high, places)}]"


def mean_interval(values: Sequence[float], places: int = 1) -> str:
    """'mean [low, high]' over seeds; the mean alone for one seed, which has no interval."""
    values = np.asarray(values, dtype=float)
    mean = fixed(values.mean(), places)
    return f"{mean} {interval_text(values, places)}" if len(values) > 1 else mean
