"""%BC beside DT: the paper's Table 3 (D4RL) and Table 4 (Atari) from stored runs.

%BC is BC on the top X% of timesteps by episode return (d3rlpy's `bc10`, `bc25`, `bc40`, or
the paper's own `bc10-paper`, ...); 100%BC is plain BC. The quick grids run `bc10` only; the
other fractions come from `make mujoco ALGOS="bc25 bc40"` (or `make atari ...`), which adds
just those runs. The paper grids run all four of the paper's own.
"""

from __future__ import annotations

from dtbench.report.atari import atari_data, atari_layout
from dtbench.report.cells import (
    BC_NOTE,
    INTERVAL_NOTE,
    cells_phrase,
    pipeline_note,
    settings_note,
    shown_columns,
    tier,
)
from dtbench.report.collected import Collected
from dtbench.report.d4rl import d4rl_layout, mujoco_data
from dtbench.report.paper import ATARI_TABLE4, D4RL_TABLE3, QBERT_NOTE
from dtbench.report.table import Table

OURS = (("dt", "DT"), *((f"bc{x}", f"d3rlpy {x}%BC") for x in (10, 25, 40)),
        ("bc", "d3rlpy 100%BC"),
        *((f"bc{x}-paper", f"{x}%BC [bc{x}-paper]") for x in (10, 25, 40)),
        ("bc-paper", "100%BC [bc-paper]"))
PAPER = (("dt", "DT"), ("bc10", "10%BC"), ("bc25", "25%BC"), ("bc40", "40%BC"),
         ("bc", "100%BC"))
D4RL_ROWS = ("medium", "medium-replay")


PBC_NOTE = "%BC is BC on the top X% of timesteps by episode return; 100%BC is BC."


def pbc_d4rl_table(collected: Collected) -> Table:
    profile = collected.profile
    runs = collected.of("mujoco")
    header, lines = d4rl_layout(runs, D4RL_ROWS, shown_columns(runs, "mujoco", profile, OURS),
                                PAPER, D4RL_TABLE3, "D4RL_TABLE3")
    caption = (
        pipeline_note("mujoco", profile)
        + "D4RL normalised score of DT and of %BC (BC on the top 10, 25, 40 and 100% of the "
        f"data) trained on {mujoco_data(runs)}, profile `{profile}`, {cells_phrase(runs)}. "
        "The paper's columns are Chen et al. 2021 Table 3, with the paper's ± where it printed "
        "one (its Reacher rows left out: no Reacher task here).")
    notes = [PBC_NOTE, "DT is evaluated at its first target return. 'Data used' as in the "
             "MuJoCo table.", "'not run' cells: `make mujoco ALGOS=\"bc25 bc40\"` adds those "
             "runs.", BC_NOTE, INTERVAL_NOTE]
    return Table("pbc-d4rl", "%BC on D4RL (paper Table 3)" + tier("mujoco", profile),
                 caption, header, lines, "make mujoco", not runs.empty,
                 settings_note("mujoco", profile), notes)


def pbc_atari_table(collected: Collected) -> Table:
    profile = collected.profile
    runs = collected.of("atari")
    header, lines = atari_layout(runs, shown_columns(runs, "atari", profile, OURS), PAPER,
                                 ATARI_TABLE4, "ATARI_TABLE4")
    caption = (
        pipeline_note("atari", profile)
        + "Gamer-normalised score of DT and of %BC (BC on the top 10, 25, 40 and 100% of the "
        f"data) trained on {atari_data(runs)}, profile `{profile}`, {cells_phrase(runs)}. "
        "The paper's columns are Chen et al. 2021 Table 4 (1% DQN-replay), with the paper's ±.")
    notes = [PBC_NOTE, "DT is evaluated at the paper's target return.",
             "'not run' cells: `make atari ALGOS=\"bc25 bc40\"` adds those runs.", QBERT_NOTE,
             BC_NOTE, INTERVAL_NOTE]
    return Table("pbc-atari", "%BC on Atari (paper Table 4)" + tier("atari", profile),
                 caption, header, lines, "make atari", not runs.empty,
                 settings_note("atari", profile), notes)
