"""The paper's Atari table (Table 1, with Table 4's 10%BC) from stored Atari runs."""

from __future__ import annotations

from pathlib import Path

from dtbench.report.cells import best_target_cell, data_cell, deviations, source_label
from dtbench.report.d4rl import ALGOS
from dtbench.report.paper import ATARI_TABLE1
from dtbench.report.table import Table, runs_of

GAMES = ("breakout", "qbert", "pong", "seaquest")


def atari_table(results_root: Path, profile: str) -> Table:
    runs = runs_of(results_root, "atari", profile)
    header = ["Game", "Data used", "Data: mean / best episode",
              *(f"{label} (ours)" for _, label in ALGOS),
              *(f"{label} (paper)" for _, label in ALGOS)]
    lines = []
    for game in GAMES:
        mine = runs[runs["task"] == game] if not runs.empty else runs
        datasets = sorted(set(mine["dataset"])) if not mine.empty else ["mixed"]
        for dataset in datasets:
            rows = mine[mine["dataset"] == dataset] if not mine.empty else mine
            cells = [game, source_label("atari", game, dataset), data_cell(rows)]
            for algo, _ in ALGOS:
                mine_algo = rows[rows["algo"] == algo] if not rows.empty else rows
                cells.append(best_target_cell(mine_algo))
            paper = ATARI_TABLE1[game]
            cells += [f"{paper[a]:.1f}" for a, _ in ALGOS]
            lines.append(cells)
    caption = (
        f"Gamer-normalised score (100 = professional gamer, 0 = random; the paper's constants), "
        f"profile `{profile}`, mean ± std over seeds (n), from raw (unclipped) game scores; DT at "
        "the paper's target return (Table 8). 'Data used' says which data produced our numbers: "
        "'generated here' is dtbench's scripted-and-random play on this machine (`dtbench data "
        "make atari/<game>`), not the DQN-replay data, so it is not the paper's data. "
        "'Data: mean / best episode' scores the training data's own episodes. Paper columns: "
        "Chen et al. 2021 Table 1 (1% DQN-replay) and Table 4 (10%BC). Regenerate with "
        f"`make atari`. {deviations('atari', profile)}"
    )
    return Table("atari", "Atari (paper Tables 1 and 4)", caption, header, lines, "make atari",
                 not runs.empty)
