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
from dtbench.report.cells import SPREAD, code_mark, deviations, mean_std_cell
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
    rows = []
    for method in methods:
        if method not in per_seed.index.get_level_values("method"):
            continue
        part = per_seed.loc[method]
        cell = _computed_cell if method in (WALK, SHORTEST) else mean_std_cell
        episodes = lengths[lengths["method"] == method]
        mark = code_mark(episodes) if method not in (WALK, SHORTEST) else ""
        rates = [cell(part[c], RATE) if cell is mean_std_cell else cell(part[c])
                 for c in ("reached", "optimal")]
        rows.append([method, *(text + mark for text in (*rates, cell(part["steps"]))),
                     str(int(episodes.groupby("seed").size().iloc[0]))])
    return rows


RATE = (0.0, 100.0)  # the two rates' bounds, to which their intervals are clipped
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
    caption = (
        f"Shortest path on dtbench's random directed graph ({env.n_nodes} nodes, "
        f"{int(env.adjacency.sum())} edges, goal node {env.goal}; {unreachable} node(s) cannot "
        f"reach it), episodes of at most {env.max_steps} steps from the same start nodes for "
        "every row (the evaluation reset seeds). 'On a shortest path': the episode arrived in "
        "exactly the BFS distance; 'steps when reached' averages the episodes that arrived. "
        "Random walk and shortest path are computed, not trained. Learned rows: profile "
        f"`{profile}`, {SPREAD}, trained on "
        f"`{task.datasets['random-walk-1k'].minari_id}` (1,000 random walks, `make graph`). "
        f"DT: the whole episode as context, target return {s.eval.target_returns[0]:g} capped "
        "per episode at the best return of the data's episodes from the same start node "
        "(`eval.cap_at_data_best`). CQL, BC, %BC: d3rlpy. "
        "Every start node that can reach the goal has an optimal walk in this data, and the "
        "cap holds DT to the best return the data shows from its start: this table tests "
        "retrieving the best walk seen, not stitching (the stitching table does). The paper "
        "(Figure 6) shows this histogram qualitatively, with no numbers to compare. "
        + deviations("graph", profile))
    has_runs = any(m in set(lengths["method"]) for _, m in ALGOS)
    return Table("graph", "Shortest path on a graph (paper Figures 2 and 6)", caption, HEADER,
                 rows, "make graph", has_runs)


def stitch_table(collected: Collected) -> Table:
    profile = collected.profile
    lengths = path_lengths(collected, "stitch")
    labels = [label for _, label in ALGOS]
    rows = _rows(lengths, [WALK, SHORTEST, labels[0], NO_CAP, *labels[1:]])
    _, task = registry.get_task("graph", "stitch")
    env = _env("stitch")
    starts = ", ".join(f"{n} ({int(env.distances[n])} steps)" for n in env.start_nodes)
    caption = (
        f"Stitching on the graph: every episode starts at a held-out node ({starts} from the "
        f"goal {env.goal}); the training data `{task.datasets['stitch-1k'].minari_id}` (1,000 "
        "random walks, `make graph`) holds walks from these nodes but no optimal one: a walk "
        "that passes one of them and then reaches the goal in its shortest distance was left "
        "out, so the data shows only sub-paths of the optimal paths, reached from other starts. "
        "'On a shortest path' for a learned row is the share of episodes in which it composed "
        "a shortest path it never saw. 'DT' is capped per episode at the best return the data "
        "shows from the start node (below the optimal return here); 'DT without the cap' is "
        "the same trained runs conditioned on the highest return (0). Profile "
        f"`{profile}`, {SPREAD}. "
        + deviations("graph", profile))
    has_runs = any(m in set(lengths["method"]) for m in (*labels, NO_CAP))
    return Table("graph-stitch", "Stitching on the graph (held-out start nodes)", caption,
                 HEADER, rows, "make graph", has_runs)


def _computed_cell(values: pd.Series) -> str:
    """A computed row has one value and no training seeds to spread over."""
    return f"{values.iloc[0]:.1f}"


def _rates(episodes: pd.DataFrame) -> pd.Series:
    reached = episodes["steps"] > 0
    return pd.Series({
        "reached": 100.0 * reached.mean(),
        "optimal": 100.0 * (reached & (episodes["steps"] == episodes["shortest"])).mean(),
        "steps": episodes.loc[reached, "steps"].mean() if reached.any() else np.nan})
