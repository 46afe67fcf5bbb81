"""The target-return sweep (the paper's Figure 4) as a table: for each task and dataset, how
closely DT's achieved score follows the target it is conditioned on.

Runs come from `make ablation-target` (`--set eval.target_sweep=N`): one trained DT evaluated
at N targets from the data's worst episode return to 1.5x its best.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dtbench.report.cells import (
    INTERVAL_NOTE,
    code_mark,
    data_words,
    pipeline_rows_note,
    score_range,
    seeds_phrase,
    settings_notes,
    source_label,
)
from dtbench.report.collected import Collected
from dtbench.report.scores import with_target_scores
from dtbench.report.stats import fixed, mean_interval
from dtbench.report.table import Table
from dtbench.runs import only_overridden


def sweep_runs(collected: Collected) -> pd.DataFrame:
    """Dense DT target-sweep runs, with each target on the score scale (`target_score`)."""
    runs = collected.runs()
    if runs.empty:
        return runs
    runs = runs[(runs["algo"] == "dt") & (runs["variant"] == "dense")
                & only_overridden(runs, "eval.target_sweep")]
    return with_target_scores(runs)


def tracking(targets: np.ndarray, achieved: np.ndarray) -> tuple[float, float]:
    """How closely the achieved score follows the target: Pearson r and the least-squares
    slope (1 on y = x; near 0 when the score ignores the target, whatever r says)."""
    x, y = np.asarray(targets, float), np.asarray(achieved, float)
    if len(x) < 3 or not x.std():
        return np.nan, np.nan
    slope = float(np.polyfit(x, y, 1)[0])
    return (float(np.corrcoef(x, y)[0, 1]) if y.std() else np.nan), slope


def per_target_cell(part: pd.DataFrame) -> str:
    """'0.0: 0.8 [0.4, 1.3]; 30.0: 93.8 [...]': each target score's mean achieved score over seeds
    and its interval, so a claim about the shape of the curve can name them."""
    per_seed = part.groupby(["target_score", "seed"])["score_mean"].mean()
    bounds = score_range(part["domain"].iloc[0])
    cells = []
    for target, scores in per_seed.groupby(level="target_score"):
        cells.append(f"{target:.1f}: {mean_interval(scores.to_numpy(), bounds=bounds)}")
    return "; ".join(cells)


def target_table(collected: Collected) -> Table:
    profile = collected.profile
    runs = sweep_runs(collected)
    header = ["Domain", "Task", "Dataset", "Data used", "Targets (score)", "Achieved (score)",
              "Data: best episode", "r (target, achieved)", "Slope", "Seeds",
              "Achieved at each target (target: mean [95% interval])"]
    lines = []
    for (domain, task, dataset), part in (runs.groupby(["domain", "task", "dataset"])
                                          if not runs.empty else []):
        # one point per target on the score scale, as in the figure: targets that ask for the
        # same score (Key-to-Door's above 1 all ask for 100% success) are one point
        by_target = part.groupby("target_score")["score_mean"].mean()
        x, y = by_target.index.to_numpy(), by_target.to_numpy()
        r, slope = tracking(x, y)
        lines.append([domain, task, dataset, source_label(domain, task, dataset, part),
                      f"{x.min():.1f} to {x.max():.1f} ({len(x)})",
                      f"{y.min():.1f} to {y.max():.1f}",
                      f"{part['data_score_max'].iloc[0]:.1f}", fixed(r, 2), fixed(slope, 2),
                      str(part["seed"].nunique()) + code_mark(part), per_target_cell(part)])
    domains = sorted(set(runs["domain"])) if not runs.empty else []
    caption = (
        "How closely DT's achieved score follows the target return it is conditioned on: each "
        "trained DT (one per seed) evaluated at evenly spaced targets from its data's worst "
        f"episode return to 1.5x its best, on {data_words(runs)}, "
        f"profile `{profile}`, {seeds_phrase(runs) or 'no runs yet'}. "
        "Per task and dataset: the targets' and the mean achieved scores' range on the "
        "domain's score scale, the Pearson r of target and achieved score, and the "
        "least-squares slope of achieved on target (1: the score follows the target one for "
        "one; near 0: it ignores the target, however high r is). "
        "The last column gives each target's mean over seeds with its 95% t interval.")
    notes = [
        "The paper (Figure 4) reports target and achieved returns as highly correlated on "
        "Pong, HalfCheetah and Walker, and DT prompted above the data's best on Seaquest; it "
        "gives no numbers to compare.",
        pipeline_rows_note(domains, profile), INTERVAL_NOTE, "Fill with `make ablation-target`."]
    return Table("target-sweep", "Target return sweep (paper Figure 4)", caption, header,
                 lines, "make ablation-target", not runs.empty,
                 settings_notes(domains, profile), notes)
