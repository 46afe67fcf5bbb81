"""Which differences the data carries: DT against each other method on every benchmark cell,
with both 95% bootstrap intervals and whether they separate. The README and captions make a
claim ("DT > CQL") only where this table says the intervals separate."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dtbench.report.cells import PIPELINE_CHECKS
from dtbench.report.figures import ALGO_LABELS
from dtbench.report.scores import headline
from dtbench.report.stats import bootstrap_interval, separated
from dtbench.report.table import Table
from dtbench.runs import collect, only_overridden

VERDICT = {1: "DT higher (intervals separate)", -1: "DT lower (intervals separate)",
           0: "not resolved (intervals overlap)"}


def _interval_text(values: pd.Series) -> str:
    low, high = bootstrap_interval(values.to_numpy())
    return f"{values.mean():.1f} [{low:.1f}, {high:.1f}] (n={len(values)})"


def claims_table(results_root: Path, profile: str) -> Table:
    runs = collect(results_root)
    lines = []
    if not runs.empty:
        runs = runs[(runs["profile"] == profile) & only_overridden(runs)
                    & ~runs["domain"].isin(PIPELINE_CHECKS.get(profile, ()))]
        rows = headline(runs)
        for (domain, task, dataset, variant), cell in (
                rows.groupby(["domain", "task", "dataset", "variant"]) if not rows.empty else []):
            dt = cell[cell["algo"] == "dt"]["score_mean"]
            if dt.empty:
                continue
            for algo in [a for a in ALGO_LABELS if a != "dt" and a in set(cell["algo"])]:
                other = cell[cell["algo"] == algo]["score_mean"]
                lines.append([f"{domain}/{task}", dataset, variant, ALGO_LABELS[algo],
                              _interval_text(dt), _interval_text(other),
                              VERDICT[separated(dt.to_numpy(), other.to_numpy())]])
    caption = (
        f"DT against each method on every benchmark cell of profile `{profile}` (pipeline-check "
        "domains left out): mean score over training seeds with its 95% percentile-bootstrap "
        "interval (seeds resampled) and n. A difference is claimed only where the two "
        "intervals do not overlap; with fewer than two seeds a side has no interval and "
        "nothing is claimed.")
    return Table("claims", f"Which differences the data carries (profile {profile})", caption,
                 ["Cell", "Dataset", "Rewards", "Versus", "DT", "Other", "Verdict"], lines,
                 "make keydoor graph", bool(lines))
