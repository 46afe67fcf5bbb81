"""Key-to-Door table (the paper's Table 6) from stored runs, with the paper's numbers beside."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dtbench.report.paper import KEYDOOR_TABLE6
from dtbench.runs import collect

DATASET_LABELS = {"random-1k": "1K random trajectories", "random-10k": "10K random trajectories"}
OUR_ALGOS = ("dt", "random")  # baselines (cql, bc, %bc) join with issue #3
PAPER_COLUMNS = (("dt", "DT"), ("cql", "CQL"), ("bc", "BC"), ("pbc", "%BC"), ("random", "Random"))


def _cell(scores: pd.Series) -> str:
    if scores.empty:
        return "not run"
    std = scores.std(ddof=0) if len(scores) > 1 else 0.0
    return f"{scores.mean():.1f} ± {std:.1f} (n={len(scores)})"


def keydoor_table(results_root: Path, profile: str) -> str:
    runs = collect(results_root)
    if not runs.empty:
        runs = runs[(runs["domain"] == "keydoor") & (runs["profile"] == profile)
                    & (runs["variant"] == "dense")]
    ours = [f"{a.upper() if a == 'dt' else a.capitalize()} (ours)" for a in OUR_ALGOS]
    header = ["Dataset", *ours, *(f"{label} (paper)" for _, label in PAPER_COLUMNS)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    episodes = set()
    for dataset, label in DATASET_LABELS.items():
        cells = [label]
        for algo in OUR_ALGOS:
            rows = runs[(runs["dataset"] == dataset) & (runs["algo"] == algo)] if not runs.empty \
                else runs
            episodes.update(rows["episodes"].tolist() if not rows.empty else [])
            cells.append(_cell(rows["score_mean"] if not rows.empty else pd.Series(dtype=float)))
        cells += [f"{KEYDOOR_TABLE6[dataset][key]:.1f}" for key, _ in PAPER_COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    caption = (
        f"Key-to-Door success rate (%). Ours: profile `{profile}`, mean ± std over training "
        f"seeds (n), each seed evaluated on {', '.join(map(str, sorted(episodes))) or '?'} "
        "episodes with the same reset seeds for every method; DT conditioned on target return 1 "
        "with the whole episode (60 steps) as context, greedy actions. Data: dtbench's own "
        "Key-to-Door (6x6 rooms, phases 12/36/12 steps) random-walk datasets "
        "`dtbench/keydoor/random-1k-v0` and `random-10k-v0` made by `make keydoor-data`. "
        "Paper columns: Chen et al. 2021, Table 6, on the paper's own (unreleased) Key-to-Door; "
        "not the same environment. Regenerate with `make keydoor`."
    )
    if runs.empty:
        caption += " No runs stored yet: `make keydoor` fills this table."
    return caption + "\n\n" + "\n".join(lines) + "\n"


def write_keydoor_table(results_root: Path, profile: str) -> Path:
    path = results_root / "keydoor.md"
    path.write_text("# Key-to-Door (paper Table 6)\n\n" + keydoor_table(results_root, profile))
    return path
