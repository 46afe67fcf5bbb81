"""The paper's D4RL table (Table 2, with Table 3's 10%BC) from stored MuJoCo runs."""

from __future__ import annotations

from pathlib import Path

from dtbench.report.cells import best_target_cell, data_cell, deviations, source_label
from dtbench.report.paper import D4RL_TABLE2
from dtbench.report.table import Table, runs_of

ALGOS = (("dt", "DT"), ("cql", "CQL"), ("bc", "BC"), ("bc10", "10%BC"))
ROWS = ("medium-expert", "medium", "medium-replay")
TASKS = ("halfcheetah", "hopper", "walker2d")


def d4rl_table(results_root: Path, profile: str) -> Table:
    runs = runs_of(results_root, "mujoco", profile)
    header = ["Dataset", "Env", "Data used", "Data: mean / best episode",
              *(f"{label} (ours)" for _, label in ALGOS),
              *(f"{label} (paper)" for _, label in ALGOS)]
    lines = []
    for name in ROWS:
        for task in TASKS:
            # one row per data source (generated here, D4RL, Minari) that has runs
            mine = runs[(runs["task"] == task)
                        & runs["dataset"].str.fullmatch(rf"(d4rl-|minari-)?{name}")] \
                if not runs.empty else runs
            datasets = sorted(set(mine["dataset"])) if not mine.empty else [name]
            for dataset in datasets:
                data_rows = mine[mine["dataset"] == dataset] if not mine.empty else mine
                cells = [name, task, source_label("mujoco", task, dataset), data_cell(data_rows)]
                for algo, _ in ALGOS:
                    rows = mine[(mine["dataset"] == dataset) & (mine["algo"] == algo)] \
                        if not mine.empty else mine
                    cells.append(best_target_cell(rows))
                paper = D4RL_TABLE2[(name, task)]
                cells += [f"{paper[a]:.1f}" if a in paper else "-" for a, _ in ALGOS]
                lines.append(cells)
    caption = (
        f"D4RL normalised score (100 = D4RL expert, 0 = random), profile `{profile}`, mean ± "
        "std over seeds (n); DT at its first target return (the paper's Table 9 value). "
        "'Data: mean / best episode' scores the training data's own episodes on the same "
        "scale. "
        "'Data used' says which data produced our numbers: 'generated here' datasets come "
        "from dtbench's SAC run on this machine (`dtbench data make mujoco/<task>`), not "
        "D4RL's, so they are not the paper's data. Paper columns: Chen et al. 2021 Tables 2 "
        "and 3 on D4RL v2 (the baseline columns may be D4RL-v0 literature numbers). "
        f"Regenerate with `make mujoco`. {deviations('mujoco', profile)}"
    )
    return Table("mujoco", "MuJoCo / D4RL (paper Tables 2 and 3)", caption, header, lines,
                 "make mujoco", not runs.empty)
