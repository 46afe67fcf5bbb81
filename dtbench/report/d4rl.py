"""The paper's D4RL table (Table 2, with Table 3's 10%BC) from stored MuJoCo runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from dtbench import registry
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
from dtbench.report.collected import Collected, stands_for
from dtbench.report.paper import (
    D4RL_TABLE2,
    D4RL_TABLE2_AVERAGE,
    D4RL_TABLE2_REACHER,
    paper_cell,
)
from dtbench.report.scores import headline
from dtbench.report.table import Table

# Our columns (algorithm, label): of the two BC kinds a table shows those its profile runs
# (`cells.shown_columns`); the paper's columns (its key, label) are its own BC
OURS = (("dt", "DT"), ("cql", "CQL"), ("bc", "d3rlpy BC"), ("bc10", "d3rlpy 10%BC"),
        ("bc-paper", "BC [bc-paper]"), ("bc10-paper", "10%BC [bc10-paper]"))
PAPER = (("dt", "DT"), ("cql", "CQL"), ("bc", "BC"), ("bc10", "10%BC"))
ROWS = ("medium-expert", "medium", "medium-replay")
TASKS = ("halfcheetah", "hopper", "walker2d")


def d4rl_layout(runs: pd.DataFrame, names: Sequence[str], ours: Sequence[tuple[str, str]],
                paper_columns: Sequence[tuple[str, str]],
                paper: Mapping[tuple[str, str], Mapping[str, float]], paper_table: str
                ) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a table laid out like the paper's D4RL tables: one row per dataset
    name, task and data source (generated here, D4RL, Minari) with our cells for each
    (algorithm, label) of `ours` and the paper's for each (key, label) of `paper_columns`."""
    header = ["Dataset", "Env", "Data used", "Data: mean / best episode",
              *(f"{label} (ours)" for _, label in ours),
              *(f"{label} (paper)" for _, label in paper_columns)]
    lines = []
    for name in names:
        for task in TASKS:
            for dataset, rows in data_sources(runs, task, name):
                lines.append([name, task, source_label("mujoco", task, dataset, rows),
                              data_cell(rows), *algo_cells(rows, [a for a, _ in ours]),
                              *(paper_cell(paper_table, paper, (name, task), key)
                                for key, _ in paper_columns)])
    return header, lines


def _with_reacher(lines: list[list[str]], ours: Sequence[tuple[str, str]]) -> list[list[str]]:
    """Table 2's Reacher row after each dataset's rows: the paper's numbers, and ours saying
    why there are none."""
    out = []
    for name in ROWS:
        out += [line for line in lines if line[0] == name]
        out.append([name, "reacher", "-", "-", *(["not run: no released Reacher data"]
                                                  + ["-"] * (len(ours) - 1)),
                    *(paper_cell("D4RL_TABLE2_REACHER", D4RL_TABLE2_REACHER, name, key)
                      for key, _ in PAPER)])
    return out


def _average_row(runs: pd.DataFrame, ours: Sequence[tuple[str, str]]) -> list[str]:
    """The mean over the nine Hopper/HalfCheetah/Walker cells of each method (ours: of the
    cells' means, shown only when all nine ran, each on one data source)."""
    names = stands_for(runs) if not runs.empty else None
    means_of = []
    for algo, _ in ours:
        means = []
        for name in ROWS:
            for task in TASKS:
                rows = runs[(runs["task"] == task) & (runs["algo"] == algo) & (names == name)] \
                    if not runs.empty else runs
                if not rows.empty and rows["dataset"].nunique() == 1:  # one data source
                    means.append(headline(rows)["score_mean"].mean())
        means_of.append(f"{sum(means) / len(means):.1f}" if len(means) == 9 else "-")
    return ["Average (without Reacher)", "", "", "", *means_of,
            *(f"{D4RL_TABLE2_AVERAGE[key]:.1f}" if key in D4RL_TABLE2_AVERAGE else "-"
              for key, _ in PAPER)]


def targets_text(profile: str) -> str:
    """DT's first target return on each MuJoCo task and the paper's halfcheetah one (the
    official code's second), from the registered settings."""
    domain = registry.get_domain("mujoco")
    targets = {name: domain.settings_for(task, profile).eval.target_returns
               for name, task in domain.tasks.items()}
    return (", ".join(f"{name} {t[0]:g}" for name, t in targets.items())
            + f"; the paper's Table 9 lists halfcheetah {targets['halfcheetah'][1]:g}, the "
            "code's second")


def d4rl_table(collected: Collected) -> Table:
    profile = collected.profile
    runs = collected.of("mujoco")
    ours = shown_columns(runs, "mujoco", profile, OURS)
    header, lines = d4rl_layout(runs, ROWS, ours, PAPER, D4RL_TABLE2, "D4RL_TABLE2")
    lines = _with_reacher(lines, ours) + [_average_row(runs, ours)]
    caption = (
        pipeline_note("mujoco", profile)
        + "D4RL normalised score (100 = D4RL expert, 0 = random) of each method trained on "
        f"{mujoco_data(runs)}, profile `{profile}`, {cells_phrase(runs)}. "
        "The paper's columns are Chen et al. 2021 Tables 2 and 3 on D4RL v2, with the paper's ± "
        "(std over its 3 seeds) where it printed one.")
    notes = [
        "'Data used' says which data produced our numbers; 'Data: mean / best episode' scores "
        "the training data's own episodes on the same scale.",
        f"DT is evaluated at its first target return, the official code's "
        f"({targets_text(profile)}).",
        "Reacher rows are the paper's only (its Reacher env and data were never released). "
        "Average: over the nine Hopper/HalfCheetah/Walker cells (ours only when all nine ran).",
        "The paper's CQL and BC columns may be D4RL-v0 literature numbers.",
        BC_NOTE, INTERVAL_NOTE, stand_in_note(runs, "mujoco", profile),
        "The MuJoCo benchmark tier, on Hopper data made here by SAC long enough for "
        "D4RL-grade experts, is results/mujoco-bench.md (`make mujoco-bench-all`).",
        "Regenerate with `make mujoco`."]
    return Table("mujoco", "MuJoCo / D4RL (paper Tables 2 and 3)" + tier("mujoco", profile),
                 caption, header, lines, "make mujoco", not runs.empty,
                 settings_note("mujoco", profile), notes)


def mujoco_data(runs: pd.DataFrame) -> str:
    """The opening's words for the data of MuJoCo runs, by the routes they recorded."""
    return data_phrase(runs, "data generated here by short SAC runs (not D4RL's)",
                       "the published D4RL or Minari data")
