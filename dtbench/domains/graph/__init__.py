"""Shortest-path graph domain: DT stitches random walks into shortest paths (paper Figure 6).

The data is 1,000 random walks of at most 10 steps on a fixed 20-node graph; DT sees a whole
episode as context and starts each episode at the highest return possible (0), capped at the
best return-to-go the data shows from the start node (`eval.cap_at_data_best`, dtbench's
reading of the paper's "prior" that picks the highest return). The score is the share of
episodes that reach the goal; `results/graph.md` adds steps against the true shortest paths.
"""

from __future__ import annotations

import numpy as np

from dtbench.config import BaselineConfig, EvalConfig, ModelConfig, Settings, TrainConfig
from dtbench.data import minari_io
from dtbench.domains.graph.env import ENV_ID, ShortestPathEnv, random_walk_episodes
from dtbench.registry import DatasetSpec, Domain, Grid, Task, register_domain

ENV = ShortestPathEnv()
DATASET_SEEDS = {"random-walk-1k": (1_000, 3_000_000)}


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


# The paper gives no settings for this toy; `paper` uses its Gym DT settings with the whole
# episode as context. Returns lie in [-10, 0], so the return scale is 1.
PAPER = Settings(
    model=ModelConfig(context_len=ENV.max_steps, embed_dim=128, n_layer=3, n_head=1,
                      dropout=0.1, activation="relu", max_ep_len=ENV.max_steps),
    train=TrainConfig(steps=10_000, batch_size=64, lr=1e-4, weight_decay=1e-4,
                      warmup_steps=1_000, grad_clip=0.25, checkpoint_every=1_000),
    eval=EvalConfig(episodes=200, target_returns=(0.0,), return_scale=1.0, greedy=True,
                    cap_at_data_best=True, during_training=9),
    baseline=BaselineConfig(steps=10_000, batch_size=256, log_every=1_000),
)
# quick: seconds on a CPU; a 1-layer, 32-wide DT is enough for a 20-node graph.
QUICK = PAPER.override({
    "train.windows": "end-anchored",
    "model.embed_dim": 32, "model.n_layer": 1, "model.dropout": 0.0,
    "train.steps": 1_500, "train.lr": 1e-3, "train.warmup_steps": 100,
    "train.checkpoint_every": 500, "train.log_every": 100,
    "eval.during_training": 0,
    "baseline.steps": 1_500, "baseline.log_every": 500,
})
SMOKE = PAPER.override({
    "train.windows": "end-anchored",
    "model.embed_dim": 16, "model.n_layer": 1, "model.dropout": 0.0,
    "train.steps": 4, "train.batch_size": 4, "train.lr": 1e-3, "train.warmup_steps": 1,
    "train.checkpoint_every": 2, "train.log_every": 1,
    "eval.during_training": 0, "eval.episodes": 8,
    "baseline.steps": 4, "baseline.batch_size": 8, "baseline.hidden_units": (16,),
    "baseline.log_every": 2,
})

DOMAIN = Domain(
    name="graph",
    tasks={"graph": Task(
        name="graph",
        env_id=ENV_ID,
        datasets={name: DatasetSpec(name, f"dtbench/graph/{name}-v1",
                                    make=lambda budget, name=name: make_dataset(name))
                  for name in DATASET_SEEDS},
    )},
    encoder="linear",
    action_kind="discrete",
    settings={"smoke": SMOKE, "quick": QUICK, "paper": PAPER},
    paper_gave_settings=False,
    normalize=reached_rate,
    score_label="goal reached (%)",
    grids={
        "smoke": Grid(("graph",), tuple(DATASET_SEEDS), ("dt", "bc"), seeds=(0,)),
        "quick": Grid(("graph",), tuple(DATASET_SEEDS), ("dt", "cql", "bc", "bc10", "random"),
                      seeds=(0, 1, 2)),
        "paper": Grid(("graph",), tuple(DATASET_SEEDS), ("dt", "cql", "bc", "bc10", "random"),
                      seeds=(0, 1, 2)),
    },
    description="shortest path on a random 20-node directed graph (Figures 2 and 6)",
)


def register() -> None:
    """Register the domain (called by `dtbench.plugins.load`)."""
    register_domain(DOMAIN)
