"""The graph domain's settings per profile (smoke, quick, paper): values only.

A run records its resolved settings; a finished run is stale when the sections of them its
algorithm reads (`Algo.reads`) differ from what this module resolves to now, so this module is
compared by value, not by its text (`runs/code.py`): adopting a tuned value here leaves the
probes that chose it current, and marks the runs it changes stale.
"""

from __future__ import annotations

from dtbench.config import BaselineConfig, EvalConfig, ModelConfig, Settings, TrainConfig
from dtbench.domains.graph.env import ShortestPathEnv

ENV = ShortestPathEnv()

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
# quick: seconds on a CPU; a 1-layer, 32-wide DT is enough for a 20-node graph. Every method
# gets the same 3,000 gradient steps, evaluated 5 times during training and at the end. Each
# method's key settings are the tuning rule's pick (`make probes`, results/probes.md): every
# candidate of DT, CQL and %BC but one reaches all reachable starts, so the ties go to the
# authors' defaults listed first (DT 1e-4 with dropout 0.1, DiscreteCQL d3rlpy's 6.25e-5 and
# alpha 1, BC and %BC d3rlpy's 1e-3).
QUICK = PAPER.override({
    "train.windows": "end-anchored",
    "model.embed_dim": 32, "model.n_layer": 1, "model.dropout": 0.1,
    "train.steps": 3_000, "train.lr": 1e-4, "train.warmup_steps": 100,
    "train.checkpoint_every": 500, "train.log_every": 100,
    "eval.during_training": 5,
    "baseline.steps": 3_000, "baseline.log_every": 500, "baseline.bc_lr": 1e-3,
    "baseline.pbc_lr": 1e-3, "baseline.discrete_cql_lr": 6.25e-5,
    "baseline.discrete_cql_alpha": 1.0,
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
