"""The Atari domain's settings per profile (smoke, quick, paper): values only.

A run records its resolved settings; a finished run is stale when the settings its algorithm
reads (`Algo.reads`) differ from what this module resolves to now, so this module is compared
by value, not by its text (`runs/code.py`).
"""

from __future__ import annotations

from dtbench.config import BaselineConfig, EvalConfig, ModelConfig, Settings, TrainConfig

DQN_REPLAY_STEPS = 500_000  # the paper's 1%


# Paper settings: Table 8 and the official Atari code (kzl/decision-transformer,
# atari/run_dt_atari.py). Steps are the official 5 epochs over 500k transitions: 5 * 500_000 //
# batch. The schedule counts action tokens as the official trainer does: warm-up over 512 * 20
# tokens (3 steps at 128 x 30 per step), cosine to 10% at 2 x 500k x K x 3 tokens, which it
# reaches at about 95% of training. Positions: the official model's one timestep per window
# plus per-token positions (`model.positions = atari-global`); quick keeps per-step timesteps.
PAPER = Settings(
    model=ModelConfig(context_len=30, embed_dim=128, n_layer=6, n_head=8, dropout=0.1,
                      activation="gelu_new", max_ep_len=27_000, positions="atari-global"),
    train=TrainConfig(steps=5 * DQN_REPLAY_STEPS // 128, batch_size=128, lr=6e-4,
                      betas=(0.9, 0.95), weight_decay=0.1, decay_all_params=False,
                      warmup_steps=3, schedule="cosine-tokens", min_lr_ratio=0.1,
                      warmup_tokens=512 * 20, final_tokens=2 * DQN_REPLAY_STEPS * 30 * 3,
                      grad_clip=1.0, log_every=100, checkpoint_every=1_000,
                      windows="official-atari"),
    eval=EvalConfig(episodes=10, target_returns=(90.0,), return_scale=1.0, greedy=False,
                    during_training=4,
                    rtg_rewards="raw", sticky_actions=0.0),
    # as many gradient steps as DT's 5 epochs (every method on a cell gets the same steps),
    # at DQN's batch of 32 transitions
    baseline=BaselineConfig(steps=5 * DQN_REPLAY_STEPS // 128, batch_size=32, bc_lr=6.25e-5,
                            pbc_lr=6.25e-5, discrete_cql_lr=6.25e-5, log_every=1_000),
)
# Pong: K=50 and batch 512 (paper Table 8 and run.sh), so fewer steps for 5 epochs, and the
# baselines' steps with them
PONG = {"model.context_len": 50, "train.batch_size": 512,
        "train.steps": 5 * DQN_REPLAY_STEPS // 512,
        "baseline.steps": 5 * DQN_REPLAY_STEPS // 512,
        "train.final_tokens": 2 * DQN_REPLAY_STEPS * 50 * 3}
# quick: sized for a 2-core CPU on ~50k locally generated transitions per game (provisional).
QUICK = PAPER.override({
    "model.positions": "per-step", "train.schedule": "cosine", "train.windows": "end-anchored",
    "model.context_len": 10, "model.n_layer": 2, "model.n_head": 2, "model.embed_dim": 64,
    "model.dropout": 0.0, "model.max_ep_len": 5_000,
    "train.steps": 2_000, "train.batch_size": 16, "train.warmup_steps": 20,
    "train.checkpoint_every": 500,
    "eval.during_training": 0, "eval.episodes": 10, "eval.max_episode_steps": 5_000,
    "baseline.steps": 2_000, "baseline.log_every": 500,
})
SMOKE = PAPER.override({
    "model.positions": "per-step", "train.schedule": "cosine", "train.windows": "end-anchored",
    "model.context_len": 4, "model.n_layer": 1, "model.n_head": 1, "model.embed_dim": 16,
    "model.dropout": 0.0, "model.max_ep_len": 500,
    "train.steps": 3, "train.batch_size": 4, "train.warmup_steps": 1,
    "train.checkpoint_every": 3, "train.log_every": 1,
    "eval.during_training": 0, "eval.episodes": 2, "eval.max_episode_steps": 50,
    "baseline.steps": 3, "baseline.batch_size": 4, "baseline.log_every": 1,
})
