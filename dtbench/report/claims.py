"""Which differences the data carries: DT against each other method on every benchmark cell,
with both 95% bootstrap intervals and whether they separate. The README and captions make a
claim ("DT > CQL") only where this table says the intervals separate."""

from __future__ import annotations

import pandas as pd

from dtbench.report.anchors import anchor_runs, is_probe
from dtbench.report.cells import PIPELINE_CHECKS
from dtbench.report.collected import Collected
from dtbench.report.figures import ALGO_LABELS
from dtbench.report.graph import ALGOS as GRAPH_ALGOS
from dtbench.report.graph import NO_CAP, path_lengths, per_seed_rates
from dtbench.report.scores import headline
from dtbench.report.stats import mean_interval, separated
from dtbench.report.table import Table
from dtbench.runs import only_overridden

VERDICT = {1: "DT higher (intervals separate)", -1: "DT lower (intervals separate)",
           0: "not resolved (intervals overlap)"}


def _interval_text(values: pd.Series) -> str:
    return f"{mean_interval(values.to_numpy())} (n={len(values)})"


def claims_table(collected: Collected) -> Table:
    profile = collected.profile
    runs = collected.runs()
    lines = []
    if not runs.empty:
        runs = runs[only_overridden(runs) & ~runs["domain"].isin(PIPELINE_CHECKS.get(profile, ()))]
        anchor = anchor_runs(collected)
        anchor = anchor[~is_probe(anchor)] if not anchor.empty else anchor
        cells = [(key, cell) for key, cell in headline(runs).groupby(
                     ["domain", "task", "dataset", "variant"])] if not runs.empty else []
        cells += [((d, f"{t} (anchor, {int(n):,} steps)", ds, v), cell)
                  for (d, t, ds, v, n), cell in anchor.groupby(
                      ["domain", "task", "dataset", "variant", "train.steps"])] \
            if not anchor.empty else []
        for (domain, task, dataset, variant), cell in cells:
            dt = cell[cell["algo"] == "dt"]["score_mean"]
            if dt.empty:
                continue
            for algo in [a for a in ALGO_LABELS if a != "dt" and a in set(cell["algo"])]:
                other = cell[cell["algo"] == algo]["score_mean"]
                lines.append([f"{domain}/{task}", dataset, variant, ALGO_LABELS[algo],
                              _interval_text(dt), _interval_text(other),
                              VERDICT[separated(dt.to_numpy(), other.to_numpy())]])
        lines += _shortest_path_lines(collected)
    caption = (
        f"DT against each method on every benchmark cell of profile `{profile}` (pipeline-check "
        "domains left out) and every anchor cell (its anchor seeds; results/anchors.md): mean "
        "score over training seeds with its 95% percentile-bootstrap interval (seeds "
        "resampled) and n. A difference is claimed only where the two intervals do not "
        "overlap; with fewer than two seeds a side has no interval and nothing is claimed. The "
        "graph's rows 'on a shortest path' compare the share of episodes that arrive in the "
        "BFS distance; on the stitching test that asks whether a method composes a shortest "
        "path it never saw, for DT capped at the data's best return and without the cap.")
    return Table("claims", f"Which differences the data carries (profile {profile})", caption,
                 ["Cell", "Dataset", "Rewards", "Versus", "DT", "Other", "Verdict"], lines,
                 "make keydoor graph", bool(lines))


def _shortest_path_lines(collected: Collected) -> list[list[str]]:
    """The graph's second measure, 'on a shortest path' (%) per seed, for both graph tasks:
    DT (on the stitching test capped and without the cap) against every other learned
    method."""
    lines = []
    for task, dataset in (("graph", "random-walk-1k"), ("stitch", "stitch-1k")):
        lengths = path_lengths(collected, task)
        optimal = per_seed_rates(lengths)["optimal"]
        methods = set(optimal.index.get_level_values("method"))
        for dt in [m for m in ("DT", NO_CAP) if m in methods]:
            which = ("" if task == "graph" else
                     ", DT capped at the data's best" if dt == "DT" else ", DT without the cap")
            for other in [label for algo, label in GRAPH_ALGOS
                          if algo != "dt" and label in methods]:
                a, b = optimal.loc[dt], optimal.loc[other]
                lines.append([f"graph/{task}: on a shortest path{which}", dataset, "dense",
                              other, _interval_text(a), _interval_text(b),
                              VERDICT[separated(a.to_numpy(), b.to_numpy())]])
    return lines
