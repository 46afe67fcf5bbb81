"""Shortest-path graph domain (paper Figure 6): DT on random walks, and a stitching test.

`graph`: the data is 1,000 random walks of at most 10 steps on a fixed 20-node graph; DT sees
a whole episode as context and starts each episode at the highest return possible (0), capped
at the best return-to-go the data shows from the start node (`eval.cap_at_data_best`,
dtbench's reading of the paper's "prior" that picks the highest return). Every start node that
can reach the goal has an optimal walk somewhere in this data, and the cap holds DT to the best
return the data shows from its start: on this task DT retrieves the best walk it has seen, it
does not have to stitch.

`stitch`: the data holds no optimal walk from two held-out start nodes (`STITCH_STARTS`, the
farthest from the goal): walks that pass one of them and then go to the goal in its shortest
distance are left out, so only walks from them that wander and sub-paths of their optimal
paths reached from other starts remain. Evaluated from those two nodes only, with the cap
(which holds DT below the optimal return: the data's best from them is worse) and without it;
an episode that reaches the goal in the shortest distance composed a path DT never saw.

The score is the share of episodes that reach the goal; the tables add steps against the true
shortest paths.
"""

from __future__ import annotations

import numpy as np

from dtbench.data import minari_io
from dtbench.domains.graph.env import (
    ENV_ID,
    ShortestPathEnv,
    random_walk_episodes,
    stitching_episodes,
)
from dtbench.domains.graph.profiles import PAPER, QUICK, SMOKE
from dtbench.domains.tuning import DISCRETE
from dtbench.registry import DatasetSpec, Domain, Grid, Task, Tuning, register_domain

ENV = ShortestPathEnv()
DATASET_SEEDS = {"random-walk-1k": (1_000, 3_000_000)}
STITCH_STARTS = (9, 13)  # the two nodes farthest from the goal (4 and 5 steps)
STITCH_SEED = 4_000_000


def make_stitch_dataset() -> None:
    """Write `stitch-1k`: random walks without an optimal walk from a held-out start."""
    episodes = stitching_episodes(1_000, STITCH_SEED, STITCH_STARTS)
    minari_io.write_dataset(
        "dtbench/graph/stitch-1k-v1", episodes, ENV_ID,
        algorithm_name="random walk along out-edges, optimal walks from held-out nodes removed",
        description="Shortest path: 1,000 random walks on a 20-node graph holding no optimal "
                    f"walk from nodes {list(STITCH_STARTS)} (dtbench).",
        provenance={"generator": "dtbench.domains.graph.env.stitching_episodes",
                    "policy": "uniform over out-edges", "episodes": 1_000, "seed": STITCH_SEED,
                    "held_out_starts": list(STITCH_STARTS), "env_kwargs": {},
                    "steps": int(sum(len(ep["rewards"]) for ep in episodes))},
    )


def make_dataset(name: str) -> None:
    """Write the random-walk dataset `name` into the Minari store."""
    n_episodes, seed = DATASET_SEEDS[name]
    episodes = random_walk_episodes(n_episodes, seed)
    reached = int(sum(ep["terminations"][-1] for ep in episodes))
    minari_io.write_dataset(
        f"dtbench/graph/{name}-v1", episodes, ENV_ID,
        algorithm_name="random walk along out-edges",
        description=f"Shortest path: {n_episodes} random walks on a 20-node graph (dtbench).",
        provenance={"generator": "dtbench.domains.graph.env.random_walk_episodes",
                    "policy": "uniform over out-edges", "episodes": n_episodes, "seed": seed,
                    "env_kwargs": {}, "reached_goal": reached,
                    "steps": int(sum(len(ep["rewards"]) for ep in episodes))},
    )


def reached_rate(task: str, returns: np.ndarray) -> np.ndarray:
    """Per-episode arrival at the goal in percent (a miss returns -max_steps)."""
    return 100.0 * (np.asarray(returns) > -ENV.max_steps)



FIVE = (0, 1, 2, 3, 4)
# the stitching test: every method from the held-out nodes, and DT again without the cap
STITCH_PARTS = (
    Grid(("stitch",), ("stitch-1k",), ("dt", "cql", "bc", "bc10", "random"), seeds=FIVE),
    Grid(("stitch",), ("stitch-1k",), ("dt",), seeds=FIVE,
         overrides=(("eval.cap_at_data_best", False),)),
)

DOMAIN = Domain(
    name="graph",
    tasks={"graph": Task(
        name="graph",
        env_id=ENV_ID,
        datasets={name: DatasetSpec(name, f"dtbench/graph/{name}-v1",
                                    make=lambda budget, name=name: make_dataset(name))
                  for name in DATASET_SEEDS},
    ), "stitch": Task(
        name="stitch",
        env_id=ENV_ID,
        env_kwargs={"start_nodes": STITCH_STARTS},  # evaluated from the held-out nodes only
        datasets={"stitch-1k": DatasetSpec("stitch-1k", "dtbench/graph/stitch-1k-v1",
                                           make=lambda budget: make_stitch_dataset())},
    )},
    encoder="linear",
    action_kind="discrete",
    settings={"smoke": SMOKE, "quick": QUICK, "paper": PAPER},
    paper_gave_settings=False,
    normalize=reached_rate,
    score_label="goal reached (%)",
    score_range=(0.0, 100.0),
    tuning={"quick": Tuning("graph", ("random-walk-1k",), DISCRETE)},
    grids={
        "smoke": Grid(("graph",), tuple(DATASET_SEEDS), ("dt", "bc"), seeds=(0,)),
        "quick": Grid(("graph",), tuple(DATASET_SEEDS), ("dt", "cql", "bc", "bc10", "random"),
                      seeds=FIVE, parts=STITCH_PARTS),
        "paper": Grid(("graph",), tuple(DATASET_SEEDS), ("dt", "cql", "bc", "bc10", "random"),
                      seeds=FIVE, parts=STITCH_PARTS),
    },
    description="shortest path on a random 20-node directed graph (Figures 2 and 6)",
)


def register() -> None:
    """Register the domain (called by `dtbench.plugins.load`)."""
    register_domain(DOMAIN)
