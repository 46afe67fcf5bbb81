"""Anchor cells (the benchmark's second tier): one cell per large domain at a budget this CPU
can afford and where the methods do learn, run with 3 seeds beside the pipeline checks.

The budget is chosen from probes: one run per method on seed 100 (a seed no table uses) with
evaluations during training (`make anchor-probes`); the anchors (`make anchors`) then run the
chosen budget on seeds 0-2. Both are quick-profile runs whose only overrides are the equal
step budget of DT and the baselines and the number of evaluations during training.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from dtbench.report.cells import (
    INTERVAL_NOTE,
    cells_phrase,
    code_mark,
    data_cell,
    mean_std_cell,
    settings_notes,
)
from dtbench.report.collected import Collected
from dtbench.report.curves import curve_points, run_curve
from dtbench.report.figures import ALGO_LABELS, PALETTE, panel_grid, save
from dtbench.report.probes import PROBE_SEED
from dtbench.report.scores import headline
from dtbench.report.table import Table
from dtbench.runs import only_overridden

# the probed cells (domain, task, dataset): Hopper medium-replay and HalfCheetah medium-expert,
# where the paper finds DT ahead of CQL and BC respectively level, and Pong on the
# scripted-tracker data. Hopper medium-replay's probe is flat for every method and Pong's
# methods have not levelled off at 10k, so only HalfCheetah has anchor runs (the Makefile's
# ANCHOR_CELLS); the other probes stay in the table as the reason.
CELLS = (("mujoco", "hopper", "medium-replay"), ("mujoco", "halfcheetah", "medium-expert"),
         ("atari", "pong", "mixed"))
KEYS = ("train.steps", "baseline.steps", "eval.during_training")
ALGOS = ("dt", "cql", "bc", "bc10")


def anchor_runs(collected: Collected) -> pd.DataFrame:
    """Headline rows of the probe and anchor runs: the anchor cells' dense runs whose only
    overrides are an equal step budget for DT and the baselines and the evaluations during
    training."""
    runs = collected.runs()
    if runs.empty:
        return runs
    cell = pd.Series(list(zip(runs["domain"], runs["task"], runs["dataset"], strict=True)),
                     index=runs.index).isin(CELLS)
    keep = (cell & (runs["variant"] == "dense")
            & runs["algo"].isin(ALGOS) & only_overridden(runs, *KEYS))
    runs = runs[keep]
    return headline(runs[runs["train.steps"] == runs["baseline.steps"]]) if not runs.empty \
        else runs


GAIN = 0.9  # share of a probe's gain (first evaluation to its level) that marks its plateau
LEVEL_POINTS = 3  # a probe's level: the mean of its last evaluations
NOISE = 2.0  # a rise counts only above this many noise stds
# a normal variable's std from the median absolute difference of successive draws
MEDIAN_DIFF_TO_STD = 0.6745 * 2**0.5


def rise(curve: pd.DataFrame) -> tuple[float, float] | None:
    """(level minus the first evaluation, the noise of one evaluation); None without more
    evaluations than the level takes. The noise is read from the median change between
    successive evaluations, so neither a single jump nor a rise still under way inflates it."""
    if len(curve) <= LEVEL_POINTS:
        return None
    scores = curve["score_mean"].to_numpy()
    noise = float(pd.Series(scores).diff().abs().median()) / MEDIAN_DIFF_TO_STD
    return float(scores[-LEVEL_POINTS:].mean() - scores[0]), noise


def learns(curve: pd.DataFrame) -> bool:
    """Whether a probe rises from its first evaluation by more than `NOISE` times its noise:
    a one-evaluation blip is not learning."""
    gained = rise(curve)
    return gained is not None and gained[0] > NOISE * gained[1]


def gain_step(curve: pd.DataFrame) -> int | None:
    """The first evaluated step at which the score has `GAIN` of its rise from the first
    evaluation to its level (the mean of the last `LEVEL_POINTS`); the first step when it
    does not rise beyond its noise (`learns`); None without enough evaluations."""
    if rise(curve) is None:
        return None
    scores, steps = curve["score_mean"].to_numpy(), curve["step"].to_numpy()
    if not learns(curve):
        return int(steps[0])
    level = scores[-LEVEL_POINTS:].mean()
    return int(steps[scores >= scores[0] + GAIN * (level - scores[0])][0])


def still_rising(curve: pd.DataFrame) -> bool:
    """A rise whose plateau step is among the evaluations that set its level: the probe ended
    before the method levelled off, so its budget is too short to say where it would."""
    step = gain_step(curve)
    return learns(curve) and step in set(curve["step"].to_numpy()[-LEVEL_POINTS:])


def gain_step_cell(curve: pd.DataFrame) -> str:
    step = gain_step(curve)
    if step is None:
        return "-"
    return f"{step:,}" + (" (still rising at the end)" if still_rising(curve) else "")


def rise_cell(curve: pd.DataFrame) -> str:
    """`+12.3 (noise 1.1)`, with "flat" when the rise is within the noise."""
    gained = rise(curve)
    if gained is None:
        return "-"
    return f"{gained[0]:+.1f} (noise {gained[1]:.1f}){'' if learns(curve) else ': flat'}"


def is_probe(runs: pd.DataFrame) -> pd.Series:
    return runs["seed"] == PROBE_SEED


def anchor_table(collected: Collected) -> Table:
    profile = collected.profile
    runs = anchor_runs(collected)
    anchors = runs[~is_probe(runs)] if not runs.empty else runs
    header = ["Cell", "Steps (every method)", "Data: mean / best",
              *(ALGO_LABELS[a] for a in ALGOS)]
    lines = []
    for (domain, task, dataset, steps), rows in (
            anchors.groupby(["domain", "task", "dataset", "train.steps"])
            if not anchors.empty else []):
        cells = [f"{domain}/{task} {dataset}", f"{int(steps):,}", data_cell(rows)]
        for algo in ALGOS:
            mine = rows[rows["algo"] == algo]
            cells.append(mean_std_cell(mine["score_mean"]) + code_mark(mine))
        lines.append(cells)
    caption = (
        f"Each method's score in the anchor cells, profile `{profile}` with one step budget "
        "for every method chosen from the anchor probes, on data generated here (SAC snapshots "
        f"and the scripted tracker; their own scores in the Data column): "
        f"{cells_phrase(anchors)}. "
        "Scores on each domain's scale (D4RL-normalised for MuJoCo, gamer-normalised for "
        "Atari), DT at its highest target return; claims about them are in results/claims.md.")
    notes = ["Every method gets the same gradient steps, the Steps column's in place of the "
             "profile's below (DT's batch is context windows, the baselines' transitions: "
             "results/budgets.md), the same evaluation episodes and reset seeds.",
             INTERVAL_NOTE, "Fill with `make anchors`."]
    domains = sorted({d for d, _, _ in CELLS})
    return Table("anchors", f"Anchor cells (profile {profile})", caption, header,
                 lines, "make anchors", bool(lines), settings_notes(domains, profile), notes)


def probe_table(collected: Collected) -> Table:
    profile = collected.profile
    runs = anchor_runs(collected)
    probes = runs[is_probe(runs)] if not runs.empty else runs
    header = ["Cell", "Method", "Steps", "Score during training (step: score)", "Final",
              "Best (step)", "Rise to its level", "90% of its gain by (step)"]
    lines = []
    for (domain, task, dataset, algo), rows in (
            probes.groupby(["domain", "task", "dataset", "algo"]) if not probes.empty else []):
        run = rows.iloc[0]
        curve = run_curve(collected.root, run)
        points = curve_points(curve)
        best = curve.loc[curve["score_mean"].idxmax()] if not curve.empty else None
        lines.append([f"{domain}/{task} {dataset}", ALGO_LABELS[algo],
                      f"{int(run['train.steps']):,}", points or "-",
                      f"{run['score_mean']:.1f}{code_mark(rows)}",
                      f"{best['score_mean']:.1f} ({int(best['step']) // 1000}k)"
                      if best is not None else "-", rise_cell(curve), gain_step_cell(curve)])
    caption = (
        f"Learning curves of each method in the candidate anchor cells, profile `{profile}`: "
        f"one run per method and cell on seed {PROBE_SEED} (no table's seed), on data generated "
        "here, evaluated during training (`make anchor-probes`), to find a budget where the "
        "methods have learned what they will. "
        f"A method's level is the mean of its last {LEVEL_POINTS} evaluations; its rise, level "
        f"minus its first evaluation, counts only above {NOISE:g} x its noise (else 'flat'); "
        f"the last column is the first evaluation with {GAIN:.0%} of a rise. "
        "One run per cell and method: a trend, not an interval.")
    notes = [
        "A method's noise is the std of one evaluation, read from the median change between "
        "successive ones; a flat curve's last column is its first evaluation, and 'still "
        "rising' marks a plateau step among the evaluations that set the level.",
        "A cell is an anchor where its methods have levelled off within a budget this CPU "
        "affords for 3 seeds, at a budget that covers their last column; the anchors' budget "
        "is chosen from these curves, never from the anchor seeds. DT at its highest target "
        "return.", "Fill with `make anchor-probes`."]
    domains = sorted({d for d, _, _ in CELLS})
    return Table("anchor-probes", f"Anchor probes: learning curves on seed {PROBE_SEED}",
                 caption, header, lines, "make anchor-probes", bool(lines),
                 settings_notes(domains, profile), notes)


def anchor_curves(collected: Collected, folder: Path) -> list[Path]:
    """Score against gradient step in each anchor cell: the probe (seed 100, dashed) and the
    anchor seeds (mean, band of sample std), one panel per cell, one colour per method."""
    profile = collected.profile
    runs = anchor_runs(collected)
    frames = []
    for _, run in runs.iterrows() if not runs.empty else ():
        curve = run_curve(collected.root, run)
        if len(curve) > 1:
            kind = f"probe (seed {PROBE_SEED})" if run["seed"] == PROBE_SEED else "anchor seeds"
            frames.append(curve.assign(panel=f"{run['domain']}/{run['task']} {run['dataset']}",
                                       method=ALGO_LABELS[run["algo"]], runs=kind,
                                       score_label=run["score_label"]))
    if not frames:
        return []
    curves = pd.concat(frames, ignore_index=True)
    panels = [f"{d}/{t} {ds}" for d, t, ds in CELLS if f"{d}/{t} {ds}" in set(curves["panel"])]
    fig, axes = panel_grid(len(panels), 3.6, 3.0)
    colours = {ALGO_LABELS[a]: PALETTE[a] for a in ALGOS}
    probe = f"probe (seed {PROBE_SEED})"
    dashes = {"anchor seeds": "", probe: (4, 2)}  # the probe dashed, whichever runs exist
    for ax, panel in zip(axes, panels, strict=False):
        part = curves[curves["panel"] == panel]
        sns.lineplot(part, x="step", y="score_mean", hue="method", palette=colours,
                     hue_order=[m for m in colours if m in set(part["method"])], style="runs",
                     dashes=dashes, errorbar="sd", marker="o", markersize=4, legend=False,
                     ax=ax)
        ax.set_title(panel, fontsize=9)
        ax.set_xlabel("gradient step (every method)")
        ax.set_ylabel(part["score_label"].iloc[0], fontsize=8)
    # one legend beside the panels, where it covers no curve
    handles = [plt.Line2D([], [], color=c, marker="o", markersize=4) for c in colours.values()]
    handles += [plt.Line2D([], [], color="grey", linestyle="--" if dashes[k] else "-")
                for k in dashes if k in set(curves["runs"])]
    labels = [*colours, *(k for k in dashes if k in set(curves["runs"]))]
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7,
               frameon=False)
    seeds = sorted(set(runs.loc[~is_probe(runs), "seed"]))
    fig.suptitle(textwrap.fill(
        f"Anchor cells, profile {profile}, data made by dtbench: score during training; probe "
        f"seed {PROBE_SEED} (dashed) and anchor seeds {seeds or 'not run yet'} (solid: mean, "
        "band: sample std)", 40 * len(panels) + 30), fontsize=9)
    fig.tight_layout()
    return save(fig, folder, "anchor-curves")
