"""Dense against delayed (sparse) rewards: the paper's Table 7 from stored MuJoCo runs.

Delayed runs put an episode's whole return on its last step (`--variant delayed`); DT's target
is then not decremented during the episode. BC and %BC ignore rewards for learning, but %BC's
episode ranking uses returns, which the delay leaves unchanged.
"""

from __future__ import annotations

import pandas as pd

from dtbench.report.cells import (
    BC_NOTE,
    INTERVAL_NOTE,
    best_target_cell,
    cells_phrase,
    data_sources,
    pipeline_note,
    settings_note,
    shown_columns,
    source_label,
    tier,
)
from dtbench.report.collected import Collected
from dtbench.report.d4rl import mujoco_data
from dtbench.report.paper import D4RL_TABLE7, paper_cell
from dtbench.report.table import Table

ROWS = ("medium-expert", "medium", "medium-replay")
# Our columns (algo, variant, label): "agnostic" is the delayed runs where there are some,
# else the dense ones (BC never reads a reward, and the delay leaves the episode returns that
# rank %BC's data unchanged); of the two BC kinds, those the profile runs (`shown_columns`)
OURS = (("dt", "delayed", "Delayed: DT"), ("cql", "delayed", "Delayed: CQL"),
        ("bc", "agnostic", "Agnostic: d3rlpy BC"), ("bc10", "agnostic", "Agnostic: d3rlpy 10%BC"),
        ("bc-paper", "agnostic", "Agnostic: BC [bc-paper]"),
        ("bc10-paper", "agnostic", "Agnostic: 10%BC [bc10-paper]"),
        ("dt", "dense", "Original: DT"), ("cql", "dense", "Original: CQL"))
# The paper's columns (label, key in D4RL_TABLE7)
PAPER = (("Delayed: DT", "dt_delayed"), ("Delayed: CQL", "cql_delayed"),
         ("Agnostic: BC", "bc"), ("Agnostic: %BC", "pbc"), ("Original: DT", "dt_dense"),
         ("Original: CQL", "cql_dense"))


def _pick(rows: pd.DataFrame, algo: str, variant: str) -> pd.DataFrame:
    if rows.empty:
        return rows
    mine = rows[rows["algo"] == algo]
    if variant == "agnostic":
        delayed = mine[mine["variant"] == "delayed"]
        return delayed if not delayed.empty else mine[mine["variant"] == "dense"]
    return mine[mine["variant"] == variant]


TASKS = ("hopper", "halfcheetah", "walker2d")  # the paper's Table 7 has Hopper only
PAPER_TASK = "hopper"


def delayed_table(collected: Collected) -> Table:
    profile = collected.profile
    runs = collected.of("mujoco", variants=("dense", "delayed"))
    has_delayed = not runs.empty and (runs["variant"] == "delayed").any()
    ours = [(a, v, label) for a, v, label in OURS
            if (a, label) in shown_columns(runs, "mujoco", profile, [(a, label)])]
    header = ["Dataset", "Env", "Data used", *(f"{label} (ours)" for *_, label in ours),
              *(f"{label} (paper)" for label, _ in PAPER)]
    lines = []
    for task in TASKS:
        delayed = not runs.empty and ((runs["variant"] == "delayed")
                                      & (runs["task"] == task)).any()
        if task != PAPER_TASK and not delayed:
            continue  # the paper's task always has its rows; others once they have runs
        for name in ROWS:
            for dataset, rows in data_sources(runs, task, name):
                cells = [name, task, source_label("mujoco", task, dataset, rows)]
                cells += [best_target_cell(_pick(rows, algo, variant))
                          for algo, variant, _ in ours]
                cells += [paper_cell("D4RL_TABLE7", D4RL_TABLE7, name, key)
                          if task == PAPER_TASK else "-" for _, key in PAPER]
                lines.append(cells)
    caption = (
        pipeline_note("mujoco", profile)
        + "D4RL normalised score of each method with delayed rewards (the whole return on an "
        f"episode's last step) beside the same methods on dense rewards, on {mujoco_data(runs)}, "
        f"profile `{profile}`, {cells_phrase(runs)}. "
        "The paper's columns are Chen et al. 2021 Table 7 (Hopper only), with the paper's ± "
        "where it printed one.")
    notes = [
        "Scores always count the original rewards. 'Original' columns are the dense runs; "
        "'Agnostic' columns are the delayed runs where there are some, else the dense ones "
        "(BC never reads a reward, and the delay leaves the returns that rank %BC's data as "
        "they were). '-' in a paper column: not given in the paper.",
        BC_NOTE, INTERVAL_NOTE, "Fill with `make sparse SPARSE_DOMAINS=mujoco`."]
    return Table("delayed", "Delayed rewards (paper Table 7)" + tier("mujoco", profile),
                 caption, header, lines, "make sparse SPARSE_DOMAINS=mujoco", has_delayed,
                 settings_note("mujoco", profile), notes)
