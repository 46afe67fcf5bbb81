"""Formatting shared by every results table."""

from __future__ import annotations

import pandas as pd


def mean_std_cell(scores: pd.Series) -> str:
    """'mean ± std (n=seeds)' over per-seed scores (population std), or 'not run'."""
    if scores.empty:
        return "not run"
    std = scores.std(ddof=0) if len(scores) > 1 else 0.0
    return f"{scores.mean():.1f} ± {std:.1f} (n={len(scores)})"
