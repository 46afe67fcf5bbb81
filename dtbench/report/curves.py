"""Learning curves read from run folders: a run's score at each evaluation during training,
shared by the probe and anchor tables and the eval-curves figures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dtbench.runs.results import CURVE
from dtbench.runs.table import Unreadable, read_run_csv


def run_curve(results_root: Path, run: pd.Series) -> pd.DataFrame:
    """A run's score at each evaluation (curve.csv), DT's at the run's headline target; empty
    when the run has no readable curve (`dtbench report` lists unreadable files)."""
    try:
        curve = read_run_csv(results_root / run["folder"] / CURVE)
    except Unreadable:
        return pd.DataFrame({"step": [], "score_mean": []})
    if run["algo"] == "dt":
        curve = curve[curve["target_return"] == run["target_return"]]
    return curve[["step", "score_mean"]].reset_index(drop=True)


def curve_points(curve: pd.DataFrame) -> str:
    """`1k: 20.0, 2k: 41.0`: a curve's evaluations as a table cell."""
    return ", ".join(f"{int(s) // 1000}k: {v:.1f}"
                     for s, v in zip(curve["step"], curve["score_mean"], strict=True))
