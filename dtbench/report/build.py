"""`dtbench report`: every table, figure and aggregate rebuilt from the stored runs, no training.

Writes, under the results folder: runs.csv (one tidy row per run and target), <table>.md and
tables/<table>.tex, figures/<figure>.png|pdf, aggregates.md|csv, and README.md, an index with
the headline (`report.readme`), the hand-written notes it keeps, and what each file shows and
which make target fills what is still empty. A report of the committed reference (results/)
also rewrites the headline block of the project's README.md.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from dtbench.atomic import atomic_write
from dtbench.errors import DTBenchError
from dtbench.report import aggregates, figures, mujoco_bench, readme
from dtbench.report.atari import atari_table
from dtbench.report.claims import claims_table
from dtbench.report.collected import Collected
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
from dtbench.runs import write_table
from dtbench.runtime import PROJECT_ROOT, REFERENCE_DIR

TABLES: dict[str, Callable[[Collected], Table]] = {
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
    "mujoco-bench-curves": mujoco_bench.curves_table,
    "mujoco-bench": mujoco_bench.tier_table,
    "mujoco-bench-pbc": mujoco_bench.pbc_table,
    "mujoco-bench-targets": mujoco_bench.targets_table,
    "mujoco-bench-delayed": mujoco_bench.delayed_table,
    "claims": claims_table,
}
DOMAINS = ["keydoor", "graph", "mujoco", "atari"]


@dataclass(frozen=True)
class Figure:
    """A figure of the report: what it shows, the make target that fills it, and how it is
    drawn from the report's runs into a folder (the paths written; none without runs)."""

    what: str
    fill_with: str
    draw: Callable[[Collected, Path], list[Path]]


def _scores(domain: str) -> Callable[[Collected, Path], list[Path]]:
    return lambda c, folder: figures.score_bars(c.plain(), domain, folder)


FIGURES = {
    "scores-keydoor": Figure("Key-to-Door success rate per method, paper marks", "make keydoor",
                             _scores("keydoor")),
    "scores-graph": Figure(
        "goal reached and on a shortest path (%) per method on the graph and the stitching "
        "test, the data's random walk and the shortest path as lines", "make graph",
        lambda c, folder: figures.graph_scores({t: path_lengths(c, t) for t in figures.GRAPH_TASKS},
                                               folder, c.profile)),
    "scores-mujoco": Figure("D4RL normalised score per task, dataset and method", "make mujoco",
                            _scores("mujoco")),
    "scores-atari": Figure("gamer-normalised score per game and method", "make atari",
                           _scores("atari")),
    "target-vs-achieved": Figure(
        "DT's achieved score against its target, y = x, data's best; target sweeps where run "
        "(make ablation-target)", "make mujoco",
        lambda c, folder: figures.target_vs_achieved(c.runs(), folder)),
    "learning-curves": Figure(
        "DT training loss against gradient steps", "make mujoco",
        lambda c, folder: figures.learning_curves(c.plain(), c.root, folder)),
    "eval-curves": Figure(
        "score against training step, for runs evaluated during training "
        "(eval.during_training > 0, as in the paper profiles)", "make mujoco PROFILE=paper",
        lambda c, folder: figures.eval_curves(c.plain(), c.root, folder)),
    "pbc-vs-dt": Figure("%BC at 10/25/40/100% of the data against DT", "make pbc",
                        lambda c, folder: figures.pbc_vs_dt(c.plain(), folder)),
    "context-length": Figure("DT's score against its context length K", "make ablation-context",
                             lambda c, folder: figures.context_length(context_runs(c), folder)),
    "dense-vs-delayed": Figure("each method on dense and delayed rewards", "make sparse",
                               lambda c, folder: figures.dense_vs_delayed(c.plain(), folder)),
    "aggregates": Figure(
        "rliable IQM and mean with 95% intervals, performance profiles (benchmark domains; "
        "pipeline checks left out)",
        "make keydoor mujoco atari",
        lambda c, folder: aggregates.aggregate_figure(c.plain(), DOMAINS, folder)),
    "probability-of-improvement": Figure(
        "rliable P(DT > baseline) with 95% intervals (benchmark domains; pipeline checks left "
        "out)", "make keydoor mujoco atari",
        lambda c, folder: aggregates.improvement_figure(c.plain(), DOMAINS, folder)),
    "graph-paths": Figure(
        "steps to the goal: random walks, shortest paths and DT (Figure 6)", "make graph",
        lambda c, folder: figures.graph_paths(path_lengths(c), [WALK, SHORTEST, "DT"], folder,
                                              c.profile)),
    "mujoco-bench-curves": Figure(
        "score during training in the MuJoCo benchmark tier: the curve probes and the tier's "
        "seeds", "make mujoco-bench-curves mujoco-bench", mujoco_bench.tier_curves),
    "mujoco-bench-targets": Figure(
        "DT's achieved score against its target in the MuJoCo benchmark tier (Figure 4)",
        "make mujoco-bench", mujoco_bench.tier_targets),
    "critic": Figure("DT as a critic: predicted success through Key-to-Door episodes, attention "
                     "(Figure 5)", "make critic", draw_critic),
}


def build(results_root: Path, profile: str, names: list[str] | None = None) -> list[str]:
    """Rebuild the named tables (all of them, plus figures and aggregates, when `names` is
    empty) from one reading of the run folders; return one line per file written or left
    empty."""
    unknown = [n for n in names or [] if n not in TABLES]
    if unknown:
        raise DTBenchError(f"unknown table {unknown[0]!r}; known: {', '.join(TABLES)} "
                           "(or none for everything)")
    collected = Collected.read(results_root, profile)
    write_table(results_root, collected.every)
    lines, tables = list(collected.unreadable), []
    for name in names or TABLES:
        table = TABLES[name](collected)
        tables.append(table)
        paths = table.write(results_root)
        state = "" if table.has_runs else f" (no runs yet: {table.fill_with})"
        lines.append(f"table {name}: {', '.join(map(str, paths))}{state}")
    # a named table's figure of the same name is drawn with it (the tier's curves, Figure 4)
    written = _draw(collected, results_root, [n for n in names or FIGURES if n in FIGURES])
    for name, paths in written.items():
        lines.append(f"figure {name}: {paths[0]}" if paths
                     else f"figure {name}: no runs yet ({FIGURES[name].fill_with})")
    if names:
        readme.refresh(results_root / "README.md", results_root, "")
        return lines + _project_readme(results_root)
    lines.append(f"aggregates: {write_aggregates(collected.plain(), results_root, profile)}")
    lines.append(f"index: {write_index(results_root, profile, tables, written)}")
    return lines + _project_readme(results_root)


def _draw(collected: Collected, results_root: Path, names: list[str]) -> dict[str, list[Path]]:
    """Draw the named figures; a figure with no runs removes its old drawing (one of runs no
    longer stored would mislead)."""
    written = {}
    with warnings.catch_warnings():  # matplotlib deprecations raised inside seaborn
        warnings.simplefilter("ignore")
        for name in names:
            written[name] = FIGURES[name].draw(collected, results_root / "figures")
            if not written[name]:
                for old in (results_root / "figures").glob(f"{name}.*"):
                    old.unlink()
    return written


def _project_readme(results_root: Path) -> list[str]:
    """The project README's headline, rewritten from the committed reference's tables (and
    only from those: a workspace's runs are not what the README shows)."""
    if results_root.resolve() != REFERENCE_DIR.resolve():
        return []
    path = PROJECT_ROOT / "README.md"
    return [f"headline: {path}"] if readme.refresh(path, results_root, "results/") else []


def write_aggregates(runs: pd.DataFrame, results_root: Path, profile: str) -> Path:
    """aggregates.csv (tidy) and aggregates.md (readable) for every domain with runs that is
    not a pipeline check at this profile (as the headline figures: `headline_domains`)."""
    drawn, left_out = aggregates.headline_domains(runs, list(DOMAINS)) if not runs.empty \
        else ([], [])
    frames = [aggregates.aggregate(runs, d) for d in drawn]
    improve = [aggregates.improvement(runs, d) for d in drawn]
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
        "so the interval collapses to the point: read those as single runs. "
        + (f"Left out: {', '.join(left_out)} (pipeline checks at this profile: nothing learns "
           "there at its budget). " if left_out else "")
        + "Regenerate with `make report`.\n",
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
    """results/README.md: the headline, the hand-written notes it keeps, what every generated
    file shows and how to fill the empty ones."""
    path = results_root / "README.md"
    lines = ["# Results\n",
             f"Generated by `make report` (profile `{profile}`) from the run folders under "
             "`runs/`, except the notes, which are written by hand and kept. `runs.csv` has one "
             "row per run and target return; every run folder keeps its config (settings, "
             "package versions, git commit, hardware), metrics.csv, eval.csv (every episode) "
             "and result.json.\n",
             "## What is shown\n", readme.NOTES.start, readme.kept_notes(path),
             readme.NOTES.end, "", "## Headline\n", readme.HEADLINE.start,
             readme.headline(results_root), readme.HEADLINE.end, "", "## Tables\n"]
    for table in tables:
        state = "" if table.has_runs else f" — no runs yet: `{table.fill_with}`"
        lines.append(f"- [{table.title}]({table.name}.md) ([LaTeX](tables/{table.name}.tex))"
                     f"{state}")
    lines += ["- [Aggregates (rliable)](aggregates.md)", "", "## Figures\n"]
    for name, figure in FIGURES.items():
        if written[name]:
            lines.append(f"- [{name}](figures/{name}.png): {figure.what}")
        else:
            lines.append(f"- {name}: {figure.what} — no runs yet: `{figure.fill_with}`")
    with atomic_write(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return path
