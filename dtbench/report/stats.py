"""Statistics over training seeds, chosen to hold at the few seeds a benchmark cell has (n = 3
to 5, where a percentile bootstrap of the mean under-covers):

* the tables' interval of a mean: Student's t interval (`t_interval`), mean +- t(n-1) s / sqrt(n);
* a claim that one method differs from another: Welch's t-test of their per-seed scores with
  the 95% Welch interval of the difference (`welch`), and Holm's correction over every claim of
  a table (`holm`), so that the family of claims holds at 5% together;
* the one bootstrap (`resample`, `percentile_interval`), of the rliable aggregates, whose
  stratified resampling over tasks and seeds is theirs.

A side whose seeds all score the same has no spread to test: its interval is the point and the
text says so ("all n at x"), never a zero-width interval that looks like certainty."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVEL = 0.95  # of every interval and, as 1 - LEVEL, of every family of claims


def resample(values: np.ndarray, rng: np.random.Generator, reps: int) -> np.ndarray:
    """[reps, *values.shape]: the runs (axis 0) redrawn with replacement, independently in
    each column: for runs x tasks, within each task (rliable's stratified bootstrap)."""
    draws = rng.integers(0, values.shape[0], size=(reps, *values.shape))
    return np.take_along_axis(np.broadcast_to(values, (reps, *values.shape)), draws, axis=1)


def percentile_interval(samples: np.ndarray, tail: float) -> tuple[np.ndarray, np.ndarray]:
    """The `tail` and 100 - `tail` percentiles of a statistic's bootstrap samples (axis 0)."""
    return np.percentile(samples, tail, axis=0), np.percentile(samples, 100 - tail, axis=0)


Bounds = tuple[float, float] | None


def t_interval(values: Sequence[float], level: float = LEVEL,
               bounds: Bounds = None) -> tuple[float, float]:
    """Student's t interval of the mean over seeds, clipped to the score's `bounds` (a rate's
    interval would otherwise reach past 100 when seeds sit near it: the mean cannot); one
    value (or none) has no interval: the point (nan)."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return (float(x[0]), float(x[0])) if len(x) else (np.nan, np.nan)
    half = stats.t.ppf((1 + level) / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    low, high = x.mean() - half, x.mean() + half
    if bounds is not None:
        low, high = max(low, bounds[0]), min(high, bounds[1])
    return float(low), float(high)


@dataclass(frozen=True)
class Difference:
    """a against b: the difference of their means with its Welch interval and p (None where
    there is nothing to test: a side with one seed, or no spread on either side)."""

    diff: float
    low: float
    high: float
    p: float | None
    why_untested: str = ""


def welch(a: Sequence[float], b: Sequence[float], level: float = LEVEL) -> Difference:
    """Welch's two-sided t-test of mean(a) = mean(b) and the Welch-Satterthwaite interval of
    mean(a) - mean(b)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    diff = float(a.mean() - b.mean())
    if len(a) < 2 or len(b) < 2:
        return Difference(diff, np.nan, np.nan, None, "fewer than 2 seeds")
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    if va + vb == 0:
        return Difference(diff, diff, diff, None, "no spread on either side")
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = stats.t.ppf((1 + level) / 2, df) * np.sqrt(va + vb)
    p = float(stats.ttest_ind(a, b, equal_var=False).pvalue)
    return Difference(diff, diff - half, diff + half, p)


def holm(ps: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjusted p-values of a family (None stays None and is not counted)."""
    order = sorted((p, i) for i, p in enumerate(ps) if p is not None)
    out: list[float | None] = [None] * len(ps)
    running = 0.0
    for rank, (p, i) in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p))
        out[i] = running
    return out


def fixed(x: float, places: int = 1) -> str:
    """`x` to `places` decimals, without the sign of a value that rounds to zero: '-0.0' would
    read as a (tiny) negative score."""
    text = f"{x:.{places}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def interval_text(values: Sequence[float], places: int = 1, bounds: Bounds = None) -> str:
    """'[low, high]': the t interval of the mean (clipped to `bounds`), without a negative
    zero; 'all n at x' where every seed scores the same."""
    x = np.asarray(values, dtype=float)
    if len(x) > 1 and np.all(x == x[0]):
        return f"[all {len(x)} at {fixed(x[0], places)}]"
    low, high = t_interval(x, bounds=bounds)
    return f"[{fixed(low, places)}, {fixed(high, places)}]"


def mean_interval(values: Sequence[float], places: int = 1, bounds: Bounds = None) -> str:
    """'mean [low, high]' over seeds; the mean alone for one seed, which has no interval."""
    values = np.asarray(values, dtype=float)
    mean = fixed(values.mean(), places)
    return f"{mean} {interval_text(values, places, bounds)}" if len(values) > 1 else mean


INTERVAL = ("95% t interval of the mean over seeds (Student's t, n - 1 degrees of freedom, "
            "clipped to 0-100 for rates; 'all n at x' where every seed scores the same)")
