"""The paper's Atari table (Table 1, with Table 4's 10%BC) from stored Atari runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from dtbench.report.cells import (
    BC_NOTE,
    SPREAD,
    algo_cells,
    data_cell,
    data_sources,
    deviations,
    pipeline_note,
    shown_columns,
    source_label,
    stand_in_note,
    tier,
)
from dtbench.report.collected import Collected
from dtbench.report.d4rl import OURS, PAPER
from dtbench.report.paper import ATARI_TABLE1, paper_cell
from dtbench.report.table import Table

GAMES = ("breakout", "qbert", "pong", "seaquest")


def atari_layout(runs: pd.DataFrame, ours: Sequence[tuple[str, str]],
                 paper_columns: Sequence[tuple[str, str]],
                 paper: Mapping[str, Mapping[str, float]], paper_table: str
                 ) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a table laid out like the paper's Atari tables: one row per game and
    data source, our cells for each (algorithm, label) of `ours` and the paper's for each
    (key, label) of `paper_columns`."""
    header = ["Game", "Data used", "Data: mean / best episode",
              *(f"{label} (ours)" for _, label in ours),
              *(f"{label} (paper)" for _, label in paper_columns)]
    lines = []
    for game in GAMES:
        for dataset, rows in data_sources(runs, game, fallback="mixed"):
            lines.append([game, source_label("atari", game, dataset, rows), data_cell(rows),
                          *algo_cells(rows, [a for a, _ in ours]),
                          *(paper_cell(paper_table, paper, game, key)
                            for key, _ in paper_columns)])
    return header, lines


def atari_table(collected: Collected) -> Table:
    profile = collected.profile
    runs = collected.of("atari")
    header, lines = atari_layout(runs, shown_columns(runs, "atari", profile, OURS), PAPER,
                                 ATARI_TABLE1, "ATARI_TABLE1")
    caption = (
        f"Gamer-normalised score (100 = professional gamer, 0 = random; the paper's constants), "
        f"profile `{profile}`, {SPREAD}, from raw (unclipped) game scores; DT at "
        "the paper's target return (Table 8). 'Data used' says which data produced our numbers: "
        "'generated here' is dtbench's scripted-and-random play on this machine (`dtbench data "
        "make atari/<game>`), not the DQN-replay data, so it is not the paper's data. "
        "'Data: mean / best episode' scores the training data's own episodes. Paper columns: "
        "Chen et al. 2021 Table 1 (1% DQN-replay) and Table 4 (10%BC), with the paper's ± (std "
        "over 3 seeds) where it printed one. Regenerate with "
        f"`make atari`. {BC_NOTE}{deviations('atari', profile)}"
        f"{stand_in_note(runs, 'atari', profile)}"
    )
    return Table("atari", "Atari (paper Tables 1 and 4)" + tier("atari", profile),
                 pipeline_note("atari", profile) + caption, header, lines, "make atari",
                 not runs.empty)
