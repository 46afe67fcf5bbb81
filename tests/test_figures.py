"""Figures: one colour per method in every figure, rates on 0-100 axes with intervals clipped
to them, zero scores visible, the tables' t interval with seeds as dots, pipeline checks kept
out of the headline figures. Drawn from small synthetic runs; each figure is caught before it
is saved, so that its artists can be read."""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex, to_rgb

from dtbench.report import aggregates, figures, style
from dtbench.report.graph import NO_CAP, SHORTEST, WALK
from dtbench.report.stats import t_interval

ALLOWED = {to_hex(c) for c in (*style.COLOURS.values(), *style.NON_METHOD, "white")}


@pytest.fixture
def drawn(monkeypatch):
    """The figures drawn instead of saved: {name: figure}."""
    caught: dict[str, plt.Figure] = {}

    def catch(fig: plt.Figure, folder: Path, name: str) -> list[Path]:
        caught[name] = fig
        return [folder / f"{name}.png"]

    monkeypatch.setattr(figures, "save", catch)
    monkeypatch.setattr(aggregates, "save", catch)
    yield caught
    for fig in caught.values():
        plt.close(fig)


def run(domain: str, task: str, dataset: str, algo: str, seed: int, score: float,
        profile: str = "quick", **extra) -> dict:
    """One row of runs.csv as the report reads it."""
    labels = {"keydoor": "success rate (%)", "graph": "goal reached (%)",
              "atari": "gamer-normalised score", "mujoco": "D4RL normalised score"}
    return {"domain": domain, "task": task, "dataset": dataset, "variant": "dense",
            "algo": algo, "seed": seed, "profile": profile, "overrides": "",
            "folder": f"runs/{domain}/{task}/{dataset}/{algo}/{seed}",
            "target_return": 1.0 if algo == "dt" else None, "score_mean": score,
            "score_label": labels[domain], "data_route": "generated", "code_current": True,
            "data_score_mean": 3.0, "data_score_max": 100.0, **extra}


# DT on random-10k as in the committed Key-to-Door runs (96.8, above the paper's 94.6 and
# 95.1), one cell near the top (its unclipped t interval passes 100) and one method at 0
KEYDOOR = {("random-10k", "dt"): [96.8] * 5,
           ("random-10k", "bc10"): [44.0, 49.0, 55.0, 54.0, 45.0],
           ("random-10k", "cql"): [0.0] * 5,
           ("random-1k", "dt"): [100.0, 100.0, 90.0, 100.0, 100.0],
           ("random-1k", "bc10"): [10.0, 12.0, 9.0, 13.0, 11.0],
           ("random-1k", "cql"): [2.0, 3.0, 1.0, 2.0, 3.0],
           ("random-1k", "random"): [4.0, 5.0, 3.0, 4.0, 5.0],
           ("random-10k", "random"): [4.0, 5.0, 3.0, 4.0, 5.0]}


def keydoor_runs(profile: str = "quick") -> pd.DataFrame:
    return pd.DataFrame([run("keydoor", "keydoor", dataset, algo, seed, score, profile)
                         for (dataset, algo), scores in KEYDOOR.items()
                         for seed, score in enumerate(scores)])


def atari_runs(profile: str = "quick") -> pd.DataFrame:
    """A pipeline check at quick: one seed per cell, DT 'ahead' of methods that score 0."""
    return pd.DataFrame([run("atari", game, "mixed", algo, 0, score, profile)
                         for game in ("breakout", "pong")
                         for algo, score in (("dt", 1.7), ("cql", 0.0), ("bc10", 0.0))])


def colours_drawn(fig: plt.Figure) -> set[str]:
    """The colour of every patch, line and unmapped collection in the figure (colour bars
    and images map values to a colour map: they are no series)."""
    found = set()
    for ax in fig.axes:
        for patch in ax.patches:
            if patch.get_fill() and patch.get_facecolor()[3] > 0:
                found.add(to_hex(patch.get_facecolor(), keep_alpha=False))
        found |= {to_hex(line.get_color(), keep_alpha=False) for line in ax.lines}
        for collection in ax.collections:
            if collection.get_array() is None:
                colours = [*collection.get_facecolors(), *collection.get_edgecolors()]
                found |= {to_hex(c, keep_alpha=False) for c in colours if c[3] > 0}
    return found


def legend_entries(fig: plt.Figure) -> list[tuple[str, str]]:
    """(label, colour) of every legend entry of the figure and its panels."""
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend())]
    entries = []
    for legend in legends:
        for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=True):
            colour = (handle.get_facecolor() if hasattr(handle, "get_width")
                      else handle.get_color())
            entries.append((text.get_text(), to_hex(colour, keep_alpha=False)))
    return entries


def check_palette(fig: plt.Figure, name: str) -> None:
    """Every colour drawn is the style's; a legend entry that names a method shows its
    colour, and one that names anything else shows no method's colour."""
    assert colours_drawn(fig) <= ALLOWED, (name, colours_drawn(fig) - ALLOWED)
    by_label = {m.label: m.colour for m in style.METHODS.values()}
    for label, colour in legend_entries(fig):
        method = next((m for m in by_label if label.startswith(m)), None)
        if method is not None:
            assert colour == by_label[method], (name, label, colour)
        else:
            assert not style.is_method_colour(colour), (name, label, colour)


def test_the_style_keeps_methods_and_everything_else_apart():
    looks = list(style.METHODS.values())
    assert len({m.colour for m in looks}) == len({m.marker for m in looks}) == len(looks)
    assert len({m.label for m in looks}) == len(looks)
    # the colourblind palette's orange (CQL) and vermillion (10%BC) are 0.196 apart: methods
    # also differ by marker, so between them a little less than `DISTINCT` does
    for i, a in enumerate(looks):
        for b in looks[i + 1:]:
            assert style.distance(a.colour, b.colour) >= 0.15, (a, b)
    for colour in style.NON_METHOD:
        assert not style.is_method_colour(colour), colour
    assert style.method("random").label == "Uniform random actions"  # not the data's walk
    assert style.method("a-plugin").colour == style.INK  # never another method's colour


def test_every_figure_draws_each_method_in_its_one_colour(tmp_path, drawn):
    keydoor = keydoor_runs()
    for row in keydoor.itertuples():  # curves and losses for the curve figures
        folder = tmp_path / row.folder
        folder.mkdir(parents=True, exist_ok=True)
        pd.DataFrame({"step": [100, 200, 300], "target_return": [row.target_return] * 3,
                      "score_mean": [row.score_mean / 3, row.score_mean / 2, row.score_mean]}
                     ).to_csv(folder / "curve.csv", index=False)
        pd.DataFrame({"step": [100, 200, 300], "loss": [1.5, 1.4, 1.3 + row.seed / 100]}
                     ).to_csv(folder / "metrics.csv", index=False)
    delayed = keydoor.assign(variant="delayed", score_mean=keydoor["score_mean"] / 2)
    with_pbc = pd.concat([keydoor, keydoor[keydoor["algo"] == "bc10"].assign(algo="bc")])
    figures.score_bars(keydoor, "keydoor", tmp_path)
    figures.dense_vs_delayed(pd.concat([keydoor, delayed]), tmp_path)
    figures.pbc_vs_dt(with_pbc, tmp_path)
    figures.eval_curves(keydoor, tmp_path, tmp_path)
    figures.learning_curves(keydoor, tmp_path, tmp_path)
    aggregates.aggregate_figure(keydoor, ["keydoor"], tmp_path)
    aggregates.improvement_figure(keydoor, ["keydoor"], tmp_path)
    lengths = graph_lengths()
    figures.graph_paths(lengths["graph"], [WALK, SHORTEST, "DT"], tmp_path)
    figures.graph_scores(lengths, tmp_path)
    probes = pd.DataFrame({"step": np.tile(np.arange(5), 6), "kind": np.repeat(
        ["key, door", "key, no door", "no key"], 10), "predicted_success": np.linspace(0, 1, 30)})
    figures.critic(probes, np.eye(5), 1, (1, 3), "critic", tmp_path)
    assert set(drawn) == {"scores-keydoor", "dense-vs-delayed", "pbc-vs-dt", "eval-curves",
                          "learning-curves", "aggregates", "probability-of-improvement",
                          "graph-paths", "scores-graph", "critic"}
    for name, fig in drawn.items():
        check_palette(fig, name)
    # the bars of a method are its colour: CQL's, even at 0, and DT's
    bars = {to_hex(p.get_facecolor(), keep_alpha=False) for p in
            drawn["scores-keydoor"].axes[0].patches}
    assert {style.COLOURS["dt"], style.COLOURS["cql"], style.COLOURS["random"]} <= bars
    # the critic's band is named, and its colour bar says what it measures
    critic = drawn["critic"]
    assert "standard error" in critic.axes[0].get_legend().get_title().get_text()
    assert critic.axes[-1].get_ylabel().startswith("attention weight")


def whisker_ends(ax: plt.Axes) -> list[float]:
    """The ends of every whisker (vertical line collection) in a panel."""
    return [y for c in ax.collections if c.get_array() is None and hasattr(c, "get_segments")
            for segment in c.get_segments() for y in np.asarray(segment)[:, 1]]


def test_rates_sit_on_0_to_100_axes_with_their_intervals_clipped(tmp_path, drawn):
    """Key-to-Door's axis holds 0-100, DT's 96.8 and the paper's 94.6 and 95.1; the t
    interval of seeds at 100, 100, 90, 100, 100 (which reaches past 100) stops at 100."""
    figures.score_bars(keydoor_runs(), "keydoor", tmp_path)
    fig = drawn["scores-keydoor"]
    low, high = fig.axes[0].get_ylim()
    assert low <= 0 and high >= 100
    ends = [y for ax in fig.axes for y in whisker_ends(ax)]
    assert max(ends) == 100.0 and min(ends) >= 0.0
    assert t_interval([100.0, 100.0, 90.0, 100.0, 100.0])[1] > 100  # unclipped
    marks = [y for ax in fig.axes for c in ax.collections
             if hasattr(c, "get_sizes") and len(c.get_sizes()) and c.get_sizes()[0] == 90
             for y in c.get_offsets()[:, 1]]
    assert {94.6, 95.1} <= set(np.round(marks, 1))  # the paper's marks are drawn
    assert all(low <= y <= high for y in marks)


def test_a_score_of_zero_shows_as_its_methods_marker(tmp_path, drawn):
    figures.score_bars(atari_runs(), "atari", tmp_path)
    ax = drawn["scores-atari"].axes[0]
    cql = to_rgb(style.COLOURS["cql"])
    at_zero = [c for c in ax.collections if len(c.get_facecolors())
               and np.allclose(c.get_facecolors()[0][:3], cql)
               and np.allclose(c.get_offsets()[:, 1], 0.0)]
    assert len(at_zero) == 2  # CQL's 0 on breakout and on pong
    assert "PIPELINE CHECK" in " ".join(t.get_text() for t in ax.texts)


def test_headline_figures_leave_the_pipeline_checks_out(tmp_path, drawn):
    """At quick, Atari is a pipeline check: its P(DT > CQL) = 1 from methods that learn
    nothing stays out of the aggregates and the probability of improvement; at smoke every
    domain is one, and they are drawn, each panel marked."""
    runs = pd.concat([keydoor_runs(), atari_runs()])
    aggregates.improvement_figure(runs, ["keydoor", "atari"], tmp_path)
    aggregates.aggregate_figure(runs, ["keydoor", "atari"], tmp_path)
    for name in ("probability-of-improvement", "aggregates"):
        fig = drawn.pop(name)
        titles = [ax.get_title() for ax in fig.axes]
        assert any(t.startswith("keydoor") for t in titles)
        assert not any("atari" in t for t in titles), titles
        assert "left out: atari" in fig._suptitle.get_text().replace("\n", " ")
    smoke = pd.concat([keydoor_runs("smoke"), atari_runs("smoke")])
    aggregates.improvement_figure(smoke, ["keydoor", "atari"], tmp_path)
    fig = drawn["probability-of-improvement"]
    assert [ax.get_title().split(" ")[0] for ax in fig.axes] == ["keydoor", "atari"]
    assert all("PIPELINE CHECK" in " ".join(t.get_text() for t in ax.texts) for ax in fig.axes)


def test_context_length_shows_seeds_and_the_tables_interval(tmp_path, drawn):
    """A bimodal K=10 (one seed at 96.8, four near 1): its five seeds as dots and the t
    interval of their mean, clipped to 0-100, named in the title."""
    k10 = [96.8, 1.0, 1.2, 0.8, 1.0]
    rows = [run("keydoor", "keydoor", "random-10k", "dt", seed, score,
                overrides="model.context_len=10" if k == 10 else "", context_len=k)
            for k, scores in ((10, k10), (30, [96.8] * 5)) for seed, score in enumerate(scores)]
    figures.context_length(pd.DataFrame(rows), tmp_path)
    fig = drawn["context-length"]
    ax = fig.axes[0]
    whisker = ax.containers[0].lines[2][0].get_segments()
    at_10 = next(s for s in whisker if np.isclose(s[0][0], 10))
    expected = t_interval(k10, bounds=(0.0, 100.0))
    assert np.allclose([at_10[0][1], at_10[1][1]], expected) and expected[0] == 0.0
    dots = [o for c in ax.collections for o in c.get_offsets() if np.isclose(o[0], 10)]
    assert sorted(np.round([y for _, y in dots], 1)) == sorted(k10)
    assert "95% t interval of the mean over seeds" in fig._suptitle.get_text().replace("\n", " ")
    low, high = ax.get_ylim()
    assert low <= 0 and high >= 100


def graph_lengths() -> dict[str, pd.DataFrame]:
    """Episodes of the two graph tasks as `graph.path_lengths` gives them: on stitch, DT
    arrives but never on a shortest path, CQL always on one."""
    def episodes(method: str, seed: int, steps: int, shortest: int = 2,
                 arrived: int = 5) -> pd.DataFrame:
        """Ten episodes, the first `arrived` of them in `steps` steps, the rest never."""
        return pd.DataFrame({"method": method, "seed": seed, "episode_seed": range(10),
                             "steps": [steps] * arrived + [-1] * (10 - arrived),
                             "shortest": shortest, "code_current": True})

    graph = [episodes(m, s, 2) for m in ("DT", "CQL") for s in range(3)]
    stitch = [episodes("DT", s, 6, 4) for s in range(3)]
    stitch += [episodes("CQL", s, 4, 4, arrived=10) for s in range(3)]
    stitch += [episodes(NO_CAP, s, 4 if s == 0 else 7, 4) for s in range(3)]
    stitch += [episodes("Uniform random actions", s, -1, 4) for s in range(3)]
    computed = [episodes(WALK, 0, 5), episodes(SHORTEST, 0, 2)]
    return {"graph": pd.concat(graph + computed, ignore_index=True),
            "stitch": pd.concat(stitch + [episodes(WALK, 0, 7, 4), episodes(SHORTEST, 0, 4, 4)],
                                ignore_index=True)}


def test_the_graph_scores_carry_the_stitching_rate_and_the_random_walk(tmp_path, drawn):
    figures.graph_scores(graph_lengths(), tmp_path)
    fig = drawn["scores-graph"]
    titles = [ax.get_title() for ax in fig.axes]
    stitch_optimal = fig.axes[titles.index(next(t for t in titles if t.startswith("stitching")
                                                 and "shortest path" in t))]
    heights = {label.get_text(): patch.get_height() for label, patch in
               zip(stitch_optimal.get_xticklabels(), stitch_optimal.patches, strict=True)}
    assert heights["DT"] == 0.0 and heights["CQL"] == 100.0
    assert heights["Uniform random actions"] == 0.0
    walk = [line for line in stitch_optimal.lines
            if to_hex(line.get_color()) == style.WALK]
    assert walk and walk[0].get_ydata()[0] == 0.0  # the walk arrives in 7 > 4 steps
    reached = fig.axes[titles.index(next(t for t in titles if t.startswith("stitching")
                                         and "goal reached" in t))]
    assert [to_hex(line.get_color()) for line in reached.lines] == [style.WALK, style.SHORTEST]
    assert [line.get_ydata()[0] for line in reached.lines] == [50.0, 50.0]


def test_sweeps_and_curves_keep_their_intervals_inside_0_to_100(tmp_path, drawn):
    """Seeds at 100, 100, 90, 100, 100 in a target sweep and in a curve: the whisker and the
    band stop at 100, and both rate axes hold 0-100."""
    top = [100.0, 100.0, 90.0, 100.0, 100.0]
    rows = []
    for seed, score in enumerate(top):
        for target in (0.0, 0.75, 1.0):
            rows.append(run("keydoor", "keydoor", "random-10k", "dt", seed,
                            score * target, target_return=target,
                            overrides="eval.target_sweep=3", **{"eval.target_sweep": 3}))
        folder = tmp_path / rows[-1]["folder"]
        folder.mkdir(parents=True)
        pd.DataFrame({"step": [100, 200], "target_return": [1.0, 1.0],
                      "score_mean": [score, score]}).to_csv(folder / "curve.csv", index=False)
    runs = pd.DataFrame(rows)
    figures.target_vs_achieved(runs, tmp_path)
    figures.eval_curves(runs, tmp_path, tmp_path)
    sweep = drawn["target-vs-achieved"].axes[0]
    ends = whisker_ends(sweep)
    assert max(ends) == 100.0 and min(ends) >= 0.0
    for low, high in (sweep.get_xlim(), sweep.get_ylim()):
        assert low <= 0 and high >= 100
    curves = drawn["eval-curves"].axes[0]
    band = [y for c in curves.collections if isinstance(c, PolyCollection)
            for path in c.get_paths() for y in path.vertices[:, 1]]
    assert band and max(band) == 100.0 and min(band) > 80
    low, high = curves.get_ylim()
    assert low <= 0 and high >= 100


def test_titles_count_seeds_in_words_that_agree():
    """A title says '1 seed' and '2 seeds', '2-3 seeds' where cells differ; never 'seed(s)'."""
    one = pd.DataFrame([run("keydoor", "keydoor", "random-1k", "dt", 0, 90.0)])
    two = pd.DataFrame([run("keydoor", "keydoor", "random-1k", "dt", s, 90.0) for s in (0, 1)])
    mixed = pd.concat([two, pd.DataFrame([run("keydoor", "keydoor", "random-10k", "dt", s, 9.0)
                                          for s in (0, 1, 2)])])
    assert figures.runs_note(one).endswith("n = 1 seed per cell")
    assert figures.runs_note(two).endswith("n = 2 seeds per cell")
    assert figures.runs_note(mixed).endswith("n = 2-3 seeds per cell")
