"""Figures (seaborn/matplotlib, PNG and PDF) regenerated from the stored runs.

Each function draws one figure from the tidy runs table and returns the paths it wrote, or []
when no stored run can fill it (the report lists those with the target that fills them).
Every method is drawn in its one colour and marker (`style.METHODS`); a spread over training
seeds is the tables' one, the 95% t interval of the mean (`stats.t_interval`), clipped to the
score's range, with each seed as a dot; the title of every figure names what it shows, on
which data, at which profile and with how many seeds. Paper numbers are drawn as separate black
marks, never as bars of ours. A domain whose runs at the profile are a pipeline check
(`cells.PIPELINE_CHECKS`) carries a watermark on each of its panels.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers and CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from dtbench import registry  # noqa: E402
from dtbench.report import style  # noqa: E402
from dtbench.report.cells import score_range, tier  # noqa: E402
from dtbench.report.collected import stands_for  # noqa: E402
from dtbench.report.curves import run_curve  # noqa: E402
from dtbench.report.graph import ALGOS as GRAPH_ALGOS  # noqa: E402
from dtbench.report.graph import NO_CAP, SHORTEST, WALK, per_seed_rates  # noqa: E402
from dtbench.report.paper import ATARI_TABLE1, D4RL_TABLE2, KEYDOOR_TABLE6  # noqa: E402
from dtbench.report.scores import RUN_KEYS, headline, with_target_scores  # noqa: E402
from dtbench.report.stats import Bounds, fixed, t_interval  # noqa: E402
from dtbench.report.table import counted  # noqa: E402
from dtbench.report.targets import tracking  # noqa: E402
from dtbench.runs import only_overridden  # noqa: E402
from dtbench.runs.table import Unreadable, read_run_csv  # noqa: E402

# the one palette (style.py), under the names the tables and anchors import
ALGO_LABELS = style.LABELS
ALGO_ORDER = style.ORDER
PALETTE = style.COLOURS

INTERVAL = "95% t interval of the mean over seeds"  # the tables' interval (stats.t_interval)
ZERO_SHARE = 0.01  # a bar shorter than this share of its axis is drawn as a marker at 0


def interval_words(bounds: Bounds) -> str:
    """The interval's name for a title, with the clipping a rate's interval gets."""
    return INTERVAL + (f" (clipped to {bounds[0]:g}-{bounds[1]:g})" if bounds else "")


def ordered(algos: Iterable[str]) -> list[str]:
    """Methods in the palette's order; an algorithm it does not know (a plug-in) last."""
    present = set(algos)
    return [a for a in style.ORDER if a in present] + sorted(present - set(style.ORDER))


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
    return f"profile {profile}; {data}; n = {counted(n, 'seed')} per cell"


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


def rate_axis(ax: plt.Axes, bounds: Bounds, values: Iterable[float], axis: str = "y") -> None:
    """A bounded score's axis: its whole range (0-100 for a rate), widened to every value
    drawn (seeds, paper marks, targets), so no bar, mark or whisker leaves the axes and a
    rate is read against the same scale in every panel; an unbounded score's axis is left to
    matplotlib, which fits all it draws."""
    if bounds is None:
        return
    drawn = [v for v in values if np.isfinite(v)]
    low, high = min([bounds[0], *drawn]), max([bounds[1], *drawn])
    pad = 0.03 * (high - low)
    (ax.set_ylim if axis == "y" else ax.set_xlim)(low - pad, high + pad)


def mark_pipeline_check(ax: plt.Axes) -> None:
    """A tinted background and a watermark behind the data: this panel tests the pipeline,
    not the methods (the tint still shows where bars cover the words)."""
    ax.set_facecolor(style.CHECK_BACKGROUND)
    ax.text(0.5, 0.5, "PIPELINE CHECK\nnothing learns at this budget", transform=ax.transAxes,
            ha="center", va="center", rotation=15, fontsize=9, fontweight="bold",
            color=style.CHECK, alpha=0.6, zorder=0)


def pad_unbounded(ax: plt.Axes, bounds: Bounds, axis: str = "y") -> None:
    """Room on both sides of an unbounded score's axis: bars stick to 0, and a marker for a
    score of 0 at the axis' edge would be cut in half."""
    if bounds is not None:
        return
    low, high = ax.get_ylim() if axis == "y" else ax.get_xlim()
    pad = 0.05 * (high - low)
    (ax.set_ylim if axis == "y" else ax.set_xlim)(low - pad, high + pad)


def cell_title(ax: plt.Axes, domain: str, task: str, dataset: str, part: pd.DataFrame) -> None:
    """The panel's cell, and ' - pipeline check' (with the watermark) where the runs' profile
    makes it one."""
    mark = tier(domain, part["profile"].iloc[0]) if len(part) else ""
    ax.set_title(f"{domain}/{task}\n{dataset}{mark}", fontsize=9)
    if mark:
        mark_pipeline_check(ax)


def seed_errorbar(ax: plt.Axes, rows: pd.DataFrame, x: str, algo: str, label: str | None,
                  bounds: Bounds = None, join: bool = True) -> pd.DataFrame:
    """One method's mean score over seeds at each value of `x`, in its colour and marker, with
    the t interval of the mean (clipped to `bounds`) as whiskers where there are two seeds or
    more and each seed as a small dot (a bimodal cell shows as two clusters, where a std bar
    would cover the gap between them); joined by a line only when `join`."""
    look = style.method(algo)
    stats = rows.groupby(x)["score_mean"].agg(["mean", "count"]).reset_index()
    intervals = [t_interval(rows.loc[rows[x] == v, "score_mean"], bounds=bounds)
                 for v in stats[x]]
    stats["low"], stats["high"] = [i[0] for i in intervals], [i[1] for i in intervals]
    yerr = [np.maximum(stats["mean"] - stats["low"], 0),
            np.maximum(stats["high"] - stats["mean"], 0)]
    ax.errorbar(stats[x], stats["mean"], yerr=yerr, marker=look.marker, color=look.colour,
                capsize=3, label=label, linestyle="-" if join else "none", zorder=3)
    # under the mean's marker: one seed is its own mean, and its dot must not hide the colour
    ax.scatter(rows[x], rows["score_mean"], s=7, color=style.INK, zorder=2.5)
    return stats


def heading(fig: plt.Figure, handles: list, labels: list[str], title: str,
            ncol: int = 6) -> None:
    """Lay the panels out, then put the legend just above them and the title above that:
    placed before the layout, the two either overlapped the panels or left a gap."""
    fig.tight_layout()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), ncol),
               bbox_to_anchor=(0.5, 1.0), frameon=False, fontsize=8)
    rows = -(-len(labels) // ncol)
    fig.suptitle(title, y=1.0 + (0.02 + 0.25 * rows) / fig.get_figheight(), va="bottom",
                 fontsize=9)


@dataclass(frozen=True)
class Bar:
    """A drawn bar: where it stands, its height, and how its method looks."""

    position: float
    value: float
    look: style.Method
    colour: str


def seed_bar(ax: plt.Axes, position: float, width: float, values: Sequence[float],
             look: style.Method, bounds: Bounds, colour: str | None = None,
             hatch: str | None = None, horizontal: bool = False) -> Bar:
    """A bar of the mean over seeds with its t interval (two seeds or more) and the seeds as
    dots; vertical unless `horizontal`. The bar takes the method's colour unless the figure
    colours another series (`colour`)."""
    values = np.asarray(values, dtype=float)
    mean, face = float(values.mean()), colour or look.colour
    draw = ax.barh if horizontal else ax.bar
    draw(position, mean, width, color=face, edgecolor=style.INK if hatch else face,
         hatch=hatch, linewidth=0.8, zorder=2)
    spots = np.full(len(values), position)
    if len(values) > 1:
        low, high = t_interval(values, bounds=bounds)
        lines, caps = (ax.hlines, ax.vlines) if horizontal else (ax.vlines, ax.hlines)
        lines(position, low, high, color=style.INK, linewidth=1, zorder=3)
        caps([low, high], position - width / 5, position + width / 5, color=style.INK,
             linewidth=1, zorder=3)
    xy = (values, spots) if horizontal else (spots, values)
    ax.scatter(*xy, s=6, color=style.INK, zorder=4)
    return Bar(position, mean, look, face)


def mark_zero_bars(ax: plt.Axes, bars: Sequence[Bar], horizontal: bool = False) -> None:
    """A bar too short to see (a score of 0) as its method's marker at 0, so that 'scored 0'
    never reads as 'not run'; call once the axis limits are final."""
    low, high = ax.get_xlim() if horizontal else ax.get_ylim()
    for bar in bars:
        if abs(bar.value) < ZERO_SHARE * (high - low):
            xy = (bar.value, bar.position) if horizontal else (bar.position, bar.value)
            ax.scatter(*xy, s=36, marker=bar.look.marker, color=bar.colour,
                       edgecolors=style.INK, linewidths=0.6, zorder=5, clip_on=False)


def method_handles(algos: Sequence[str]) -> tuple[list, list[str]]:
    """Legend entries for methods drawn as bars: a swatch in each one's colour."""
    looks = [style.method(a) for a in algos]
    return ([Patch(facecolor=m.colour, edgecolor=m.colour) for m in looks],
            [m.label for m in looks])


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


def method_bars(ax: plt.Axes, cells: Mapping[tuple[str, str], np.ndarray], groups: list[str],
                algos: list[str], bounds: Bounds) -> dict[tuple[str, str], Bar]:
    """Bars per group (a task) side by side, one per method in `algos` that ran there, each
    in its method's colour; {(group, algo): the bar drawn}."""
    width = 0.8 / len(algos)
    bars = {}
    for g, group in enumerate(groups):
        for i, algo in enumerate(algos):
            if (group, algo) in cells:
                position = g - 0.4 + width * (i + 0.5)
                bars[(group, algo)] = seed_bar(ax, position, width, cells[(group, algo)],
                                               style.method(algo), bounds)
    ax.set_xticks(range(len(groups)), groups)
    return bars


def score_bars(runs: pd.DataFrame, domain: str, folder: Path) -> list[Path]:
    """Our score per task and dataset for every algorithm: bars = mean over seeds, whiskers =
    the t interval of the mean (two seeds or more), dots = the seeds; the paper's numbers as
    black marks when they fit our scale (always on a rate's 0-100), else named in the title
    (they are in the table)."""
    rows = headline(runs)
    rows = rows[(rows["domain"] == domain) & (rows["variant"] == "dense")] if not rows.empty \
        else rows
    if rows.empty:
        return []
    bounds = score_range(domain)
    algos = ordered(rows["algo"])
    plain = dict(zip(rows["dataset"], stands_for(rows), strict=True))
    datasets = sorted(plain, key=lambda name: _dataset_key(name, plain[name]))
    tasks = sorted(set(rows["task"]))
    n_max = int(rows.groupby(["task", "dataset", "algo"])["seed"].nunique().max())
    paper = {(d, t, a): v for d in datasets for t in tasks for a in algos
             if (v := _paper_score(domain, t, plain[d], a)) is not None}
    ours_top = float(rows["score_mean"].abs().max())
    marks = bool(paper) and (bounds is not None
                             or max(abs(v) for v in paper.values()) <= 2 * max(ours_top, 5.0))
    fig, axes = plt.subplots(1, len(datasets), figsize=(1.2 + 2.2 * len(tasks) * len(datasets)
                                                        ** 0.5 * 1.6, 3.6),
                             squeeze=False, sharey=True)
    drawn: dict[plt.Axes, list[Bar]] = {}
    for ax, dataset in zip(axes[0], datasets, strict=True):
        part = rows[rows["dataset"] == dataset]
        here = [t for t in tasks if t in set(part["task"])]  # no empty slot for another task's
        cells = {(t, a): g["score_mean"].to_numpy() for (t, a), g in part.groupby(["task", "algo"])}
        bars = method_bars(ax, cells, here, algos, bounds)
        drawn[ax] = list(bars.values())
        if marks:
            for (task, algo), bar in bars.items():
                value = paper.get((dataset, task, algo))
                if value is not None:
                    ax.scatter(bar.position, value, marker="_", s=90, color=style.INK,
                               linewidths=2, zorder=5)
        ax.axhline(0, color=style.IDENTITY, linewidth=0.6, zorder=1)
        ax.set_title(dataset, fontsize=10)
        if tier(domain, str(part["profile"].iloc[0])):
            mark_pipeline_check(ax)
        ax.set_ylabel(rows["score_label"].iloc[0] if ax is axes[0][0] else "")
    rate_axis(axes[0][0], bounds, [*rows["score_mean"], *(paper.values() if marks else [])])
    pad_unbounded(axes[0][0], bounds)
    for ax, bars in drawn.items():
        mark_zero_bars(ax, bars)
    handles, labels = method_handles(algos)
    if marks:
        handles.append(plt.Line2D([], [], color=style.INK, marker="_", linestyle="",
                                  markersize=10, markeredgewidth=2))
        labels.append("paper (its own data)")
    what = "bars: mean over seeds; dots: seeds" + (f"; whiskers: {interval_words(bounds)}"
                                                    if n_max > 1 else "")
    what += "; a marker at 0: a score of 0"
    theirs = ("" if not paper else "" if marks else
              "; the paper's numbers (on its own data) are in the table: on this scale they "
              "would flatten our bars")
    profile = str(rows["profile"].iloc[0])
    heading(fig, handles, labels, textwrap.fill(
        f"{domain}{tier(domain, profile)}: our runs ({runs_note(rows)}; {what}){theirs}", 120))
    return save(fig, folder, f"scores-{domain}")


GRAPH_METRICS = (("reached", "goal reached (%)"), ("optimal", "on a shortest path (%)"))
GRAPH_TASKS = {"graph": "graph task: start nodes of the evaluation",
               "stitch": "stitching test: held-out start nodes, no optimal walk in the data"}


def _graph_series() -> list[tuple[str, str, str | None]]:
    """(method name in path_lengths, its algorithm, hatch) of the learned rows: DT without the
    cap is DT's trained runs conditioned otherwise, so DT's colour, hatched."""
    return [(label, algo, None) for algo, label in GRAPH_ALGOS[:1]] + [(NO_CAP, "dt", "//")] \
        + [(label, algo, None) for algo, label in GRAPH_ALGOS[1:]]


def graph_scores(lengths: Mapping[str, pd.DataFrame], folder: Path,
                 profile: str = "quick") -> list[Path]:
    """The graph's two tasks (rows) by the two rates of their tables (columns): goal reached
    and on a shortest path, the rate that carries the stitching test's result. One bar per
    learned method (mean over seeds, t interval, seeds as dots); the data's random walk and
    the true shortest path, computed from the same start nodes, as reference lines."""
    tasks = [t for t in GRAPH_TASKS if t in lengths
             and (~lengths[t]["method"].isin([WALK, SHORTEST])).any()]
    if not tasks:
        return []
    bounds = score_range("graph")
    fig, grid = plt.subplots(len(tasks), 2, figsize=(9.5, 3.4 * len(tasks)), squeeze=False)
    for axes, task in zip(grid, tasks, strict=True):
        rates = per_seed_rates(lengths[task]).reset_index()
        series = [s for s in _graph_series() if s[0] in set(rates["method"])]
        for ax, (metric, label) in zip(axes, GRAPH_METRICS, strict=True):
            bars = [seed_bar(ax, i, 0.7, rates.loc[rates["method"] == name, metric],
                             style.method(algo), bounds, hatch=hatch)
                    for i, (name, algo, hatch) in enumerate(series)]
            for name, colour, dash in ((WALK, style.WALK, ":"), (SHORTEST, style.SHORTEST, "--")):
                value = rates.loc[rates["method"] == name, metric]
                if not value.empty:
                    ax.axhline(float(value.iloc[0]), color=colour, linestyle=dash, linewidth=1.6,
                               zorder=1)
            ax.set_xticks(range(len(series)),
                          [NO_CAP if hatch else style.method(algo).label
                           for _, algo, hatch in series], rotation=25, ha="right", fontsize=8)
            ax.set_ylabel(label)
            ax.set_title(f"{GRAPH_TASKS[task]}\n{label}", fontsize=9)
            rate_axis(ax, bounds, rates[metric])
            mark_zero_bars(ax, bars)
            if tier("graph", profile):
                mark_pipeline_check(ax)
    learned = pd.concat([lengths[t].assign(task=t) for t in tasks])
    learned = learned[~learned["method"].isin([WALK, SHORTEST])]
    seeds = learned.groupby(["task", "method"])["seed"].nunique()
    n = f"{seeds.min()}" if seeds.min() == seeds.max() else f"{seeds.min()}-{seeds.max()}"
    episodes = learned.groupby(["task", "method", "seed"]).size()
    each = f"{episodes.min()}" if episodes.min() == episodes.max() else \
        f"{episodes.min()}-{episodes.max()}"
    handles = [plt.Line2D([], [], color=style.WALK, linestyle=":", linewidth=1.6),
               plt.Line2D([], [], color=style.SHORTEST, linestyle="--", linewidth=1.6)]
    heading(fig, handles, ["random walk (the data's policy), computed from the same starts",
                           "shortest path (BFS), computed"], textwrap.fill(
        f"Shortest path on dtbench's 20-node graph{tier('graph', profile)} (profile {profile}; "
        f"data: 1,000 random walks made by dtbench per task; n = {counted(n, 'training seed')} per "
        f"method, {each} evaluation episodes each; bars: mean over seeds; whiskers: "
        f"{interval_words(bounds)}; dots: seeds; a marker at 0: a rate of 0)", 110))
    return save(fig, folder, "scores-graph")


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
    return draw_target_vs_achieved(dt, folder, "target-vs-achieved")


def draw_target_vs_achieved(dt: pd.DataFrame, folder: Path, name: str,
                            what: str = "") -> list[Path]:
    """The panels of `target_vs_achieved` for the given DT rows (a row per run and target),
    one per domain, task and dataset, saved as `name`; `what` opens the title."""
    if dt.empty:
        return []
    dt = with_target_scores(dt)
    panels = list(dt.groupby(["domain", "task", "dataset"], sort=True))
    # a lone panel gets room of its own: the title would squeeze it
    fig, axes = panel_grid(len(panels), *((3.1, 2.9) if len(panels) > 1 else (5.2, 3.8)))
    for ax, ((domain, task, dataset), part) in zip(axes, panels, strict=False):
        bounds = score_range(domain)
        stats = seed_errorbar(ax, part, "target_score", "dt", "DT (ours)", bounds)
        best = float(part["data_score_max"].iloc[0])
        top = max(stats["target_score"].max(), stats["high"].max(), best) * 1.1
        ax.plot([0, top], [0, top], linestyle="--", color=style.IDENTITY, linewidth=1,
                label="y = x")
        ax.axvline(best, linestyle=":", color=style.INK, linewidth=1,
                   label="best episode in data")
        cell_title(ax, domain, task, dataset, part)
        if len(stats) > 2:
            r, slope = tracking(stats["target_score"], stats["mean"])
            # in the title: inside the axes the text crossed the curve or the data's best line
            ax.set_title(f"{ax.get_title()}\nr = {fixed(r, 2)}, slope {fixed(slope, 2)}",
                         fontsize=9)
        ax.set_xlabel("target (score scale)")
        ax.set_ylabel("achieved score")
        rate_axis(ax, bounds, [*part["score_mean"], *stats["low"], *stats["high"]])
        rate_axis(ax, bounds, [*stats["target_score"], best], axis="x")
    axes[0].legend(fontsize=7, loc="upper left")
    note = runs_note(dt, ("domain", "task", "dataset", "target_return"))
    fig.suptitle(textwrap.fill(
        f"{what}DT's achieved score against its target ({note}; points: mean over seeds; "
        f"whiskers: {INTERVAL}, clipped to 0-100 for rates; dots: seeds)",
        min(150, max(80, 45 * len(panels) + 10))), fontsize=9)
    fig.tight_layout()
    return save(fig, folder, name)


DASHES = ("-", "--", ":", "-.")  # tasks, within one colour per dataset


def learning_curves(runs: pd.DataFrame, results_root: Path, folder: Path) -> list[Path]:
    """DT's training loss (action loss per metrics row) against gradient steps, per domain:
    one colour per dataset (never a method's: every line here is DT), one dash per task."""
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
                                         task=spec_row.task, dataset=spec_row.dataset))
    if not frames:
        return []
    curves = pd.concat(frames, ignore_index=True)
    domains = sorted(set(curves["domain"]))
    fig, axes = plt.subplots(1, len(domains), figsize=(4.2 * len(domains), 3.4), squeeze=False)
    for ax, domain in zip(axes[0], domains, strict=True):
        part = curves[curves["domain"] == domain]
        datasets, tasks = sorted(set(part["dataset"])), sorted(set(part["task"]))
        colours = {d: style.SERIES[i % len(style.SERIES)] for i, d in enumerate(datasets)}
        dashes = {t: DASHES[i % len(DASHES)] for i, t in enumerate(tasks)}
        sns.lineplot(part, x="step", y="loss", hue="dataset", style="task", palette=colours,
                     dashes={t: _dash(d) for t, d in dashes.items()}, errorbar=t_interval,
                     ax=ax, linewidth=1, legend=False)
        # our own legend: seaborn's draws its style entries in a grey of its own
        handles = [plt.Line2D([], [], color=c) for c in colours.values()]
        handles += [plt.Line2D([], [], color=style.INK, linestyle=d) for d in dashes.values()]
        ax.legend(handles, [*colours, *dashes], fontsize=6)
        ax.set_title(f"{domain}: DT training loss{tier(domain, part_profile(dt, domain))}",
                     fontsize=9)
        if tier(domain, part_profile(dt, domain)):
            mark_pipeline_check(ax)
        ax.set_xlabel("gradient step")
        kind = registry.get_domain(domain).action_kind
        ax.set_ylabel("action loss (" + ("MSE" if kind == "continuous" else "cross-entropy")
                      + ")")
    fig.suptitle(f"DT training loss: mean over seeds, band: {INTERVAL} ({runs_note(dt)}; "
                 "colour: dataset, dash: task)", fontsize=9)
    fig.tight_layout()
    return save(fig, folder, "learning-curves")


def _dash(linestyle: str) -> tuple | str:
    """A matplotlib line style as the dash pattern seaborn's `dashes` takes ('' is solid)."""
    return {"-": "", "--": (4, 2), ":": (1, 2), "-.": (4, 2, 1, 2)}[linestyle]


def eval_curves(runs: pd.DataFrame, results_root: Path, folder: Path) -> list[Path]:
    """Score against training step for runs evaluated during training (their curve.csv), one
    panel per task and dataset, one line per method (mean over seeds, band: the t interval,
    dots: the seeds)."""
    rows = headline(runs)
    frames = []
    for _, r in rows.drop_duplicates(RUN_KEYS).iterrows() if not rows.empty else []:
        if r["variant"] != "dense":
            continue
        curve = run_curve(results_root, r)  # empty when missing or unreadable
        if len(curve) > 1:
            frames.append(curve.assign(domain=r["domain"], profile=r["profile"],
                                       panel=f"{r['domain']}/{r['task']}\n{r['dataset']}"
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
        domain = str(part["domain"].iloc[0])
        bounds = score_range(domain)
        algos = ordered(part["algo"])
        sns.lineplot(part, x="step", y="score_mean", hue="algo", style="algo",
                     palette={a: style.method(a).colour for a in algos}, hue_order=algos,
                     markers={a: style.method(a).marker for a in algos}, dashes=False,
                     errorbar=lambda v, b=bounds: t_interval(v, bounds=b), ax=ax,
                     legend=False)
        for algo in algos:  # the seeds, small, in their method's colour
            mine = part[part["algo"] == algo]
            ax.scatter(mine["step"], mine["score_mean"], s=4, color=style.method(algo).colour,
                       alpha=0.5, linewidths=0, zorder=4)
        ax.set_title(panel, fontsize=9)
        if tier(domain, str(part["profile"].iloc[0])):
            mark_pipeline_check(ax)
        ax.set_xlabel("gradient step")
        label = part["score_label"].iloc[0]
        ax.set_ylabel(label, fontsize=8)
        rate_axis(ax, bounds, part["score_mean"])
    algos = ordered(curves["algo"])
    handles = [plt.Line2D([], [], color=style.method(a).colour, marker=style.method(a).marker)
               for a in algos]
    drawn = rows[rows["folder"].isin(set(curves["folder"]))]  # the runs with curves only
    heading(fig, handles, [style.method(a).label for a in algos], textwrap.fill(
        f"Score during training: mean over seeds, band: {INTERVAL} (clipped to 0-100 for "
        f"rates), small dots: seeds ({runs_note(drawn)})", 150))
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
        bounds = score_range(domain)
        stats = seed_errorbar(ax, part, "context_len", "dt", None, bounds)
        ax.set_xscale("log")
        ax.set_xticks(stats["context_len"], [str(int(k)) for k in stats["context_len"]])
        ax.set_xticks([], minor=True)  # the log axis' minor labels overlap over short ranges
        cell_title(ax, domain, task, dataset, part)
        ax.set_xlabel("context length K (steps)")
        ax.set_ylabel(part["score_label"].iloc[0])
        if bounds is None:
            min_span(ax, 10.0)
        rate_axis(ax, bounds, part["score_mean"])
    note = runs_note(rows, ("domain", "task", "dataset", "context_len"))
    fig.suptitle(textwrap.fill(
        f"DT against its context length K ({note}; points: mean over seeds; whiskers: "
        f"{INTERVAL}, clipped to 0-100 for rates; dots: seeds)", 150), fontsize=9)
    fig.tight_layout()
    return save(fig, folder, "context-length")


VARIANTS = {"dense": style.DENSE, "delayed": style.DELAYED}


def dense_vs_delayed(runs: pd.DataFrame, folder: Path) -> list[Path]:
    """Each algorithm's score on dense and on delayed rewards, where both were run: one row
    of panels per domain (one score scale each), one panel per method, cells as horizontal
    bars in the reward variants' colours (the method is the panel's)."""
    rows = headline(runs)
    if rows.empty or not (rows["variant"] == "delayed").any():
        return []
    keys = ["domain", "task", "dataset", "algo"]
    rows = rows[rows.groupby(keys)["variant"].transform("nunique") == 2]
    if rows.empty:
        return []
    rows = rows.assign(cell=rows["task"] + " / " + rows["dataset"])
    domains = sorted(set(rows["domain"]))
    algos = ordered(rows["algo"])
    tallest = max(rows[rows["domain"] == d]["cell"].nunique() for d in domains)
    fig, grid = plt.subplots(len(domains), len(algos), squeeze=False, sharey="row",
                             figsize=(2.9 * len(algos) + 1.5, (0.9 + 0.32 * tallest)
                                      * len(domains)))
    for axes, domain in zip(grid, domains, strict=True):
        part = rows[rows["domain"] == domain]
        order = sorted(set(part["cell"]))
        profile = str(part["profile"].iloc[0])
        for ax, algo in zip(axes, algos, strict=True):
            bars = _variant_bars(ax, part[part["algo"] == algo], order, algo)
            ax.axvline(0, color=style.IDENTITY, linewidth=0.6, zorder=1)
            ax.set_yticks(range(len(order)), order)
            rate_axis(ax, score_range(domain), part["score_mean"], axis="x")
            pad_unbounded(ax, score_range(domain), axis="x")
            mark_zero_bars(ax, bars, horizontal=True)
            ax.set_title(f"{style.method(algo).label} ({domain}{tier(domain, profile)})",
                         fontsize=8)
            if tier(domain, profile):
                mark_pipeline_check(ax)
            ax.set_xlabel(part["score_label"].iloc[0], fontsize=8)
        axes[0].invert_yaxis()  # the row shares y: once for all, the first cell on top
        # beside the row: inside a panel it covers a bar
        axes[-1].legend([Patch(facecolor=c) for c in VARIANTS.values()], list(VARIANTS),
                        title="rewards", fontsize=7, loc="center left",
                        bbox_to_anchor=(1.02, 0.5), frameon=False)
    n_max = int(rows.groupby([*keys, "variant"])["seed"].nunique().max())
    spread = f"whiskers: {INTERVAL}, clipped to 0-100 for rates; " if n_max > 1 else ""
    fig.suptitle("Dense vs delayed rewards (delayed: the whole return on the last step; DT at "
                 f"its highest target; bars: mean over seeds; {spread}dots: seeds; the method's "
                 f"marker at 0: a score of 0)\n{runs_note(rows)}", fontsize=9)
    fig.tight_layout()
    return save(fig, folder, "dense-vs-delayed")


def _variant_bars(ax: plt.Axes, mine: pd.DataFrame, order: list[str], algo: str) -> list[Bar]:
    """One method's dense and delayed bars per cell (rows `order`), the dense one above."""
    bounds = score_range(str(mine["domain"].iloc[0]))
    bars = []
    for i, cell in enumerate(order):
        for j, (variant, colour) in enumerate(VARIANTS.items()):
            values = mine.loc[(mine["cell"] == cell) & (mine["variant"] == variant),
                              "score_mean"]
            if not values.empty:
                bars.append(seed_bar(ax, i - 0.2 + 0.4 * j, 0.4, values, style.method(algo),
                                     bounds, colour=colour, horizontal=True))
    return bars


def pbc_vs_dt(runs: pd.DataFrame, folder: Path) -> list[Path]:
    """%BC's score against the fraction of data it keeps (10/25/40/100%), each fraction in its
    method's colour and marker, DT as a line with its interval as a band."""
    rows = headline(runs)
    fractions = {"bc10": 10, "bc25": 25, "bc40": 40, "bc": 100}
    kinds = {"": "%BC, d3rlpy (ours)", "-paper": "%BC [bc-paper] (ours)"}
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
        bounds = score_range(domain)
        for suffix, label in kinds.items():
            pbc = part[part["algo"].isin([f"{a}{suffix}" for a in fractions])]
            if not pbc.empty:
                _fraction_points(ax, pbc.assign(fraction=pbc["algo"].map(fraction_of)),
                                 set(fractions.values()), label, bounds)
        dt = part[part["algo"] == "dt"]["score_mean"]
        ax.axhline(dt.mean(), color=style.method("dt").colour, label="DT (ours)")
        if len(dt) > 1:
            ax.axhspan(*t_interval(dt, bounds=bounds), color=style.method("dt").colour,
                       alpha=0.15, linewidth=0)
        ax.set_xscale("log")
        ax.set_xticks([10, 25, 40, 100], ["10", "25", "40", "100"])
        ax.set_xticks([], minor=True)
        if bounds is None:
            min_span(ax, 10.0)
        cell_title(ax, domain, task, dataset, part)
        ax.set_xlabel("% of data kept (top by return)")
        ax.set_ylabel(part["score_label"].iloc[0], fontsize=8)
        rate_axis(ax, bounds, part["score_mean"])
    algos = ordered(a for _, part in cells for a in part["algo"])
    handles = [plt.Line2D([], [], color=style.method(a).colour, marker=style.method(a).marker,
                          linestyle="-" if a == "dt" else "none") for a in algos]
    heading(fig, handles, [style.method(a).label for a in algos], textwrap.fill(
        f"%BC against DT ({runs_note(rows)}; points: mean over seeds; whiskers and DT's band: "
        f"{INTERVAL}, clipped to 0-100 for rates; dots: seeds; grey line: one %BC kind, drawn "
        "only where every fraction ran)", 150))
    return save(fig, folder, "pbc-vs-dt")


def _fraction_points(ax: plt.Axes, pbc: pd.DataFrame, every: set[int], label: str,
                     bounds: Bounds) -> None:
    """One %BC kind: each fraction's method in its look, joined by a grey line through the
    means only when every fraction was run (a line over a gap would invent a trend)."""
    means = pbc.groupby("fraction")["score_mean"].mean()
    if set(means.index) == every:
        ax.plot(means.index, means.to_numpy(), color=style.IDENTITY, linewidth=1, zorder=2)
    for algo, mine in pbc.groupby("algo"):
        seed_errorbar(ax, mine, "fraction", str(algo), None, bounds, join=False)


def _dataset_key(name: str, plain: str) -> tuple[int, str]:
    """Panels in the paper's order of the datasets the runs' ones stand for, then by name."""
    order = ["medium-expert", "medium", "medium-replay", "random-1k", "random-10k"]
    return (order.index(plain) if plain in order else len(order), name)


def graph_paths(lengths: pd.DataFrame, methods: list[str], folder: Path,
                profile: str = "quick") -> list[Path]:
    """Histogram of steps to the goal (the paper's Figure 6): share of episodes per step count,
    'never' for episodes that did not arrive, for each of `methods` (pooled over seeds): the
    computed random walk and shortest path in greys, learned methods in their colours."""
    rows = lengths[lengths["method"].isin(methods)]
    if rows.empty or set(rows["method"]) <= set(methods[:2]):  # only the computed rows
        return []
    horizon = int(max(rows["steps"].max(), rows["shortest"].max()))
    bins = [str(s) for s in range(1, horizon + 1)] + ["never"]
    label = rows["steps"].map(lambda s: "never" if s < 0 else str(s))
    share = (rows.assign(bin=label).groupby("method")["bin"].value_counts(normalize=True)
             .mul(100).rename("share").reset_index())
    algo_of = {name: algo for algo, name in GRAPH_ALGOS}
    colours = {WALK: style.WALK, SHORTEST: style.SHORTEST}
    colours |= {m: style.method(algo_of.get(m, m)).colour for m in methods if m not in colours}
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    sns.barplot(share, x="bin", y="share", hue="method", order=bins,
                hue_order=[m for m in methods if m in set(share["method"])],
                palette=colours, saturation=1, errorbar=None, ax=ax)  # one share a bar
    ax.set_xlabel("steps to reach the goal")
    ax.set_ylabel("episodes (%)")
    ax.legend(title=None, fontsize=8)
    learned = rows[~rows["method"].isin(methods[:2])]
    ax.set_title(textwrap.fill(
        "Shortest path on a 20-node graph: random walks, true shortest paths and DT "
        f"(graph task{tier('graph', profile)}, profile {profile}; data: 1,000 random walks "
        f"made by dtbench; learned: {counted(learned['seed'].nunique(), 'training seed')} pooled, "
        f"{learned.groupby('seed').size().iloc[0]} episodes each; random walk and shortest "
        "path computed from the same start nodes)", 110), fontsize=9)
    if tier("graph", profile):
        mark_pipeline_check(ax)
    fig.tight_layout()
    return save(fig, folder, "graph-paths")


def critic(probes: pd.DataFrame, attention: np.ndarray, key_step: int,
           phase_ends: tuple[int, int], title: str, folder: Path) -> list[Path]:
    """Left: mean predicted success (band: ± one standard error of the mean over episodes)
    after each step for the three outcome kinds; right: the last layer's attention between
    steps of one successful episode, with the key pick-up and the door marked (the paper's
    Figure 5)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8),
                                      gridspec_kw={"width_ratios": [1.3, 1]})
    kinds = list(dict.fromkeys(probes["kind"]))
    sns.lineplot(probes, x="step", y="predicted_success", hue="kind", errorbar="se",
                 palette=dict(zip(kinds, style.SERIES, strict=False)), ax=left)
    for end in phase_ends:
        left.axvline(end + 0.5, color=style.IDENTITY, linestyle=":", linewidth=1)
    left.set_xlabel("step (dotted: key room | distractor | door room)")
    left.set_ylabel("predicted probability of success")
    left.legend(title="episode kind (band: ± 1 standard error\nof the mean over episodes)",
                title_fontsize=7, fontsize=8)
    episodes = probes.groupby("kind")["episode"].nunique() if "episode" in probes else None
    n = "" if episodes is None else (f" ({episodes.min()} per kind)" if episodes.min() ==
                                     episodes.max() else f" ({episodes.min()}-{episodes.max()}"
                                     " per kind)")
    left.set_title(f"predicted success through an episode: mean over episodes{n}", fontsize=10)
    image = right.imshow(attention, cmap="viridis", origin="upper", aspect="auto")
    bar = fig.colorbar(image, ax=right, fraction=0.046)
    bar.set_label("attention weight (each row sums to 1)", fontsize=8)
    door = len(attention) - 1
    for end in phase_ends:
        right.axvline(end + 0.5, color=style.IDENTITY, linestyle=":", linewidth=1)
    right.axvline(key_step, color="white", linestyle="--", linewidth=1)
    right.axhline(door, color="white", linestyle=":", linewidth=1)
    right.set_xlabel(f"attended step (dashed: key taken at step {key_step})")
    right.set_ylabel(f"attending step (last = door, step {door})")
    right.set_title("last-layer attention, one successful episode", fontsize=10)
    fig.suptitle(title, fontsize=10, y=1.02)
    fig.tight_layout()
    return save(fig, folder, "critic")
