"""Aggregates over tasks and seeds as rliable defines them (Agarwal et al. 2021): IQM and mean
with stratified-bootstrap 95% intervals, performance profiles, and the probability that DT
improves on each baseline. One domain at a time: their score scales differ. Fixed bootstrap
seed, so the numbers are the same every time the report is rebuilt.

The metrics are rliable's own (`rliable.metrics`). The bootstrap is dtbench's one (`stats.resample`,
`stats.percentile_interval`: runs resampled with replacement within each task, percentile
intervals, rliable's definition), not rliable's, because `rliable.library` imports `arch`, and
the `arch` versions rliable 1.2 allows (< 8) fail to import under pandas 3
(docs/implementation-details.md).

A "task" here is one (task, dataset) cell of the domain's table; a run is one training seed.
rliable needs the same runs on every task, so an algorithm enters with the seeds it has on all
of the domain's cells, and only cells every algorithm has are used.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from rliable import metrics

from dtbench.report import style
from dtbench.report.cells import score_range, tier
from dtbench.report.figures import mark_pipeline_check, ordered, rate_axis, runs_note, save
from dtbench.report.scores import headline
from dtbench.report.stats import percentile_interval, resample
from dtbench.report.table import counted

SEED = 0  # bootstrap seed
REPS = 2_000  # bootstrap replications (rliable's default for performance profiles)
TAIL = 2.5  # percent below and above the 95% intervals


def score_matrices(runs: pd.DataFrame, domain: str) -> dict[str, np.ndarray]:
    """{algo: scores[runs, tasks]} for a domain's dense runs (rliable's layout)."""
    rows = headline(runs)
    if rows.empty:
        return {}
    rows = rows[(rows["domain"] == domain) & (rows["variant"] == "dense")]
    rows = rows.assign(cell=rows["task"] + "/" + rows["dataset"])
    algos = ordered(rows["algo"])
    common = set.intersection(*(set(rows[rows["algo"] == a]["cell"]) for a in algos)) \
        if algos else set()
    cells = sorted(common)
    out = {}
    for algo in algos:
        table = rows[(rows["algo"] == algo) & rows["cell"].isin(cells)].pivot_table(
            index="seed", columns="cell", values="score_mean")
        table = table.dropna()  # seeds missing on some cell are left out
        if not table.empty:
            out[algo] = table[cells].to_numpy()
    return out


def iqm(m: np.ndarray) -> np.ndarray:
    """Interquartile mean over the last two axes (runs, tasks), batched over leading axes:
    scipy's trim_mean(0.25), as rliable's `aggregate_iqm`."""
    flat = np.sort(m.reshape(*m.shape[:-2], -1), axis=-1)
    cut = int(0.25 * flat.shape[-1])
    return flat[..., cut:flat.shape[-1] - cut].mean(axis=-1)


def mean(m: np.ndarray) -> np.ndarray:
    return m.mean(axis=(-2, -1))


def probability_of_improvement(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """P(X > Y) averaged over tasks, ties counting one half: rliable's definition (its
    Mann-Whitney U / (n m) per task), over all run pairs at once, batched over leading axes."""
    diff = x[..., :, None, :] - y[..., None, :, :]  # [..., runs_x, runs_y, tasks]
    return ((diff > 0) + 0.5 * (diff == 0)).mean(axis=(-3, -2)).mean(axis=-1)


# name -> (rliable's function for the point estimate, our batched twin for the bootstrap)
METRICS = {"IQM": (metrics.aggregate_iqm, iqm), "Mean": (metrics.aggregate_mean, mean)}


def aggregate(runs: pd.DataFrame, domain: str) -> pd.DataFrame:
    """One row per (metric, algo): point estimate and 95% interval, with runs and tasks."""
    scores = score_matrices(runs, domain)
    rows = []
    for name, (point_fn, batched) in METRICS.items():
        for algo, matrix in scores.items():
            point = point_fn(matrix)
            low, high = percentile_interval(
                batched(resample(matrix, np.random.default_rng(SEED), REPS)), TAIL)
            rows.append({"domain": domain, "metric": name, "algo": algo,
                         "estimate": round(float(point), 2), "ci_low": round(float(low), 2),
                         "ci_high": round(float(high), 2),
                         "runs_per_task": matrix.shape[0], "tasks": matrix.shape[1]})
    return pd.DataFrame(rows)


def improvement(runs: pd.DataFrame, domain: str) -> pd.DataFrame:
    """P(DT > baseline) averaged over tasks, with its 95% interval, for each baseline."""
    scores = score_matrices(runs, domain)
    if "dt" not in scores:
        return pd.DataFrame()
    rows = []
    for algo, matrix in scores.items():
        if algo == "dt":
            continue
        rng = np.random.default_rng(SEED)
        point = metrics.probability_of_improvement(scores["dt"], matrix)
        low, high = percentile_interval(probability_of_improvement(
            resample(scores["dt"], rng, REPS), resample(matrix, rng, REPS)), TAIL)
        rows.append({"domain": domain, "versus": algo, "p_dt_better": round(float(point), 3),
                     "ci_low": round(float(low), 3), "ci_high": round(float(high), 3),
                     "dt_runs": scores["dt"].shape[0], "their_runs": matrix.shape[0],
                     "tasks": matrix.shape[1]})
    return pd.DataFrame(rows)


def profiles(scores: dict[str, np.ndarray], taus: np.ndarray
             ) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Performance profiles: the fraction of runs (over all tasks) scoring above each tau,
    with 95% intervals; {algo: (profile, low, high)}."""
    def fraction_above(m: np.ndarray) -> np.ndarray:  # [..., runs, tasks] -> [..., taus]
        flat = m.reshape(*m.shape[:-2], -1, 1)
        return (flat > taus).mean(axis=-2)

    out = {}
    for algo, m in scores.items():
        low, high = percentile_interval(
            fraction_above(resample(m, np.random.default_rng(SEED), REPS)), TAIL)
        out[algo] = (fraction_above(m), low, high)
    return out


def headline_domains(runs: pd.DataFrame, domains: list[str]) -> tuple[list[str], list[str]]:
    """(the domains a headline figure draws, the pipeline checks it leaves out): a domain
    whose runs at this profile are a pipeline check (`cells.PIPELINE_CHECKS`) would put a
    "DT better" of methods that learn nothing beside real results. Where every domain with
    runs is one (the smoke profile), they are drawn, each panel marked, and none left out."""
    with_runs = [d for d in domains if score_matrices(runs, d)]
    if not with_runs:
        return [], []
    profile = str(runs["profile"].iloc[0])
    results = [d for d in with_runs if not tier(d, profile)]
    return (results, [d for d in with_runs if d not in results]) if results else (with_runs, [])


def left_out_note(runs: pd.DataFrame, drawn: list[str], left_out: list[str]) -> str:
    """The title's sentence on the pipeline checks: which were left out, or that every
    domain drawn is one."""
    profile = str(runs["profile"].iloc[0])
    if left_out:
        return (f"; left out: {', '.join(left_out)}, pipeline checks at profile {profile} "
                "(nothing learns at that budget; their tables show them)")
    if any(tier(d, profile) for d in drawn):
        return f"; PIPELINE CHECKS at profile {profile}: no claim about the methods"
    return ""


def _interval_bars(ax: plt.Axes, table: pd.DataFrame, colour_of: str, estimate: str) -> None:
    """One bar per row from its interval's low to high end in the method's colour, the
    estimate as a black line across it."""
    for i, r in table.iterrows():
        ax.barh(i, r["ci_high"] - r["ci_low"], left=r["ci_low"], height=0.6,
                color=style.method(r[colour_of]).colour, alpha=0.75)
        ax.vlines(r[estimate], i - 0.3, i + 0.3, color=style.INK, linewidth=1.5)


def aggregate_figure(runs: pd.DataFrame, domains: list[str], folder: Path) -> list[Path]:
    """Per domain: IQM and mean with intervals (left), performance profiles (right); the
    pipeline-check domains left out (`headline_domains`)."""
    domains, left_out = headline_domains(runs, domains)
    if not domains:
        return []
    run_profile = str(runs["profile"].iloc[0])
    fig, axes = plt.subplots(len(domains), 3, figsize=(12, 2.6 * len(domains)), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 1, 1.4]})
    for row, domain in zip(axes, domains, strict=True):
        table = aggregate(runs, domain)
        label = runs[runs["domain"] == domain]["score_label"].iloc[0]
        for ax, metric in zip(row[:2], METRICS, strict=True):
            part = table[table["metric"] == metric].reset_index(drop=True)
            _interval_bars(ax, part, "algo", "estimate")
            ax.set_yticks(range(len(part)), [style.method(a).label for a in part["algo"]])
            ax.invert_yaxis()
            low = float(min(part["ci_low"].min(), part["estimate"].min()))
            high = float(max(part["ci_high"].max(), part["estimate"].max()))
            pad = 0.08 * (high - low) if high > low else 1.0
            ax.set_xlim(low - pad, high + pad)  # every estimate inside the axes
            rate_axis(ax, score_range(domain), [low, high], axis="x")  # a rate: all of 0-100
            seeds = sorted({part["runs_per_task"].min(), part["runs_per_task"].max()})
            cells = int(part["tasks"].iloc[0])
            n = f"{counted(cells, 'cell')} x {counted('-'.join(map(str, seeds)), 'seed')}"
            ax.set_title(f"{domain}: {metric} ({n}){tier(domain, run_profile)}", fontsize=9)
            ax.set_xlabel(label)
        _profile_panel(row[2], score_matrices(runs, domain), label, domain)
        if tier(domain, run_profile):
            for ax in row:
                mark_pipeline_check(ax)
    drawn = runs[runs["domain"].isin(domains)]
    fig.suptitle(textwrap.fill(
        f"rliable aggregates over every seed of every cell ({runs_note(drawn)}; "
        "bars and bands: 95% stratified-bootstrap interval, line: estimate"
        f"{left_out_note(runs, domains, left_out)})", 140), fontsize=10)
    fig.tight_layout()
    return save(fig, folder, "aggregates")


def _profile_panel(ax: plt.Axes, scores: dict[str, np.ndarray], label: str, domain: str) -> None:
    """Performance profiles of one domain with their bootstrap bands, legend beside."""
    top = max(float(m.max()) for m in scores.values())
    taus = np.linspace(0, max(top, 1.0) * 1.05, 60)
    for algo, (profile, low, high) in profiles(scores, taus).items():
        look = style.method(algo)
        ax.plot(taus, profile, color=look.colour, label=look.label)
        ax.fill_between(taus, low, high, color=look.colour, alpha=0.2)
    ax.set_xlabel(f"{label} threshold tau")
    ax.set_ylabel("fraction of runs > tau")
    ax.set_title(f"{domain}: performance profile", fontsize=9)
    # beside the panel: inside it the legend covers the curves it names
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)


def improvement_figure(runs: pd.DataFrame, domains: list[str], folder: Path) -> list[Path]:
    """P(DT > baseline) with intervals, one panel per domain; 0.5 marks no difference; the
    pipeline-check domains left out (`headline_domains`)."""
    domains, left_out = headline_domains(runs, domains)
    tables = [t for t in (improvement(runs, d) for d in domains) if not t.empty]
    if not tables:
        return []
    run_profile = str(runs["profile"].iloc[0])
    fig, axes = plt.subplots(1, len(tables), figsize=(3.8 * len(tables) + 0.6, 2.8),
                             squeeze=False)
    for ax, table in zip(axes[0], tables, strict=True):
        table = table.reset_index(drop=True)
        _interval_bars(ax, table, "versus", "p_dt_better")
        ax.axvline(0.5, color=style.IDENTITY, linestyle="--", linewidth=1)
        ax.set_xlim(-0.03, 1.03)
        ax.set_yticks(range(len(table)),
                      [f"DT > {style.method(a).label}" for a in table["versus"]])
        ax.invert_yaxis()
        ax.set_xlabel("probability of improvement")
        domain = table["domain"].iloc[0]
        ax.set_title(f"{domain} ({counted(table['tasks'].iloc[0], 'cell')} x "
                     f"{counted(table['dt_runs'].iloc[0], 'DT seed')}){tier(domain, run_profile)}",
                     fontsize=9)
        if tier(domain, run_profile):
            mark_pipeline_check(ax)
    drawn = runs[runs["domain"].isin([t["domain"].iloc[0] for t in tables])]
    fig.suptitle(textwrap.fill(
        "Probability that a DT run scores higher than a run of each method on a random cell "
        f"(rliable; bars: 95% stratified-bootstrap interval, line: estimate; {runs_note(drawn)}"
        f"{left_out_note(runs, domains, left_out)})", 110), fontsize=9)
    fig.tight_layout()
    return save(fig, folder, "probability-of-improvement")
