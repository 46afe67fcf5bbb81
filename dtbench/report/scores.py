"""One score per run: what every table, figure and aggregate compares."""

from __future__ import annotations

import pandas as pd

RUN_KEYS = ["domain", "task", "dataset", "variant", "algo", "overrides", "profile", "seed"]


def headline(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per run: DT at its highest target return (the paper's target; the rows at
    lower targets are the target sweep), baselines' only row."""
    if runs.empty:
        return runs
    top = runs.groupby(RUN_KEYS, dropna=False)["target_return"].transform("max")
    keep = runs["target_return"].isna() | (runs["target_return"] == top)
    return runs[keep].reset_index(drop=True)
