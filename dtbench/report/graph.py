"""Shortest-path graph: steps to the goal per method against the true shortest paths (paper
Figure 6), as a table and a histogram.

The random walk and shortest-path rows are computed here, not trained: from the same start
nodes as the runs' evaluation episodes (the shared reset seeds), a random walk along out-edges
(the data's behaviour) and the BFS distance. Learned methods come from their eval.csv files.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from dtbench import registry
from dtbench.domains.graph.env import ShortestPathEnv, random_walk_step, steps_to_goal
from dtbench.report.cells import (
    INTERVAL_NOTE,
    cells_phrase,
    code_mark,
    mean_std_cell,
    score_range,
    settings_note,
)
from dtbench.report.collected import Collected
from dtbench.report.table import Table
from dtbench.runs.table import Unreadable, read_run_csv

ALGOS = (("dt", "DT"), ("cql", "CQL"), ("bc", "BC"), ("bc10", "%BC (10%)"),
         ("random", "Uniform random actions"))
WALK, SHORTEST = "Random walk (the data's policy)", "Shortest path (BFS)"


def path_lengths(collected: Collected, task: str = "graph") -> pd.DataFrame:
    """One row per evaluation episode of the task: method, seed, start node, its BFS distance
    to the goal and the steps taken (-1: never arrived). On `stitch`, DT run without the cap
    is a method of its own."""
    results_root, profile = collected.root, collected.profile
    runs = collected.of("graph", ablations=True)
    runs = runs[runs["task"] == task] if not runs.empty else runs
    env = _env(task)
    frames = []
    for run in runs.drop_duplicates(["dataset", "algo", "seed", "overrides"]).itertuples() \
            if not runs.empty else ():
        method = _method(run.algo, run.overrides)
        if method is None:
            continue  # another ablation
        try:
            episodes = read_run_csv(results_root / run.folder / "eval.csv")
        except Unreadable:
            continue  # listed by `dtbench report` as unreadable
        frames.append(pd.DataFrame({
            "method": method, "seed": run.seed, "episode_seed": episodes["seed"],
            "steps": steps_to_goal(episodes["return"], episodes["length"], env.max_steps),
            "code_current": run.code_current}))
    e = registry.get_domain("graph").settings[profile].eval
    seeds = e.seed + np.arange(e.episodes)
    frames.append(pd.DataFrame({"method": SHORTEST, "seed": 0, "episode_seed": seeds,
                                "steps": [_shortest(task, s) for s in seeds]}))
    frames.append(pd.DataFrame({"method": WALK, "seed": 0, "episode_seed": seeds,
                                "steps": [_walk(task, s) for s in seeds]}))
    table = pd.concat(frames, ignore_index=True)
    table["shortest"] = [_shortest(task, s) for s in table["episode_seed"]]
    return table


NO_CAP = "DT without the cap"
NO_CAP_OVERRIDES = "eval.cap_at_data_best=false"  # its overrides label in runs.csv


def _method(algo: str, overrides: str) -> str | None:
    """A run's row label; None for ablations the table does not show."""
    if not overrides:
        return dict(ALGOS)[algo]
    return NO_CAP if algo == "dt" and overrides == NO_CAP_OVERRIDES else None


def _env(task: str) -> ShortestPathEnv:
    _, t = registry.get_task("graph", task)
    return ShortestPathEnv(**t.env_kwargs)


def _start_distance(env: ShortestPathEnv, seed: int) -> int:
    env.reset(seed=int(seed))
    return int(env.distances[env.node])


def _shortest(task: str, seed: int) -> int:
    """BFS distance to the goal from the start node of the episode with this reset seed."""
    return _computed(task, _env_key(task), int(seed))[0]


def _walk(task: str, seed: int) -> int:
    return _computed(task, _env_key(task), int(seed))[1]


def _env_key(task: str) -> str:
    _, t = registry.get_task("graph", task)
    return repr(sorted(t.env_kwargs.items()))


# Depends only on the registered graph (its kwargs are part of the key) and the reset seed:
# computed once per process, not again for each table and figure that reads path_lengths
@functools.cache
def _computed(task: str, env_key: str, seed: int) -> tuple[int, int]:
    env = _env(task)
    return _start_distance(env, seed), _random_walk(env, seed)


def _random_walk(env: ShortestPathEnv, seed: int) -> int:
    """Steps a random walk from the episode's start takes to the goal (-1: not within the
    episode's steps); moves seeded by the episode's reset seed."""
    env.reset(seed=int(seed))
    rng = np.random.default_rng(int(seed))
    for step in range(1, env.max_steps + 1):
        _, _, arrived, _, _ = env.step(random_walk_step(env, rng))
        if arrived:
            return step
    return -1


def per_seed_rates(lengths: pd.DataFrame) -> pd.DataFrame:
    """Reached and optimal (%) and steps when reached, per (method, seed)."""
    return lengths.groupby(["method", "seed"]).apply(_rates, include_groups=False)


def _rows(lengths: pd.DataFrame, methods: list[str]) -> list[list[str]]:
    """One table row per method present: reached, optimal and steps over seeds."""
    per_seed = per_seed_rates(lengths)
    rate = score_range("graph")  # reached and optimal are both shares of episodes
    rows = []
    for method in methods:
        if method not in per_seed.index.get_level_values("method"):
            continue
        part = per_seed.loc[method]
        episodes = lengths[lengths["method"] == method]
        if method in (WALK, SHORTEST):
            cells = [_computed_cell(part[c]) for c in ("reached", "optimal", "steps")]
        else:  # the two rates' intervals clipped to 0-100, as the footnote says
            mark = code_mark(episodes)
            cells = [mean_std_cell(part["reached"], rate) + mark,
                     mean_std_cell(part["optimal"], rate) + mark,
                     mean_std_cell(part["steps"]) + mark]
        rows.append([method, *cells, str(int(episodes.groupby("seed").size().iloc[0]))])
    return rows


HEADER = ["Method", "Goal reached (%)", "On a shortest path (%)", "Steps when reached",
          "Episodes per seed"]


def graph_table(collected: Collected) -> Table:
    profile = collected.profile
    lengths = path_lengths(collected)
    rows = _rows(lengths, [WALK, SHORTEST, *(label for _, label in ALGOS)])
    domain, task = registry.get_task("graph", "graph")
    s = domain.settings_for(task, profile)
    env = ShortestPathEnv()
    unreachable = int((env.distances < 0).sum())
    runs = _learned(collected, "graph")
    caption = (
        "How often each method reaches the goal of dtbench's random directed graph, how often "
        "on a shortest path, and in how many steps, trained on "
        f"`{task.datasets['random-walk-1k'].minari_id}` (1,000 random walks made here), "
        f"profile `{profile}`: {cells_phrase(runs)}. "
        "The random walk and shortest-path rows are computed from the same start nodes, not "
        "trained; the paper (Figure 6) shows this histogram qualitatively, with no numbers to "
        "compare.")
    notes = [
        f"The graph: {env.n_nodes} nodes, {int(env.adjacency.sum())} edges, goal node "
        f"{env.goal} ({unreachable} node(s) cannot reach it); episodes of at most "
        f"{env.max_steps} steps from the evaluation reset seeds' start nodes, the same for "
        "every row.",
        "'On a shortest path': the episode arrived in exactly the BFS distance; 'steps when "
        "reached' averages the episodes that arrived.",
        f"DT: the whole episode as context, target return {s.eval.target_returns[0]:g} capped "
        "per episode at the best return of the data's episodes from the same start node "
        "(`eval.cap_at_data_best`). CQL, BC and %BC: d3rlpy.",
        "Every start node that can reach the goal has an optimal walk in this data, and the "
        "cap holds DT to the best return the data shows from its start: this table tests "
        "retrieving the best walk seen, not stitching (the stitching table does).",
        INTERVAL_NOTE, "Regenerate with `make graph`."]
    has_runs = any(m in set(lengths["method"]) for _, m in ALGOS)
    return Table("graph", "Shortest path on a graph (paper Figures 2 and 6)", caption, HEADER,
                 rows, "make graph", has_runs, settings_note("graph", profile), notes)


def stitch_table(collected: Collected) -> Table:
    profile = collected.profile
    lengths = path_lengths(collected, "stitch")
    labels = [label for _, label in ALGOS]
    rows = _rows(lengths, [WALK, SHORTEST, labels[0], NO_CAP, *labels[1:]])
    _, task = registry.get_task("graph", "stitch")
    env = _env("stitch")
    starts = ", ".join(f"{n} ({int(env.distances[n])} steps)" for n in env.start_nodes)
    runs = _learned(collected, "stitch")
    caption = (
        "Stitching on the graph: how often each method reaches the goal, and on a shortest "
        "path, from held-out start nodes whose optimal paths the training data "
        f"`{task.datasets['stitch-1k'].minari_id}` (1,000 random walks made here) shows only "
        f"in pieces, profile `{profile}`: {cells_phrase(runs)}. "
        "'On a shortest path' for a learned row is the share of episodes in which it composed a "
        "shortest path it never saw.")
    notes = [
        f"Start nodes: {starts} from the goal {env.goal}. The data holds walks from these "
        "nodes but no optimal one: a walk that passes one of them and then reaches the goal in "
        "its shortest distance was left out, so the optimal paths appear only as sub-paths "
        "reached from other starts.",
        "'DT' is capped per episode at the best return the data shows from the start node "
        "(below the optimal return here); 'DT without the cap' is the same trained runs "
        "conditioned on the highest return (0).",
        INTERVAL_NOTE, "Regenerate with `make graph`."]
    has_runs = any(m in set(lengths["method"]) for m in (*labels, NO_CAP))
    return Table("graph-stitch", "Stitching on the graph (held-out start nodes)", caption,
                 HEADER, rows, "make graph", has_runs, settings_note("graph", profile), notes)


def _learned(collected: Collected, task: str) -> pd.DataFrame:
    """The task's runs that a table's learned rows show (plain runs and DT without the cap),
    for the opening's seed count."""
    runs = collected.of("graph", ablations=True)
    if runs.empty:
        return runs
    runs = runs[runs["task"] == task]
    shown = [(_method(a, o) is not None) for a, o in zip(runs["algo"], runs["overrides"],
                                                         strict=True)]
    return runs[shown]


def _computed_cell(values: pd.Series) -> str:
    """A computed row has one value and no training seeds to spread over."""
    return f"{values.iloc[0]:.1f}"


def _rates(episodes: pd.DataFrame) -> pd.Series:
    reached = episodes["steps"] > 0
    return pd.Series({
        "reached": 100.0 * reached.mean(),
        "optimal": 100.0 * (reached & (episodes["steps"] == episodes["shortest"])).mean(),
        "steps": episodes.loc[reached, "steps"].mean() if reached.any() else np.nan})
