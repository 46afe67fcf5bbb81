"""Figures (seaborn/matplotlib, PNG and PDF) regenerated from the stored runs.

Each function draws one figure from the tidy runs table and returns the paths it wrote, or []
when no stored run can fill it (the report lists those with the target that fills them).
Paper numbers are drawn as separate black markers, never as bars of ours.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from dtbench import registry  # noqa: E402
from dtbench.report.cells import tier  # noqa: E402
from dtbench.report.collected import stands_for  # noqa: E402
from dtbench.report.curves import run_curve  # noqa: E402
from dtbench.report.paper import ATARI_TABLE1, D4RL_TABLE2, KEYDOOR_TABLE6  # noqa: E402
from dtbench.report.scores import RUN_KEYS, headline, with_target_scores  # noqa: E402
from dtbench.report.stats import fixed  # noqa: E402
from dtbench.report.targets import tracking  # noqa: E402
from dtbench.runs import only_overridden  # noqa: E402
from dtbench.runs.table import Unreadable, read_run_csv  # noqa: E402

ALGO_LABELS = {"dt": "DT", "cql": "CQL", "bc": "d3rlpy BC", "bc10": "d3rlpy 10%BC",
               "bc25": "d3rlpy 25%BC", "bc40": "d3rlpy 40%BC", "random": "Random",
               "bc-paper": "BC [bc-paper]", "bc10-paper": "10%BC [bc10-paper]",
               "bc25-paper": "25%BC [bc25-paper]", "bc40-paper": "40%BC [bc40-paper]"}
ALGO_ORDER = list(ALGO_LABELS)

PALETTE = dict(zip(ALGO_ORDER, sns.color_palette("colorblind", len(ALGO_ORDER)), strict=True))


def save(fig: plt.Figure, folder: Path, name: str) -> list[Path]:
    """PNG (for the README) and PDF (for papers); PDF without a creation date so that
    regenerating it gives the same file."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{name}.png", folder / f"{name}.pdf"]
    fig.savefig(paths[0], dpi=120, bbox_inches="tight", metadata={"Software": None})
    fig.savefig(paths[1], bbox_inches="tight", metadata={"CreationDate": None})
    plt.close(fig)
    return paths


def panel_grid(n: int, width: float, height: float) -> tuple[plt.Figure, list[plt.Axes]]:
    """A figure of `n` panels, four to a row; the spare axes of the last row are hidden."""
    cols = min(4, n)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def seed_errorbar(ax: plt.Axes, rows: pd.DataFrame, x: str, color: tuple, label: str | None,
                  marker: str = "o", join: bool = True) -> pd.DataFrame:
    """Mean score over seeds at each value of `x`, with the sample std as error bars where
    there are two seeds or more (none for n=1) and each seed as a small dot (a bimodal cell
    shows as two clusters, not one wide bar); joined by a line only when `join`."""
    stats = rows.groupby(x)["score_mean"].agg(["mean", "std", "count"]).reset_index()
    yerr = stats["std"].where(stats["count"] > 1).fillna(0)
    ax.errorbar(stats[x], stats["mean"], yerr=yerr, marker=marker, color=color, capsize=3,
                label=label, linestyle="-" if join else "none")
    several = rows[rows.groupby(x)["score_mean"].transform("count") > 1]
    ax.scatter(several[x], several["score_mean"], s=6, color="black", zorder=4)
    return stats


def runs_note(rows: pd.DataFrame, cell: tuple[str, ...] = ("domain", "task", "dataset",
                                                           "algo", "variant")) -> str:
    """'profile P; data: ...; n = S seeds per cell' for a figure's title: what its runs are."""
    if rows.empty:
        return ""
    profile = ", ".join(sorted(set(rows["profile"])))
    generated = set(rows["data_route"] == "generated")
    data = ("datasets made by dtbench" if generated == {True} else
            "published datasets" if generated == {False} else
            "datasets made by dtbench and published ones")
    seeds = rows.groupby(list(cell))["seed"].nunique()
    n = f"{seeds.min()}" if seeds.min() == seeds.max() else f"{seeds.min()}-{seeds.max()}"
    return f"profile {profile}; {data}; n = {n} seed(s) per cell"


def min_span(ax: plt.Axes, span: float) -> None:
    """Widen the y axis to at least `span` around its data, so that noise of a few hundredths
    never looks like a slope."""
    low, high = ax.get_ylim()
    if high - low < span:
        middle = (low + high) / 2
        ax.set_ylim(middle - span / 2, middle + span / 2)


def part_profile(rows: pd.DataFrame, domain: str) -> str:
    """The profile of a domain's runs in `rows` (one per figure)."""
    return str(rows.loc[rows["domain"] == domain, "profile"].iloc[0])


def rate_limits(ax: plt.Axes, label: str) -> None:
    """On a rate's axis (label ending '(%)'), stop a std band or whisker at 0 and 100: past
    them it is no score at all, and it would stretch the axis."""
    if label.endswith("(%)"):
        low, high = ax.get_ylim()
        ax.set_ylim(max(low, -4), min(high, 104))


def cell_title(ax: plt.Axes, domain: str, task: str, dataset: str, part: pd.DataFrame) -> None:
    """The panel's cell, and ' - pipeline check' where the runs' profile makes it one."""
    mark = tier(domain, part["profile"].iloc[0]) if len(part) else ""
    ax.set_title(f"{domain}/{task}\n{dataset}{mark}", fontsize=9)


def _paper_score(domain: str, task: str, name: str, algo: str) -> float | None:
    """The paper's number for this cell, when it reports one (`name`: the dataset our runs'
    stands for, `collected.stands_for`; the paper's BC columns are its own BC, which
    `bc-paper` runs)."""
    algo = algo.removesuffix("-paper")
    table: Mapping = {}
    if domain == "mujoco":
        table = D4RL_TABLE2.get((name, task), {})
    elif domain == "atari":
        table = ATARI_TABLE1.get(task, {})
    elif domain == "keydoor":
        table = KEYDOOR_TABLE6.get(name, {})
        algo = "pbc" if algo == "bc10" else algo
    return table.get(algo)


def score_bars(runs: pd.DataFrame, domain: str, folder: Path) -> list[Path]:
    """Our score per task and dataset for every algorithm: bars = mean over seeds, whiskers =
    sample std (only with two seeds or more), dots = the seeds; the paper's numbers as black
    marks when they fit our scale, else named in the title (they are in the table)."""
    rows = headline(runs)
    rows = rows[(rows["domain"] == domain) & (rows["variant"] == "dense")] if not rows.empty \
        else rows
    if rows.empty:
        return []
    algos = [a for a in ALGO_ORDER if a in set(rows["algo"])]
    plain = dict(zip(rows["dataset"], stands_for(rows), strict=True))
    datasets = sorted(plain, key=lambda name: _dataset_key(name, plain[name]))
    tasks = sorted(set(rows["task"]))
    n_max = int(rows.groupby(["task", "dataset", "algo"])["seed"].nunique().max())
    paper = {(d, t, a): v for d in datasets for t in tasks for a in algos
             if (v := _paper_score(domain, t, plain[d], a)) is not None}
    stats = rows.groupby(["task", "dataset", "algo"])["score_mean"].agg(["mean", "std"])
    ours_top = float((stats["mean"] + stats["std"].fillna(0)).abs().max())
    marks = bool(paper) and max(abs(v) for v in paper.values()) <= 2 * max(ours_top, 5.0)
    fig, axes = plt.subplots(1, len(datasets), figsize=(1.2 + 2.2 * len(tasks) * len(datasets)
                                                        ** 0.5 * 1.6, 3.6),
                             squeeze=False, sharey=True)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        part = rows[rows["dataset"] == dataset]
        here = [t for t in tasks if t in set(part["task"])]  # no empty slot for another task's
        sns.barplot(part, x="task", y="score_mean", hue="algo", order=here, hue_order=algos,
                    palette=PALETTE, errorbar="sd" if n_max > 1 else None, capsize=0.1,
                    err_kws={"linewidth": 1}, ax=ax, legend=ax is axes[0][-1])
        sns.stripplot(part, x="task", y="score_mean", hue="algo", order=here,
                      hue_order=algos, dodge=True, color="black", size=2.5, jitter=False,
                      ax=ax, legend=False)
        if marks:
            for container, algo in zip(ax.containers, algos, strict=False):
                for patch, task in zip(container.patches, here, strict=False):
                    value = paper.get((dataset, task, algo))
                    if value is not None:
                        ax.scatter(patch.get_x() + patch.get_width() / 2, value, marker="_",
                                   s=90, color="black", linewidths=2, zorder=5)
        ax.axhline(0, color="grey", linewidth=0.6)
        ax.margins(y=0.12)
        ax.set_title(dataset)
        ax.set_xlabel("")
        ax.set_ylabel(rows["score_label"].iloc[0] if ax is axes[0][0] else "")
        rate_limits(ax, rows["score_label"].iloc[0])
    handles, labels = axes[0][-1].get_legend_handles_labels()
    labels = [ALGO_LABELS.get(label, label) for label in labels]
    if axes[0][-1].get_legend() is not None:
        axes[0][-1].get_legend().remove()
    extra_handles, extra_labels = [], []
    if marks:
        extra_handles = [plt.Line2D([], [], color="black", marker="_", linestyle="",
                                    markersize=10, markeredgewidth=2)]
        extra_labels = ["paper (its own data)"]
    fig.legend([*handles, *extra_handles], [*labels, *extra_labels], loc="upper center",
               ncol=len(algos) + len(extra_labels), bbox_to_anchor=(0.5, 1.08), frameon=False)
    what = "bars = mean, dots = seeds" + (", whiskers = sample std" if n_max > 1 else "")
    theirs = ("" if not paper else "" if marks else
              "; the paper's numbers (on its own data) are in the table: on this scale they "
              "would flatten our bars")
    profile = str(rows["profile"].iloc[0])
    title = textwrap.fill(f"{domain}{tier(domain, profile)}: our runs ({runs_note(rows)}; "
                          f"{what}){theirs}", 120)
    fig.suptitle(title, y=1.14 + 0.05 * title.count("\n"), fontsize=9)
    return save(fig, folder, f"scores-{domain}")


def target_vs_achieved(runs: pd.DataFrame, folder: Path) -> list[Path]:
    """DT's achieved score against the target it was conditioned on (both on the score
    scale), with y = x, the best episode in its training data (as the paper's Figure 4) and
    the correlation; from the target-sweep runs (`eval.target_sweep`) where they exist."""
    if runs.empty:
        return []
    dt = runs[(runs["algo"] == "dt") & (runs["variant"] == "dense")]
    sweep = only_overridden(dt, "eval.target_sweep")
    sweep = sweep[sweep | only_overridden(dt)]
    dt = dt.loc[sweep.index]
    has_sweep = dt.assign(s=sweep).groupby(["domain", "task", "dataset"])["s"].transform("any")
    dt = dt[~has_sweep | sweep]  # a cell's sweep runs replace its plain ones
    if dt.empty:
        return []
    dt = with_target_scores(dt)
    panels = list(dt.groupby(["domain", "task", "dataset"], sort=True))
    fig, axes = panel_grid(len(panels), 3.1, 2.9)
    for ax, ((domain, task, dataset), part) in zip(axes, panels, strict=False):
        stats = seed_errorbar(ax, part, "target_score", PALETTE["dt"], "DT (ours)")
        top = max(stats["target_score"].max(), stats["mean"].max(),
                  part["data_score_max"].max()) * 1.1
        ax.plot([0, top], [0, top], linestyle="--", color="grey", linewidth=1, label="y = x")
        ax.axvline(part["data_score_max"].iloc[0], linestyle=":", color="black", linewidth=1,
                   label="best episode in data")
        cell_title(ax, domain, task, dataset, part)
        if len(stats) > 2:
            r, slope = tracking(stats["target_score"], stats["mean"])
            # in the title: inside the axes the text crossed the curve or the data's best line
            ax.set_title(f"{ax.get_title()}\nr = {fixed(r, 2)}, slope {fixed(slope, 2)}",
                         fontsize=9)
        ax.set_xlabel("target (score scale)")
        ax.set_ylabel("achieved score")
        rate_limits(ax, str(part["score_label"].iloc[0]))
    axes[0].legend(fontsize=7, loc="upper left")
    note = runs_note(dt, ("domain", "task", "dataset", "target_return"))
    fig.suptitle(f"DT's achieved score against its target ({note}; whiskers: sample std "
                 "where n > 1)", fontsize=9)
    fig.tight_layout()
    return save(fig, folder, "target-vs-achieved")


def learning_curves(runs: pd.DataFrame, results_root: Path, folder: Path) -> list[Path]:
    """DT's training loss (action loss per metrics row) against gradient steps, per domain."""
    dt = runs[(runs["algo"] == "dt") & (runs["variant"] == "dense")] if not runs.empty else runs
    frames = []
    for spec_row in dt.drop_duplicates(["domain", "task", "dataset", "seed"]).itertuples():
        path = results_root / spec_row.folder / "metrics.csv"
        if path.exists():
            try:
                metrics = read_run_csv(path, ["step", "loss"])[["step", "loss"]]
            except Unreadable:
                continue  # listed by `dtbench report` as unreadable
            frames.append(metrics.assign(domain=spec_row.domain, seed=spec_row.seed,
                                         run=f"{spec_row.task} {spec_row.dataset}"))
    if not frames:
        return []
    curves = pd.concat(frames, ignore_index=True)
    domains = sorted(set(curves["domain"]))
    fig, axes = plt.subplots(1, len(domains), figsize=(4.2 * len(domains), 3.4), squeeze=False)
    for ax, domain in zip(axes[0], domains, strict=True):
        part = curves[curves["domain"] == domain]
        sns.lineplot(part, x="step", y="loss", hue="run", errorbar="sd", ax=ax, linewidth=1)
        ax.set_title(f"{domain}: DT training loss{tier(domain, part_profile(dt, domain))}",
                     fontsize=9)
        ax.set_xlabel("gradient step")
        kind = registry.get_domain(domain).action_kind
        ax.set_ylabel("action loss (" + ("MSE" if kind == "continuous" else "cross-entropy")
                      + ")")
        ax.legend(fontsize=6, title=None)
    fig.suptitle(f"DT training loss, mean and sample std over seeds ({runs_note(dt)})",
                 fontsize=9)
    fig.tight_layout()
    return save(fig, folder, "learning-curves")


def eval_curves(runs: pd.DataFrame, results_root: Path, folder: Path) -> list[Path]:
    """Score against training step for runs evaluated during training (their curve.csv), one
    panel per task and dataset, one line per method (mean and std over seeds)."""
    rows = headline(runs)
    frames = []
    for _, r in rows.drop_duplicates(RUN_KEYS).iterrows() if not rows.empty else []:
        if r["variant"] != "dense":
            continue
        curve = run_curve(results_root, r)  # empty when missing or unreadable
        if len(curve) > 1:
            frames.append(curve.assign(panel=f"{r['domain']}/{r['task']}\n{r['dataset']}"
                                       + tier(r["domain"], r["profile"]),
                                       algo=r["algo"], seed=r["seed"], folder=r["folder"],
                                       score_label=r["score_label"]))
    if not frames:
        return []
    curves = pd.concat(frames, ignore_index=True)
    panels = sorted(set(curves["panel"]))
    fig, axes = panel_grid(len(panels), 3.2, 2.8)
    for ax, panel in zip(axes, panels, strict=False):
        part = curves[curves["panel"] == panel]
        sns.lineplot(part, x="step", y="score_mean", hue="algo", palette=PALETTE,
                     hue_order=[a for a in ALGO_ORDER if a in set(part["algo"])],
                     errorbar="sd", marker="o", ax=ax)
        ax.set_title(panel, fontsize=9)
        ax.set_xlabel("gradient step")
        label = part["score_label"].iloc[0]
        ax.set_ylabel(label, fontsize=8)
        rate_limits(ax, label)
        if ax.get_legend() is not None:
            ax.get_legend().remove()  # one legend for the figure, above the panels
    algos = [a for a in ALGO_ORDER if a in set(curves["algo"])]
    handles = [plt.Line2D([], [], color=PALETTE[a], marker="o") for a in algos]
    fig.legend(handles, [ALGO_LABELS.get(a, a) for a in algos], loc="upper center",
               ncol=len(algos), bbox_to_anchor=(0.5, 1.04), frameon=False, fontsize=8)
    drawn = rows[rows["folder"].isin(set(curves["folder"]))]  # the runs with curves only
    fig.suptitle("Score during training: mean and sample std over seeds "
                 f"({runs_note(drawn)})", fontsize=9, y=1.1)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return save(fig, folder, "eval-curves")


def context_length(runs: pd.DataFrame, folder: Path) -> list[Path]:
    """DT's score against its context length K (runs with only `model.context_len` changed
    beside the profile's K), one panel per task and dataset."""
    if runs.empty or not (runs["overrides"] != "").any():
        return []
    rows = headline(runs)
    rows = rows[rows["context_len"].notna()]
    cells = [(key, part) for key, part in rows.groupby(["domain", "task", "dataset"])
             if part["context_len"].nunique() > 1]
    if not cells:
        return []
    fig, axes = panel_grid(len(cells), 3, 2.7)
    for ax, ((domain, task, dataset), part) in zip(axes, cells, strict=True):
        stats = seed_errorbar(ax, part, "context_len", PALETTE["dt"], None)
        ax.set_xscale("log")
        ax.set_xticks(stats["context_len"], [str(int(k)) for k in stats["context_len"]])
        ax.set_xticks([], minor=True)  # the log axis' minor labels overlap over short ranges
        cell_title(ax, domain, task, dataset, part)
        ax.set_xlabel("context length K (steps)")
        ax.set_ylabel(part["score_label"].iloc[0])
        min_span(ax, 10.0)
        rate_limits(ax, part["score_label"].iloc[0])  # after min_span, which may widen it
    note = runs_note(rows, ("domain", "task", "dataset", "context_len"))
    fig.suptitle(f"DT against its context length K ({note}; whiskers: sample std where "
                 "n > 1)", fontsize=9)
    fig.tight_layout()
    return save(fig, folder, "context-length")


def dense_vs_delayed(runs: pd.DataFrame, folder: Path) -> list[Path]:
    """Each algorithm's score on dense and on delayed rewards, where both were run: one row
    of panels per domain (one score scale each), cells as horizontal bars."""
    rows = headline(runs)
    if rows.empty or not (rows["variant"] == "delayed").any():
        return []
    keys = ["domain", "task", "dataset", "algo"]
    rows = rows[rows.groupby(keys)["variant"].transform("nunique") == 2]
    if rows.empty:
        return []
    rows = rows.assign(cell=rows["task"] + " / " + rows["dataset"])
    domains = sorted(set(rows["domain"]))
    algos = [a for a in ALGO_ORDER if a in set(rows["algo"])]
    tallest = max(rows[rows["domain"] == d]["cell"].nunique() for d in domains)
    fig, grid = plt.subplots(len(domains), len(algos), squeeze=False, sharey="row",
                             figsize=(2.9 * len(algos) + 1.5, (0.9 + 0.32 * tallest)
                                      * len(domains)))
    for axes, domain in zip(grid, domains, strict=True):
        part = rows[rows["domain"] == domain]
        order = sorted(set(part["cell"]))
        n_max = int(part.groupby(["cell", "algo", "variant"])["seed"].nunique().max())
        for ax, algo in zip(axes, algos, strict=True):
            mine = part[part["algo"] == algo]
            sns.barplot(mine, y="cell", x="score_mean", hue="variant", order=order,
                        hue_order=["dense", "delayed"], errorbar="sd" if n_max > 1 else None,
                        ax=ax, palette={"dense": PALETTE[algo], "delayed": "lightgrey"},
                        legend=ax is axes[0])
            sns.stripplot(mine, y="cell", x="score_mean", hue="variant", order=order,
                          hue_order=["dense", "delayed"], dodge=True, color="black", size=2.5,
                          jitter=False, ax=ax, legend=False)  # a zero-height bar still shows
            ax.axvline(0, color="grey", linewidth=0.6)
            low, high = ax.get_xlim()
            pad = 0.08 * (high - low)
            ax.set_xlim(low - pad, high + pad)
            profile = str(part["profile"].iloc[0])
            ax.set_title(f"{ALGO_LABELS.get(algo, algo)} ({domain}{tier(domain, profile)})",
                         fontsize=8)
            ax.set_xlabel(part["score_label"].iloc[0], fontsize=8)
            ax.set_ylabel("")
        # beside the row: inside a panel it covers a bar
        handles, labels = axes[0].get_legend_handles_labels()
        axes[0].get_legend().remove()
        axes[-1].legend(handles, labels, title="rewards", fontsize=7, loc="center left",
                        bbox_to_anchor=(1.02, 0.5), frameon=False)
    fig.suptitle("Dense vs delayed rewards (delayed: the whole return on the last step; DT at "
                 f"its highest target; dots: seeds)\n{runs_note(rows)}", fontsize=9)
    fig.tight_layout()
    return save(fig, folder, "dense-vs-delayed")


def pbc_vs_dt(runs: pd.DataFrame, folder: Path) -> list[Path]:
    """%BC's score against the fraction of data it keeps (10/25/40/100%), DT as a line."""
    rows = headline(runs)
    fractions = {"bc10": 10, "bc25": 25, "bc40": 40, "bc": 100}
    kinds = {"": ("bc10", "%BC, d3rlpy (ours)"), "-paper": ("bc10-paper", "%BC [bc-paper] (ours)")}
    fraction_of = {f"{a}{suffix}": x for a, x in fractions.items() for suffix in kinds}
    if rows.empty:
        return []
    rows = rows[(rows["variant"] == "dense") & rows["algo"].isin([*fraction_of, "dt"])]
    cells = [(key, part) for key, part in rows.groupby(["domain", "task", "dataset"])
             if "dt" in set(part["algo"]) and {"bc10", "bc10-paper"} & set(part["algo"])]
    if not cells:
        return []
    fig, axes = panel_grid(len(cells), 3, 2.7)
    for ax, ((domain, task, dataset), part) in zip(axes, cells, strict=True):
        for suffix, (colour, label) in kinds.items():
            pbc = part[part["algo"].isin([f"{a}{suffix}" for a in fractions])]
            if not pbc.empty:
                measured = set(pbc["algo"].map(fraction_of))
                # a line only through the measured fractions when they are all there
                seed_errorbar(ax, pbc.assign(fraction=pbc["algo"].map(fraction_of)), "fraction",
                              PALETTE[colour], label, marker="s",
                              join=measured == set(fractions.values()))
        dt = part[part["algo"] == "dt"]["score_mean"]
        ax.axhline(dt.mean(), color=PALETTE["dt"], label="DT (ours)")
        ax.set_xscale("log")
        ax.set_xticks([10, 25, 40, 100], ["10", "25", "40", "100"])
        min_span(ax, 10.0)
        cell_title(ax, domain, task, dataset, part)
        ax.set_xlabel("% of data kept (top by return)")
        ax.set_ylabel(part["score_label"].iloc[0], fontsize=8)
        rate_limits(ax, part["score_label"].iloc[0])
    axes[0].legend(fontsize=7)
    fig.suptitle(f"%BC against DT ({runs_note(rows)}; whiskers: sample std where n > 1; "
                 "points unjoined where a fraction was not run)", fontsize=9)
    fig.tight_layout()
    return save(fig, folder, "pbc-vs-dt")


def _dataset_key(name: str, plain: str) -> tuple[int, str]:
    """Panels in the paper's order of the datasets the runs' ones stand for, then by name."""
    order = ["medium-expert", "medium", "medium-replay", "random-1k", "random-10k"]
    return (order.index(plain) if plain in order else len(order), name)


def graph_paths(lengths: pd.DataFrame, methods: list[str], folder: Path,
                profile: str = "quick") -> list[Path]:
    """Histogram of steps to the goal (the paper's Figure 6): share of episodes per step count,
    'never' for episodes that did not arrive, for each of `methods` (pooled over seeds)."""
    rows = lengths[lengths["method"].isin(methods)]
    if rows.empty or set(rows["method"]) <= set(methods[:2]):  # only the computed rows
        return []
    horizon = int(max(rows["steps"].max(), rows["shortest"].max()))
    bins = [str(s) for s in range(1, horizon + 1)] + ["never"]
    label = rows["steps"].map(lambda s: "never" if s < 0 else str(s))
    share = (rows.assign(bin=label).groupby("method")["bin"].value_counts(normalize=True)
             .mul(100).rename("share").reset_index())
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    sns.barplot(share, x="bin", y="share", hue="method", order=bins,
                hue_order=[m for m in methods if m in set(share["method"])],
                palette="colorblind", ax=ax)
    ax.set_xlabel("steps to reach the goal")
    ax.set_ylabel("episodes (%)")
    ax.legend(title=None, fontsize=8)
    learned = rows[~rows["method"].isin(methods[:2])]
    ax.set_title("Shortest path on a 20-node graph: random walks, true shortest paths and DT\n"
                 f"(graph task, profile {profile}; data: 1,000 random walks made by dtbench; "
                 f"learned: {learned['seed'].nunique()} training seed(s) pooled, "
                 f"{learned.groupby('seed').size().iloc[0]} episodes each)", fontsize=9)
    fig.tight_layout()
    return save(fig, folder, "graph-paths")


def critic(probes: pd.DataFrame, attention: np.ndarray, key_step: int,
           phase_ends: tuple[int, int], title: str, folder: Path) -> list[Path]:
    """Left: mean predicted success (± standard error) after each step for the three outcome
    kinds; right: the last layer's attention between steps of one successful episode, with the
    key pick-up and the door marked (the paper's Figure 5)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8),
                                      gridspec_kw={"width_ratios": [1.3, 1]})
    sns.lineplot(probes, x="step", y="predicted_success", hue="kind", errorbar="se",
                 palette="colorblind", ax=left)
    for end in phase_ends:
        left.axvline(end + 0.5, color="grey", linestyle=":", linewidth=1)
    left.set_xlabel("step (dotted: key room | distractor | door room)")
    left.set_ylabel("predicted probability of success")
    left.legend(title=None, fontsize=8)
    left.set_title("predicted success through an episode", fontsize=10)
    image = right.imshow(attention, cmap="viridis", origin="upper", aspect="auto")
    fig.colorbar(image, ax=right, fraction=0.046)
    door = len(attention) - 1
    for end in phase_ends:
        right.axvline(end + 0.5, color="grey", linestyle=":", linewidth=1)
    right.axvline(key_step, color="white", linestyle="--", linewidth=1)
    right.axhline(door, color="white", linestyle=":", linewidth=1)
    right.set_xlabel(f"attended step (dashed: key taken at step {key_step})")
    right.set_ylabel(f"attending step (last = door, step {door})")
    right.set_title("last-layer attention, one successful episode", fontsize=10)
    fig.suptitle(title, fontsize=10, y=1.02)
    fig.tight_layout()
    return save(fig, folder, "critic")
