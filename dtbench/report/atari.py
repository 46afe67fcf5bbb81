"""The paper's Atari table (Table 1, with Table 4's 10%BC) from stored Atari runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from dtbench.report.cells import (
    BC_NOTE,
    INTERVAL_NOTE,
    algo_cells,
    cells_phrase,
    data_cell,
    data_phrase,
    data_sources,
    pipeline_note,
    settings_note,
    shown_columns,
    source_label,
    stand_in_note,
    tier,
)
from dtbench.report.collected import Collected
from dtbench.report.d4rl import OURS, PAPER
from dtbench.report.paper import ATARI_TABLE1, QBERT_NOTE, paper_cell
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
        pipeline_note("atari", profile)
        + "Gamer-normalised score (100 = professional gamer, 0 = random; from raw, unclipped "
        f"game scores) of each method trained on {atari_data(runs)}, profile `{profile}`, "
        f"{cells_phrase(runs)}. "
        "The paper's columns are Chen et al. 2021 Table 1 (1% DQN-replay) and Table 4 (10%BC), "
        "with the paper's ± (std over its 3 seeds) where it printed one.")
    notes = [
        "'Data used' says which data produced our numbers; 'Data: mean / best episode' scores "
        "the training data's own episodes.",
        "DT is evaluated at the paper's target return (Table 8).",
        QBERT_NOTE, BC_NOTE, INTERVAL_NOTE, stand_in_note(runs, "atari", profile),
        "Regenerate with `make atari`."]
    return Table("atari", "Atari (paper Tables 1 and 4)" + tier("atari", profile),
                 caption, header, lines, "make atari", not runs.empty,
                 settings_note("atari", profile), notes)


def atari_data(runs: pd.DataFrame) -> str:
    """The opening's words for the data of Atari runs, by the routes they recorded."""
    return data_phrase(runs, "data generated here by scripted and random play (not "
                             "DQN-replay)", "the published DQN-replay or Minari data")
