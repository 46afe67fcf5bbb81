"""Formatting shared by every results table."""

from __future__ import annotations

import pandas as pd


def mean_std_cell(scores: pd.Series) -> str:
    """'mean ± std (n=seeds)' over per-seed scores (population std); one seed has no spread
    to show ('mean (n=1)'); 'not run' when empty."""
    if scores.empty:
        return "not run"
    if len(scores) == 1:
        return f"{scores.mean():.1f} (n=1)"
    return f"{scores.mean():.1f} ± {scores.std(ddof=0):.1f} (n={len(scores)})"
