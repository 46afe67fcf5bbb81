"""One score per run: what every table, figure and aggregate compares."""

from __future__ import annotations

import numpy as np
import pandas as pd

from dtbench import registry

RUN_KEYS = ["domain", "task", "dataset", "variant", "algo", "overrides", "profile", "seed"]


def headline(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per run: DT at its highest target return (the paper's target; the rows at
    lower targets are the target sweep), baselines' only row."""
    if runs.empty:
        return runs
    top = runs.groupby(RUN_KEYS, dropna=False)["target_return"].transform("max")
    keep = runs["target_return"].isna() | (runs["target_return"] == top)
    return runs[keep].reset_index(drop=True)


def with_target_scores(runs: pd.DataFrame) -> pd.DataFrame:
    """`runs` with each DT target return also on the domain's score scale (`target_score`),
    so that target and achieved score can be compared (y = x)."""
    return runs.assign(target_score=[
        float(registry.get_domain(d).normalize(t, np.array([g]))[0])
        for d, t, g in zip(runs["domain"], runs["task"], runs["target_return"], strict=True)])
