"""`dtbench report`: every table, figure and aggregate rebuilt from the stored runs, no training.

Writes, under the results folder: runs.csv (one tidy row per run and target), <table>.md and
tables/<table>.tex, figures/<figure>.png|pdf, aggregates.md|csv, and README.md, an index that
says what each file shows and which make target fills what is still empty.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from dtbench.atomic import atomic_write
from dtbench.errors import DTBenchError
from dtbench.report import aggregates, anchors, figures
from dtbench.report.atari import atari_table
from dtbench.report.claims import claims_table
from dtbench.report.context import context_runs, context_table
from dtbench.report.critic import critic_table, draw_critic
from dtbench.report.d4rl import d4rl_table
from dtbench.report.delayed import delayed_table
from dtbench.report.graph import SHORTEST, WALK, graph_table, path_lengths, stitch_table
from dtbench.report.keydoor import keydoor_table
from dtbench.report.pbc import pbc_atari_table, pbc_d4rl_table
from dtbench.report.probes import budget_probe_table, budget_table, probe_table
from dtbench.report.table import Table
from dtbench.report.targets import target_table
from dtbench.report.when_dt import when_dt_table
from dtbench.runs import collect, write_table
from dtbench.runs.table import unreadable_runs

TABLES: dict[str, Callable[[Path, str], Table]] = {
    "keydoor": keydoor_table,
    "mujoco": d4rl_table,
    "atari": atari_table,
    "pbc-d4rl": pbc_d4rl_table,
    "pbc-atari": pbc_atari_table,
    "delayed": delayed_table,
    "when-dt": when_dt_table,
    "context": context_table,
    "target-sweep": target_table,
    "graph": graph_table,
    "graph-stitch": stitch_table,
    "critic": critic_table,
    "probes": probe_table,
    "budget-probe": budget_probe_table,
    "budgets": budget_table,
    "anchor-probes": anchors.probe_table,
    "anchors": anchors.anchor_table,
    "claims": claims_table,
}
DOMAINS = ["keydoor", "graph", "mujoco", "atari"]
# figure -> (what it shows, the make target that fills it)
FIGURES = {
    "scores-keydoor": ("Key-to-Door success rate per method, paper marks", "make keydoor"),
    "scores-graph": ("goal-reached rate per method on the graph and the stitching test",
                     "make graph"),
    "scores-mujoco": ("D4RL normalised score per task, dataset and method", "make mujoco"),
    "scores-atari": ("gamer-normalised score per game and method", "make atari"),
    "target-vs-achieved": ("DT's achieved score against its target, y = x, data's best; "
                           "target sweeps where run (make ablation-target)", "make mujoco"),
    "learning-curves": ("DT training loss against gradient steps", "make mujoco"),
    "eval-curves": ("score against training step, for runs evaluated during training "
                    "(eval.during_training > 0, as in the paper profiles)",
                    "make mujoco PROFILE=paper"),
    "pbc-vs-dt": ("%BC at 10/25/40/100% of the data against DT", "make pbc"),
    "context-length": ("DT's score against its context length K", "make ablation-context"),
    "dense-vs-delayed": ("each method on dense and delayed rewards", "make sparse"),
    "aggregates": ("rliable IQM and mean with 95% intervals, performance profiles",
                   "make keydoor mujoco atari"),
    "probability-of-improvement": ("rliable P(DT > baseline) with 95% intervals",
                                   "make keydoor mujoco atari"),
    "graph-paths": ("steps to the goal: random walks, shortest paths and DT (Figure 6)",
                    "make graph"),
    "anchor-curves": ("score during training in the anchor cells: probes and anchor seeds",
                      "make anchor-probes anchors"),
    "critic": ("DT as a critic: predicted success through Key-to-Door episodes, attention "
               "(Figure 5)", "make critic"),
}


def build(results_root: Path, profile: str, names: list[str] | None = None) -> list[str]:
    """Rebuild the named tables (all of them, plus figures and aggregates, when `names` is
    empty); return one line per file written or left empty."""
    unknown = [n for n in names or [] if n not in TABLES]
    if unknown:
        raise DTBenchError(f"unknown table {unknown[0]!r}; known: {', '.join(TABLES)} "
                           "(or none for everything)")
    write_table(results_root)
    lines, tables = unreadable_runs(results_root), []
    for name in names or TABLES:
        table = TABLES[name](results_root, profile)
        tables.append(table)
        paths = table.write(results_root)
        state = "" if table.has_runs else f" (no runs yet: {table.fill_with})"
        lines.append(f"table {name}: {', '.join(map(str, paths))}{state}")
    if names:
        return lines
    every = collect(results_root)
    every = every[every["profile"] == profile] if not every.empty else every
    runs = every[every["overrides"] == ""] if not every.empty else every  # no ablations
    folder = results_root / "figures"
    written = {}
    with warnings.catch_warnings():  # matplotlib deprecations raised inside seaborn
        warnings.simplefilter("ignore")
        for domain in DOMAINS:
            written[f"scores-{domain}"] = figures.score_bars(runs, domain, folder)
        written["target-vs-achieved"] = figures.target_vs_achieved(every, folder)
        written["learning-curves"] = figures.learning_curves(runs, results_root, folder)
        written["eval-curves"] = figures.eval_curves(runs, results_root, folder)
        written["pbc-vs-dt"] = figures.pbc_vs_dt(runs, folder)
        written["context-length"] = figures.context_length(
            context_runs(results_root, profile), folder)
        written["dense-vs-delayed"] = figures.dense_vs_delayed(runs, folder)
        written["aggregates"] = aggregates.aggregate_figure(runs, DOMAINS, folder)
        written["probability-of-improvement"] = aggregates.improvement_figure(runs, DOMAINS,
                                                                              folder)
        written["graph-paths"] = figures.graph_paths(path_lengths(results_root, profile),
                                                     [WALK, SHORTEST, "DT"], folder, profile)
        written["critic"] = draw_critic(results_root, profile, folder)
        written["anchor-curves"] = anchors.anchor_curves(results_root, profile, folder)
    for name, paths in written.items():
        lines.append(f"figure {name}: {paths[0]}" if paths
                     else f"figure {name}: no runs yet ({FIGURES[name][1]})")
    lines.append(f"aggregates: {write_aggregates(runs, results_root, profile)}")
    lines.append(f"index: {write_index(results_root, profile, tables, written)}")
    return lines


def write_aggregates(runs: pd.DataFrame, results_root: Path, profile: str) -> Path:
    """aggregates.csv (tidy) and aggregates.md (readable) for every domain with runs."""
    frames = [aggregates.aggregate(runs, d) for d in DOMAINS
              if aggregates.score_matrices(runs, d)]
    improve = [aggregates.improvement(runs, d) for d in DOMAINS
               if aggregates.score_matrices(runs, d)]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    better = pd.concat([f for f in improve if not f.empty], ignore_index=True) \
        if any(not f.empty for f in improve) else pd.DataFrame()
    with atomic_write(results_root / "aggregates.csv") as tmp:
        table.to_csv(tmp, index=False)
    text = [
        "# Aggregates (rliable)\n",
        f"Profile `{profile}`. Per domain, over its (task, dataset) cells and training seeds: "
        "interquartile mean (IQM) and mean of the runs' scores with 95% stratified-bootstrap "
        f"intervals ({aggregates.REPS} replications, seed {aggregates.SEED}), and the "
        "probability that a DT run beats a baseline run on the same cell, averaged over "
        "cells. With one seed per cell, the bootstrap has nothing to resample within a cell, "
        "so the interval collapses to the point: read those as single runs. Regenerate with "
        "`make report`.\n",
    ]
    if table.empty:
        text.append("No runs stored yet: `make keydoor`, `make mujoco`, `make atari` fill it.\n")
    else:
        shown = table.assign(interval=[f"[{lo:.1f}, {hi:.1f}]" for lo, hi in
                                       zip(table["ci_low"], table["ci_high"], strict=True)])
        text.append(shown[["domain", "metric", "algo", "estimate", "interval", "tasks",
                           "runs_per_task"]].to_markdown(index=False, floatfmt=".1f") + "\n")
    if not better.empty:
        text.append("\n## Probability of improvement of DT\n")
        shown = better.assign(interval=[f"[{lo:.2f}, {hi:.2f}]" for lo, hi in
                                        zip(better["ci_low"], better["ci_high"], strict=True)])
        text.append(shown[["domain", "versus", "p_dt_better", "interval", "tasks", "dt_runs",
                           "their_runs"]].to_markdown(index=False, floatfmt=".2f") + "\n")
    path = results_root / "aggregates.md"
    with atomic_write(path) as tmp:
        tmp.write_text("\n".join(text))
    return path


def write_index(results_root: Path, profile: str, tables: list[Table],
                written: dict[str, list[Path]]) -> Path:
    """results/README.md: what every generated file shows, and how to fill the empty ones."""
    lines = ["# Results index\n",
             f"Generated by `make report` (profile `{profile}`) from the run folders under "
             "`runs/`; never edited by hand. `runs.csv` has one row per run and target return; "
             "every run folder keeps its config (settings, package versions, git commit, "
             "hardware), metrics.csv, eval.csv (every episode) and result.json.\n",
             "## Tables\n"]
    for table in tables:
        state = "" if table.has_runs else f" — no runs yet: `{table.fill_with}`"
        lines.append(f"- [{table.title}]({table.name}.md) ([LaTeX](tables/{table.name}.tex))"
                     f"{state}")
    lines += ["- [Aggregates (rliable)](aggregates.md)", "", "## Figures\n"]
    for name, (what, target) in FIGURES.items():
        if written.get(name):
            lines.append(f"- [{name}](figures/{name}.png): {what}")
        else:
            lines.append(f"- {name}: {what} — no runs yet: `{target}`")
    path = results_root / "README.md"
    with atomic_write(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return path
