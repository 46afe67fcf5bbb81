"""Statistics over training seeds: sample std, a bootstrap interval of the mean, and whether
two methods' intervals separate (the only case in which a table or the README claims one is
better)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

REPS, SEED, LEVEL = 10_000, 0, 0.95  # bootstrap replications, its seed, interval level


def bootstrap_interval(values: Sequence[float], reps: int = REPS, seed: int = SEED,
                       level: float = LEVEL) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean over seeds (resampling seeds with
    replacement); one value has none to resample, its interval is the point."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return (float(x[0]), float(x[0])) if len(x) else (np.nan, np.nan)
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), size=(reps, len(x)))].mean(axis=1)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(means, [tail, 100 - tail])
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
