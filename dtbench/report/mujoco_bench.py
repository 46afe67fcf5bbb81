"""The MuJoCo benchmark tier: the paper's DT, CQL, BC, 10%BC and the paper's BC on Hopper data
made here by the bench generation budget (SAC long enough for experts in D4RL's range), run as
the domain's `bench` grid under the paper profile (`dtbench suite mujoco -p paper --grid
bench`); its table, its learning-curve probes and their figure.

The tier's step budget is read from `bench-curves`: one run per method on seed 100 (no table's
seed), longer than the tier, evaluated during training; the tier runs its budget on seeds 0-2
(0-4 on medium-replay). Its runs are the grids' runs exactly, found by their folders, so runs of
an older budget or tuning stay out; tier runs carry overrides and so never enter the paper
profile's own tables (`Collected.plain`).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from dtbench import registry
from dtbench.contract import RunSpec, overrides_label
from dtbench.domains.mujoco.provenance import EXPERT_FLOORS, describe
from dtbench.report import figures
from dtbench.report.cells import (
    INTERVAL_NOTE,
    algo_cells,
    code_mark,
    data_cell,
    mean_std_cell,
    seeds_phrase,
)
from dtbench.report.collected import Collected
from dtbench.report.curves import curve_points, run_curve
from dtbench.report.figures import ALGO_LABELS, PALETTE, panel_grid, save
from dtbench.report.paper import D4RL_TABLE2, D4RL_TABLE3, D4RL_TABLE7, paper_cell
from dtbench.report.probes import PROBE_SEED
from dtbench.report.scores import headline, with_target_scores
from dtbench.report.stats import mean_interval, t_interval
from dtbench.report.table import Table
from dtbench.report.targets import per_target_cell, tracking
from dtbench.suite import Choice, expand, expand_tuning, shared_overrides

DOMAIN, PROFILE = "mujoco", "paper"
TIER, CURVES, DELAYED = "bench", "bench-curves", "bench-delayed"
D4RL_ORDER = ("medium", "medium-replay", "medium-expert")  # the paper's rows, in its order
# each of our methods by the paper's Table 2 column of the same kind (the paper's BC and %BC
# are its own implementation: `bc-paper` is ours of it; d3rlpy's BC has no paper column)
PAPER_COLUMN = {"dt": "dt", "cql": "cql", "bc-paper": "bc", "bc10": "bc10"}


def grid_runs(collected: Collected, grid: str, every_target: bool = False) -> pd.DataFrame:
    """Headline rows (DT at its highest target; with `every_target`, a row per target) of the
    runs the domain's named grid makes (its parts included), found by their folders."""
    if grid not in registry.get_domain(DOMAIN).grids:
        return collected.every.iloc[0:0]
    return _runs_of(collected, expand(DOMAIN, PROFILE, Choice(grid=grid)), every_target)


def probe_runs(collected: Collected) -> pd.DataFrame:
    """Headline rows of the tier's tuning probes (`TUNING["bench"]`)."""
    return _runs_of(collected, expand_tuning(DOMAIN, PROFILE, TIER))


def _runs_of(collected: Collected, specs: list[RunSpec],
             every_target: bool = False) -> pd.DataFrame:
    every = collected.every
    if every.empty or "folder" not in every:
        return every.iloc[0:0]
    folders = {spec.folder(Path()).as_posix() for spec in specs}
    mine = every[every["folder"].isin(folders)]
    return mine.reset_index(drop=True) if every_target else headline(mine)


def claim_runs(collected: Collected) -> pd.DataFrame:
    """The tier's runs whose cells the claims table tests: the tier's and its delayed grid's."""
    frames = [f for f in (grid_runs(collected, TIER), grid_runs(collected, DELAYED))
              if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else collected.every.iloc[0:0]


def _plain(task: str, dataset: str) -> str:
    """The paper's name a tier dataset stands for (`bench-medium` -> `medium`)."""
    return registry.find_dataset(DOMAIN, task, dataset).plain_name


def _grids(grid: str) -> tuple[registry.Grid, ...]:
    """A named grid and its parts."""
    g = registry.get_domain(DOMAIN).grids[grid]
    return (g, *g.parts)


def tier_datasets(grid: str = TIER) -> list[str]:
    """The datasets a grid runs on, its parts' included, in the paper's row order."""
    task = tier_tasks(grid)[0]  # every task's datasets have the same plain names
    names = {d for part in _grids(grid) for d in part.datasets}
    return sorted(names, key=lambda d: D4RL_ORDER.index(_plain(task, d)))


# The wall hours on a 2-core machine the tier was planned to fit, generation included: its
# tasks and step budget were chosen to hold them (the compute note measures what it took).
COMPUTE_BUDGET_HOURS = 15


def tier_tasks(grid: str = TIER) -> list[str]:
    return list(dict.fromkeys(t for part in _grids(grid) for t in part.tasks))


def data_notes(collected: Collected) -> list[str]:
    """Per tier task, where its data came from, read from a tier run's record of it (so the
    note needs no data on the reader's machine): the SAC run, its expert and medium snapshots,
    the generation's wall time and the data digests the runs used."""
    notes = []
    compared = claim_runs(collected)
    elsewhere = tuned_on_other_data(collected)
    for task, (made, rows) in provenances(collected).items():
        # the claims compare the tier's and its delayed grid's runs: a curve probe on other
        # data moves none of them
        tested = compared[compared["task"] == task] if not compared.empty else compared
        per_dataset = _digests(tested if not tested.empty else rows, task)
        tuned_on = elsewhere.get(task, {})
        mixed = {name: len(found) for name, found in per_dataset.items()
                 if len(found) > 1} if not tested.empty else {}
        notes.append(
            f"Data ({task}): made here by `dtbench data make mujoco/{task} --budget "
            f"{made['budget']}`, {describe(made)}; data digests {_digest_text(per_dataset)} "
            "(another machine's generation differs: `dtbench compare` says so)."
            + (" The tier's runs on " + ", ".join(f"{name} used {n} generations of its data"
                                                   for name, n in mixed.items())
               + ": comparisons between runs on different generations are not tested "
               "(results/claims.md)." if mixed else "")
            + (" The learning curves and tuning probes ran on another generation of the "
               f"recipe ({_digest_text(tuned_on)}): the step budget and the settings were "
               "chosen on data the tier's runs do not train on." if tuned_on else ""))
    return notes


def tuned_on_other_data(collected: Collected) -> dict[str, dict[str, list[str]]]:
    """Per task and dataset, the data digests the learning curves and tuning probes recorded
    that none of the tier's (or its delayed grid's) runs on that dataset did: where the
    budget and settings were chosen on another generation of the recipe."""
    tier = claim_runs(collected)
    chose = pd.concat([f for f in (grid_runs(collected, CURVES), probe_runs(collected))
                       if not f.empty] or [tier.iloc[0:0]], ignore_index=True)
    found: dict[str, dict[str, list[str]]] = {}
    for task in tier_tasks():
        own = _digests(tier[tier["task"] == task] if not tier.empty else tier, task)
        other = {name: extra for name, digests in _digests(
                     chose[chose["task"] == task] if not chose.empty else chose, task).items()
                 if (extra := [g for g in digests if g not in own.get(name, [])])}
        if other and own:
            found[task] = other
    return found


def _digest_text(per_dataset: dict[str, list[str]]) -> str:
    """`medium 267421539260, medium-replay f1617dbb2e14 and ab12...`"""
    return ", ".join(f"{name} {' and '.join(g[:12] for g in found)}"
                     for name, found in per_dataset.items())


def _digests(runs: pd.DataFrame, task: str) -> dict[str, list[str]]:
    """{paper's dataset name: the data digests the runs on it recorded}."""
    if runs.empty or "data_digest" not in runs:
        return {}
    return {_plain(task, d): sorted(set(g.dropna()))
            for d, g in runs.groupby("dataset")["data_digest"]}


def tasks_note() -> str:
    """Which tasks the tier runs, and the bench budget's other tasks it leaves out."""
    tasks = tier_tasks()
    left = [t for t in EXPERT_FLOORS["bench"] if t not in tasks]
    if not left:
        return f"Tasks: {', '.join(tasks)}."
    owners = " and ".join(f"{t}'s" for t in left)
    return (f"Tasks: {', '.join(tasks)}. The bench budget also makes {owners} data, whose "
            "generations reached their experts' floors ("
            + ", ".join(f"{t} {EXPERT_FLOORS['bench'][t]:,.0f}" for t in left)
            + ": docs/implementation-details.md), but no tier runs on it: the tier's compute "
            f"budget (about {COMPUTE_BUDGET_HOURS} hours on 2 cores, generation included) "
            "holds one task (the compute note below).")


def provenances(collected: Collected) -> dict[str, tuple[dict, pd.DataFrame]]:
    """Per tier task, its generation's provenance as a run of the tier, its delayed grid or its
    curves recorded it (so no data need be on the reader's machine) and those runs; tasks
    whose data was not generated here are left out."""
    frames = [f for f in (grid_runs(collected, g) for g in (TIER, DELAYED, CURVES))
              if not f.empty]
    runs = pd.concat(frames, ignore_index=True) if frames else collected.every.iloc[0:0]
    found = {}
    for task, rows in runs.groupby("task") if not runs.empty else ():
        config = json.loads((collected.root / rows.iloc[0]["folder"] / "config.json").read_text())
        made = config["dataset"].get("provenance") or {}
        if "expert_return" in made:
            found[task] = made, rows
    return found


def compute_note(collected: Collected) -> str | None:
    """What the tier cost: the generation's wall time per task, then each part's training and
    evaluation seconds summed over its runs (every run and generation on one thread, so these
    are core-hours), the tuning counted with the rest."""
    parts = {"learning curves": grid_runs(collected, CURVES),
             "tuning probes": probe_runs(collected), "tier runs": grid_runs(collected, TIER),
             "delayed runs": grid_runs(collected, DELAYED)}
    hours = {f"{name} ({len(rows)} run{'' if len(rows) == 1 else 's'})":
             sum(_run_seconds(collected.root, run) for _, run in rows.iterrows()) / 3600
             for name, rows in parts.items() if not rows.empty}
    hours |= {f"generating {task}'s data": made["wall_seconds"] / 3600
              for task, (made, _) in provenances(collected).items() if "wall_seconds" in made}
    if not hours:
        return None
    listed = ", ".join(f"{name} {h:.1f} h" for name, h in hours.items())
    return (f"Compute, each on one thread (runs: training and final-evaluation seconds; a "
            f"resumed run's training from its logged step times, which leave out its "
            f"evaluations during training): "
            f"{listed}; {sum(hours.values()):.1f} core-hours in all.")


def _steps(grid: str) -> int:
    """The gradient steps a grid gives every method."""
    return dict(registry.get_domain(DOMAIN).grids[grid].overrides)["train.steps"]


def _run_seconds(root: Path, run: pd.Series) -> float:
    """A run's compute: its training seconds, the larger of the wall time of the session that
    finished it and its logged per-step times summed over every step (result.json `timing`:
    a run resumed across sessions has the second only), plus its final evaluation's."""
    try:
        timing = json.loads((root / run["folder"] / "result.json").read_text()).get("timing")
    except (OSError, ValueError):
        timing = None
    logged = sum(v for k, v in (timing or {}).items() if k != "eval_s")
    train = run["train_seconds"] if pd.notna(run.get("train_seconds")) else 0.0
    evaluation = run["eval_seconds"] if pd.notna(run.get("eval_seconds")) else 0.0
    return max(float(train), float(logged)) + float(evaluation)


def _budget_verdicts(collected: Collected) -> dict[str, list[tuple[str, str]]]:
    """Each curve-probed method as (label, detail) under 'flat', 'covered' (90% of its gain
    within the tier's steps) or 'short' (the budget stops it before that)."""
    steps = _steps(TIER)
    found: dict[str, list[tuple[str, str]]] = {"flat": [], "covered": [], "short": []}
    runs = grid_runs(collected, CURVES)
    for _, run in runs.sort_values("algo").iterrows() if not runs.empty else ():
        curve = run_curve(collected.root, run)
        step, label = gain_step(curve), ALGO_LABELS[run["algo"]]
        if step is None:
            continue
        if not learns(curve):
            found["flat"].append((label, ""))
        elif still_rising(curve):
            found["short"].append((label, "still rising at the curve's end"))
        elif step > steps:
            found["short"].append((label, f"{step:,}"))
        else:
            found["covered"].append((label, f"{step:,}"))
    return found


def tier_short_budget(collected: Collected) -> list[str]:
    """The methods the tier's step budget stops before their learning curve levelled off."""
    return [label for label, _ in _budget_verdicts(collected)["short"]]


def budget_note(collected: Collected) -> str | None:
    """Whether the tier's steps cover where each method levelled off on its learning curve
    (run at the authors' settings, before the tuning): flat curves, curves with 90% of their
    gain within the budget, and those the budget stops before that (named as understated)."""
    found, steps = _budget_verdicts(collected), _steps(TIER)
    listed = {kind: ", ".join(f"{label} ({detail})" if detail else label
                              for label, detail in found[kind]) for kind in found}
    parts = [f"flat within its evaluations' noise: {listed['flat']}" if found["flat"] else "",
             f"90% of its gain within the budget: {listed['covered']}" if found["covered"]
             else "",
             f"not levelled off by {steps:,}, so the tier understates it: {listed['short']}"
             if found["short"] else ""]
    said = "; ".join(filter(None, parts))
    return (f"Budget: {steps:,} steps, against each method's learning curve at its authors' "
            f"settings (the curves ran before the tuning): {said}.") if said else None


def tier_algos() -> list[str]:
    """The tier's methods (those its learning curves run: a method's tuned settings may put
    it in a grid part of its own)."""
    return list(registry.get_domain(DOMAIN).grids[CURVES].algos)


def _text(overrides: list[tuple[str, object]]) -> str:
    return overrides_label(overrides).replace("=", " ").replace(",", ", ")


def budget_text(grid: str) -> str:
    """The grid's departures from the paper profile shared by all its runs, as `train.steps
    10,000, ...`."""
    return _text(list(shared_overrides(DOMAIN, PROFILE, grid).items()))


def tuned_text(grid: str) -> str:
    """Each method's settings beyond the grid's shared budget (its tuning probes' picks, where
    they depart from the paper profile), as `DT train.lr 0.0003`, in the grid's order; empty
    where every method keeps the paper profile's."""
    shared = shared_overrides(DOMAIN, PROFILE, grid)
    picks: dict[str, str] = {}
    for spec in expand(DOMAIN, PROFILE, Choice(grid=grid)):
        extra = [(k, v) for k, v in spec.overrides
                 if shared.get(k, object()) != v and k != "eval.target_returns"]
        if extra and spec.algo not in picks:
            picks[spec.algo] = _text(extra)
    tuning = registry.get_domain(DOMAIN).tuning.get(TIER)
    probed = set(tuning.candidates) if tuning else set()
    for algo, text in picks.items():  # a method without probes of its own (25 and 40%BC)
        source = next((a for a, t in picks.items() if a in probed and t == text), None)
        if algo not in probed and source is not None:
            picks[algo] = f"{text} (not probed: {ALGO_LABELS[source]}'s)"
    ran = {spec.algo for spec in expand(DOMAIN, PROFILE, Choice(grid=grid))}
    kept = [ALGO_LABELS[a] for a in (tuning.candidates if tuning else ())
            if a in ran and a not in picks]
    said = [f"{ALGO_LABELS[algo]} {text}" for algo, text in picks.items()]
    if kept:
        names = kept[0] if len(kept) == 1 else f"{', '.join(kept[:-1])} and {kept[-1]}"
        said.append(f"{names} probed, keeping {'its' if len(kept) == 1 else 'their'} authors' "
                    "settings")
    return "; ".join(said)


def settings_text(grid: str) -> str:
    """The grid's departures from the paper profile: the shared budget, then each method's
    tuned settings."""
    tuned = tuned_text(grid)
    return budget_text(grid) + (f"; per method, from its tuning probes: {tuned}" if tuned else
                                "; every method at the paper profile's key settings")


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


def tier_table(collected: Collected) -> Table:
    """Per Hopper dataset and method: the final score (the headline) and the best during
    training over the tier's seeds, the data's own scores, the paper's Table 2 beside."""
    runs = grid_runs(collected, TIER)
    runs = runs[runs["variant"] == "dense"] if not runs.empty else runs
    header = ["Dataset", "Data: mean / best", "Method", "Final (headline)",
              "Best during training", "Paper (Tables 2, 3)"]
    lines = []
    for task in tier_tasks():
        for dataset in tier_datasets():
            rows = runs[(runs["task"] == task) & (runs["dataset"] == dataset)] \
                if not runs.empty else runs
            plain = _plain(task, dataset)
            for i, algo in enumerate(tier_algos()):
                mine = rows[rows["algo"] == algo] if not rows.empty else rows
                column = PAPER_COLUMN.get(algo)
                lines.append([
                    f"{task} {plain}" if i == 0 else "", data_cell(rows) if i == 0 else "",
                    ALGO_LABELS[algo],
                    (mean_std_cell(mine["score_mean"]) + code_mark(mine)) if len(mine)
                    else "not run",
                    mean_std_cell(mine["best_score_mean"]) if len(mine) else "-",
                    paper_cell("D4RL_TABLE2", D4RL_TABLE2, (plain, task), column)
                    if column else "-"])
    caption = (
        "The MuJoCo benchmark tier: the paper's DT (3 layers x 128, K = 20, batch 64, return "
        "scale 1000, the official targets) beside d3rlpy's CQL, BC and 10%BC and the paper's "
        "own BC, on Hopper data made here by the bench generation budget (SAC; D4RL's recipe, "
        "not D4RL's data), every method the same gradient steps at its own batch, "
        f"{seeds_phrase(runs) or 'no runs yet'}, each cell the "
        "per-seed final evaluation at the headline target as mean ± sample std [95% t "
        "interval] (n). "
        "Scores are D4RL-normalised (100 = D4RL's expert), the data's own on the same scale; "
        "the paper's numbers are on D4RL's data and 100k steps, so they are a reference, not "
        "a target. Claims are in results/claims.md.")
    settings = (f"Settings: the paper profile's, with {settings_text(TIER)}; the step budget "
                "is chosen from the learning curves (results/mujoco-bench-curves.md) and each "
                "method's key settings by its tuning probes (results/probes.md, 'mujoco (bench "
                "grid)') before the tier runs.")
    notes = [
        "'Best during training' is each seed's best evaluation over training, the final one "
        "included (CORL reports both; the final is the headline and the only score claims "
        "use).",
        "The tuning probes' picks are their rule's choice on two probe seeds, not resolved "
        "differences (results/probes.md).",
        "The paper column is the paper's method of the same kind: its BC and 10%BC are its "
        "own implementation (ours of its BC is 'BC [bc-paper]'); d3rlpy's BC has none. The "
        "paper prints a ± for DT only; its 10%BC is from its Table 3.",
        INTERVAL_NOTE, tasks_note(), *data_notes(collected),
        *filter(None, [budget_note(collected), compute_note(collected)])]
    return Table("mujoco-bench", "MuJoCo benchmark tier (Hopper, bench data, paper profile)",
                 caption, header, lines, "make mujoco-bench", not runs.empty, settings, notes)


# Table 3 on the tier's data: DT beside d3rlpy's %BC at each fraction (100%: BC)
PBC = (("dt", "DT"), ("bc10", "d3rlpy 10%BC"), ("bc25", "d3rlpy 25%BC"),
       ("bc40", "d3rlpy 40%BC"), ("bc", "d3rlpy 100%BC"))
PBC_PAPER = (("dt", "DT"), ("bc10", "10%BC"), ("bc25", "25%BC"), ("bc40", "40%BC"),
             ("bc", "100%BC"))


def pbc_table(collected: Collected) -> Table:
    """%BC's fraction (the paper's Table 3) on the tier's datasets where every fraction ran."""
    runs = grid_runs(collected, TIER)
    runs = runs[runs["variant"] == "dense"] if not runs.empty else runs
    swept = [d for d in tier_datasets() if any("bc25" in part.algos and d in part.datasets
                                               for part in _grids(TIER))]
    swept_runs = runs[runs["dataset"].isin(swept)] if not runs.empty else runs
    header = ["Dataset", "Data: mean / best", *(f"{label} (ours)" for _, label in PBC),
              *(f"{label} (paper)" for _, label in PBC_PAPER)]
    lines = []
    for task in tier_tasks():
        for dataset in swept:
            rows = runs[(runs["task"] == task) & (runs["dataset"] == dataset)] \
                if not runs.empty else runs
            lines.append([f"{task} {_plain(task, dataset)}", data_cell(rows),
                          *algo_cells(rows, [a for a, _ in PBC]),
                          *(paper_cell("D4RL_TABLE3", D4RL_TABLE3,
                                       (_plain(task, dataset), task), key)
                            for key, _ in PBC_PAPER)])
    caption = (
        "%BC's fraction on the MuJoCo benchmark tier's data (the paper's Table 3): DT beside "
        "d3rlpy's BC on the top 10, 25, 40 and 100% of the timesteps by episode return, with "
        f"the tier's settings and budget, {seeds_phrase(swept_runs) or 'no runs yet'}; each "
        "cell the "
        "final evaluation at the headline target as mean ± sample std [95% t interval] (n), "
        "'best' the mean of each seed's best evaluation during training. The paper's columns "
        "are its Table 3 (its own %BC, D4RL's data, 100k steps): a reference, not a target. "
        "DT against each fraction is in results/claims.md.")
    return Table("mujoco-bench-pbc", "MuJoCo benchmark tier: %BC's fraction (paper Table 3)",
                 caption, header, lines, "make mujoco-bench", not runs.empty and bool(swept),
                 f"Settings: as results/mujoco-bench.md ({settings_text(TIER)}).",
                 ["%BC is BC on the top X% of timesteps by episode return; 100%BC is BC.",
                  INTERVAL_NOTE])


def target_runs(collected: Collected) -> pd.DataFrame:
    """The tier's DT runs evaluated at several targets, a row per target."""
    specs = [spec for spec in expand(DOMAIN, PROFILE, Choice(grid=TIER))
             if spec.algo == "dt" and "eval.target_returns" in dict(spec.overrides)]
    return _runs_of(collected, specs, every_target=True)


def tier_targets(collected: Collected, folder: Path) -> list[Path]:
    """The paper's Figure 4 on the tier's data: achieved against target per seed."""
    return figures.draw_target_vs_achieved(
        target_runs(collected), folder, "mujoco-bench-targets",
        "MuJoCo benchmark tier (Hopper, bench data made by dtbench, paper profile): ")


def slope_cell(part: pd.DataFrame) -> tuple[str, str]:
    """Each seed's least-squares slope of achieved on target score: (mean [95% t interval]
    (n), the verdict). A slope above 0 whose interval excludes 0 says the achieved score rises
    with the target; one test, so no correction."""
    slopes = [tracking(seed["target_score"], seed["score_mean"])[1]
              for _, seed in part.groupby("seed")]
    slopes = [x for x in slopes if not np.isnan(x)]
    if len(slopes) < 2:
        return (f"{slopes[0]:.2f} (n=1)" if slopes else "-"), "one seed: no test"
    text = mean_interval(slopes, 2)
    low, high = t_interval(slopes)
    verdict = ("achieved rises with the target" if low > 0 else
               "achieved falls with the target" if high < 0 else "not resolved")
    return f"{text} (n={len(slopes)})", verdict


def targets_table(collected: Collected) -> Table:
    """DT's achieved score against its target on the tier's data (the paper's Figure 4)."""
    runs = target_runs(collected)
    runs = with_target_scores(runs) if not runs.empty else runs
    header = ["Dataset", "Data: best episode", "Targets (return)", "Achieved at each target "
              "(target score: mean [95% interval])", "r (target, achieved)",
              "Slope per seed [95% interval] (n)", "Verdict"]
    lines = []
    for (task, dataset), part in runs.groupby(["task", "dataset"]) if not runs.empty else ():
        means = part.groupby("target_score")["score_mean"].mean()
        r, _ = tracking(means.index.to_numpy(), means.to_numpy())
        slope, verdict = slope_cell(part)
        targets = ", ".join(f"{t:,.0f}" for t in sorted(set(part["target_return"])))
        lines.append([f"{task} {_plain(task, dataset)}", f"{part['data_score_max'].iloc[0]:.1f}",
                      targets, per_target_cell(part) + code_mark(part),
                      "-" if np.isnan(r) else f"{r:.2f}", slope, verdict])
    caption = (
        "DT's achieved score against the target return it is conditioned on, on the MuJoCo "
        "benchmark tier's data (the paper's Figure 4): each of the tier's DT runs on this "
        "dataset evaluated at every target after training (its headline is the highest, "
        f"the official one), {seeds_phrase(runs) or 'no runs yet'}, targets and scores "
        "D4RL-normalised, the data's best episode on the same scale. The verdict reads the "
        "per-seed slope of achieved on target: the score rises with the target where the "
        "slope's 95% t interval over seeds lies above 0.")
    notes = ["The paper's Figure 4 shows DT following the target up to about the data's best "
             "episode and levelling off beyond it (D4RL's data): a reference, not a target.",
             "The slope test is one test beside results/claims.md's family, so it is not "
             "Holm-corrected with it.", INTERVAL_NOTE]
    return Table("mujoco-bench-targets",
                 "MuJoCo benchmark tier: achieved against target (paper Figure 4)", caption,
                 header, lines, "make mujoco-bench", bool(lines),
                 f"Settings: as results/mujoco-bench.md ({settings_text(TIER)}).", notes)


# Table 7 on the tier's data: our columns (algo, variant) and the paper's keys
DELAYED_OURS = (("dt", "delayed", "Delayed: DT"), ("cql", "delayed", "Delayed: CQL"),
                ("dt", "dense", "Original: DT"), ("cql", "dense", "Original: CQL"))
DELAYED_PAPER = (("dt_delayed", "Delayed: DT"), ("cql_delayed", "Delayed: CQL"),
                 ("dt_dense", "Original: DT"), ("cql_dense", "Original: CQL"))


def delayed_table(collected: Collected) -> Table:
    """Dense against delayed rewards for DT and CQL on the tier's data (the paper's Table 7):
    the `bench-delayed` grid's runs beside the tier's dense runs of the same cells."""
    delayed = grid_runs(collected, DELAYED)
    # the dense side: the tier's runs of the same cells and seeds (medium-replay has 5 seeds
    # in the tier, 3 in the delayed grid)
    dense = grid_runs(collected, TIER)
    seeds = {seed for part in _grids(DELAYED) for seed in part.seeds}
    dense = dense[(dense["variant"] == "dense") & dense["seed"].isin(seeds)] \
        if not dense.empty else dense
    frames = [f for f in (delayed, dense) if not f.empty]
    runs = pd.concat(frames, ignore_index=True) if frames else delayed
    header = ["Dataset", "Data: mean / best", *(f"{label} (ours)" for *_, label in DELAYED_OURS),
              *(f"{label} (paper)" for _, label in DELAYED_PAPER)]
    lines = []
    for task in tier_tasks(DELAYED):
        for dataset in tier_datasets(DELAYED):
            rows = runs[(runs["task"] == task) & (runs["dataset"] == dataset)] \
                if not runs.empty else runs
            cells = [algo_cells(rows[rows["variant"] == variant] if not rows.empty else rows,
                                [algo])[0] for algo, variant, _ in DELAYED_OURS]
            lines.append([f"{task} {_plain(task, dataset)}", data_cell(rows), *cells,
                          *(paper_cell("D4RL_TABLE7", D4RL_TABLE7, _plain(task, dataset), key)
                            for key, _ in DELAYED_PAPER)])
    caption = (
        "Delayed rewards on the MuJoCo benchmark tier's data (the paper's Table 7): DT and CQL "
        "trained with each episode's whole return on its last step, beside the tier's dense "
        f"runs of the same cell and seeds, {seeds_phrase(delayed) or 'no runs yet'}; each cell "
        "the final "
        "evaluation at the headline target as mean ± sample std [95% t interval] (n). The "
        "paper's columns are its Table 7 (D4RL's data): a reference, not a target. DT against "
        "CQL on delayed rewards is in results/claims.md.")
    return Table("mujoco-bench-delayed",
                 "MuJoCo benchmark tier: delayed rewards (paper Table 7)", caption, header,
                 lines, "make mujoco-bench-delayed", not delayed.empty,
                 f"Settings: as results/mujoco-bench.md ({settings_text(DELAYED)}).",
                 [INTERVAL_NOTE])


def curves_table(collected: Collected) -> Table:
    """The learning-curve probes that set the tier's step budget: one run per method on
    seed 100, evaluated during training."""
    runs = grid_runs(collected, CURVES)
    header = ["Dataset", "Method", "Score during training (step: score)", "Final",
              "Best (step)", "Rise to its level", "90% of its gain by (step)"]
    lines = []
    for (task, dataset, algo), rows in (
            runs.groupby(["task", "dataset", "algo"]) if not runs.empty else []):
        run = rows.iloc[0]
        curve = run_curve(collected.root, run)
        best = curve.loc[curve["score_mean"].idxmax()] if not curve.empty else None
        plain = _plain(task, dataset)
        lines.append([f"{task} {plain}", ALGO_LABELS[algo], curve_points(curve) or "-",
                      f"{run['score_mean']:.1f}{code_mark(rows)}",
                      f"{best['score_mean']:.1f} ({int(best['step']) // 1000}k)"
                      if best is not None else "-", rise_cell(curve), gain_step_cell(curve)])
    caption = (
        "Learning curves that set the MuJoCo benchmark tier's step budget: one run per method "
        f"on seed {PROBE_SEED} (no tier table's seed) on the bench budget's Hopper data, "
        f"{_steps(CURVES):,} steps (the tier runs {_steps(TIER):,}), evaluated during training. "
        f"A method's level is the mean of its last {LEVEL_POINTS} evaluations; its rise, level "
        f"minus its first evaluation, counts only above {NOISE:g} x its noise (else 'flat'); "
        f"the last column is the first evaluation with {GAIN:.0%} of a rise. "
        "One run per method: a trend, not an interval.")
    notes = [
        "A method's noise is the std of one evaluation, read from the median change between "
        "successive ones; a flat curve's last column is its first evaluation, and 'still "
        "rising' marks a plateau step among the evaluations that set the level.",
        "results/mujoco-bench.md's budget note says which methods the tier's budget stops "
        "before their plateau. D4RL-normalised scores, DT at its highest target."]
    return Table("mujoco-bench-curves",
                 f"MuJoCo benchmark tier: learning curves on seed {PROBE_SEED}", caption,
                 header, lines, "make mujoco-bench-curves", bool(lines),
                 f"Settings: the paper profile's, with {budget_text(CURVES)}; each method at "
                 "its authors' key settings (the curves ran before the tuning).", notes)


def tier_curves(collected: Collected, folder: Path) -> list[Path]:
    """Score against gradient step per tier dataset: the curve probe (seed 100, dashed) and
    the tier's seeds (mean, band of sample std), one colour per method."""
    frames = []
    for kind, grid in ((f"probe (seed {PROBE_SEED})", CURVES), ("tier seeds", TIER)):
        runs = grid_runs(collected, grid)
        for _, run in runs.iterrows() if not runs.empty else ():
            curve = run_curve(collected.root, run)
            if len(curve) > 1:
                plain = _plain(run["task"], run["dataset"])
                frames.append(curve.assign(panel=f"{run['task']} {plain}",
                                           task=run["task"], order=D4RL_ORDER.index(plain),
                                           method=ALGO_LABELS[run["algo"]], runs=kind,
                                           seed=run["seed"]))
    if not frames:
        return []
    curves = pd.concat(frames, ignore_index=True)
    # the tables' row order: per task, the paper's datasets in its order
    panels = list(dict.fromkeys(curves.sort_values(["task", "order"], kind="stable")["panel"]))
    fig, axes = panel_grid(len(panels), 3.6, 3.0)
    colours = {ALGO_LABELS[a]: PALETTE[a] for a in tier_algos()}
    probe = f"probe (seed {PROBE_SEED})"
    dashes = {"tier seeds": "", probe: (4, 2)}
    for ax, panel in zip(axes, panels, strict=False):
        part = curves[curves["panel"] == panel]
        sns.lineplot(part, x="step", y="score_mean", hue="method", palette=colours,
                     hue_order=[m for m in colours if m in set(part["method"])], style="runs",
                     dashes=dashes, errorbar="sd", marker="o", markersize=4, legend=False,
                     ax=ax)
        ax.axvline(_steps(TIER), color="grey", linestyle=":", linewidth=1)
        ax.annotate(f"tier budget ({_steps(TIER) // 1000}k)", (_steps(TIER), 1.0),
                    xycoords=("data", "axes fraction"), xytext=(3, -3),
                    textcoords="offset points", fontsize=7, color="grey", va="top")
        tier_seeds = sorted(set(part.loc[part["runs"] == "tier seeds", "seed"]))
        ax.set_title(f"{panel}\ntier seeds: {', '.join(map(str, tier_seeds)) or 'none yet'}",
                     fontsize=9)
        ax.set_xlabel("gradient step (every method)")
        ax.set_ylabel("D4RL normalised score", fontsize=8)
    handles = [plt.Line2D([], [], color=c, marker="o", markersize=4) for c in colours.values()]
    handles += [plt.Line2D([], [], color="grey", linestyle="--" if dashes[k] else "-")
                for k in dashes if k in set(curves["runs"])]
    labels = [*colours, *(k for k in dashes if k in set(curves["runs"]))]
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7,
               frameon=False)
    undrawn = sorted({ALGO_LABELS[a] for a in grid_runs(collected, TIER).get("algo", ())}
                     - set(colours))
    fig.suptitle(textwrap.fill(
        "MuJoCo benchmark tier (Hopper, bench data made by dtbench, paper profile): score "
        f"during training; dashed: the learning-curve probe (seed {PROBE_SEED}, each method at "
        "its authors' settings, before the tuning"
        + (", on another generation of the data" if tuned_on_other_data(collected) else "")
        + "); solid: the tier's seeds at their tuned "
        "settings (mean, band: sample std)"
        + (f"; not drawn: {', '.join(undrawn)}" if undrawn else ""), 40 * len(panels) + 30),
        fontsize=9)
    fig.tight_layout()
    return save(fig, folder, "mujoco-bench-curves")
