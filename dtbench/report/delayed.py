"""Dense against delayed (sparse) rewards: the paper's Table 7 from stored MuJoCo runs.

Delayed runs put an episode's whole return on its last step (`--variant delayed`); DT's target
is then not decremented during the episode. BC and %BC ignore rewards for learning, but %BC's
episode ranking uses returns, which the delay leaves unchanged.
"""

from __future__ import annotations

from pathlib import Path

from dtbench.report.cells import best_target_cell, data_sources, deviations, source_label
from dtbench.report.paper import D4RL_TABLE7
from dtbench.report.table import Table, runs_of

ROWS = ("medium-expert", "medium", "medium-replay")
# (our algo, variant, column label, key in D4RL_TABLE7)
COLUMNS = (("dt", "delayed", "Delayed: DT", "dt_delayed"),
           ("cql", "delayed", "Delayed: CQL", "cql_delayed"),
           ("bc", "delayed", "Agnostic: BC", "bc"),
           ("bc10", "delayed", "Agnostic: 10%BC", "pbc"),
           ("dt", "dense", "Original: DT", "dt_dense"),
           ("cql", "dense", "Original: CQL", "cql_dense"))


TASKS = ("hopper", "halfcheetah", "walker2d")  # the paper's Table 7 has Hopper only
PAPER_TASK = "hopper"


def delayed_table(results_root: Path, profile: str) -> Table:
    runs = runs_of(results_root, "mujoco", profile, variants=("dense", "delayed"))
    has_delayed = not runs.empty and (runs["variant"] == "delayed").any()
    header = ["Dataset", "Env", "Data used", *(f"{label} (ours)" for *_, label, _ in COLUMNS),
              *(f"{label} (paper)" for *_, label, _ in COLUMNS)]
    lines = []
    for task in TASKS:
        delayed = not runs.empty and ((runs["variant"] == "delayed")
                                      & (runs["task"] == task)).any()
        if task != PAPER_TASK and not delayed:
            continue  # the paper's task always has its rows; others once they have runs
        for name in ROWS:
            for dataset, rows in data_sources(runs, task, name):
                cells = [name, task, source_label("mujoco", task, dataset)]
                for algo, variant, _, _ in COLUMNS:
                    pick = rows[(rows["algo"] == algo) & (rows["variant"] == variant)] \
                        if not rows.empty else rows
                    cells.append(best_target_cell(pick))
                paper = D4RL_TABLE7[name] if task == PAPER_TASK else {}
                cells += [f"{paper[key]:.1f}" if key in paper else "-" for *_, key in COLUMNS]
                lines.append(cells)
    caption = (
        "MuJoCo with delayed rewards (the whole return on the last step), "
        f"profile `{profile}`, D4RL normalised score, mean ± std over seeds (n); scores always "
        "count the original rewards. 'Original' columns are the same runs on dense rewards. "
        "Paper columns: Chen et al. 2021 Table 7, Hopper only ('-': not given in the paper). "
        f"Fill with `make sparse SPARSE_DOMAINS=mujoco`. {deviations('mujoco', profile)}"
    )
    return Table("delayed", "Delayed rewards (paper Table 7)", caption, header, lines,
                 "make sparse SPARSE_DOMAINS=mujoco", has_delayed)
