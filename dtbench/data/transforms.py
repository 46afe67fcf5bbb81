"""Dataset transforms used by baselines and ablations; each returns a new store."""

from __future__ import annotations

import numpy as np

from dtbench.data.store import TrajectoryStore
from dtbench.errors import DTBenchError


def delayed_rewards(store: TrajectoryStore) -> TrajectoryStore:
    """Sparse variant (the paper's 'delayed' mode): each episode's whole return on its last
    step, zero elsewhere. Returns-to-go at the first step are unchanged."""
    rewards = np.zeros_like(store.rewards)
    rewards[store.episode_starts[1:] - 1] = store.episode_returns
    return store.with_rewards(rewards, reward_variant="delayed")


def top_fraction(store: TrajectoryStore, fraction: float) -> TrajectoryStore:
    """The paper's %BC data: keep the highest-return episodes (undiscounted) until they hold
    `fraction` of all timesteps. The episode that crosses the threshold is kept, so at least
    one episode always remains."""
    if not 0.0 < fraction <= 1.0:
        raise DTBenchError(f"top fraction must be in (0, 1], got {fraction}")
    order = np.argsort(-store.episode_returns, kind="stable")
    covered = np.cumsum(store.episode_lengths[order])
    n_keep = int(np.searchsorted(covered, fraction * store.num_steps, side="left")) + 1
    kept = store.select_episodes(np.sort(order[: min(n_keep, len(order))]))
    kept.metadata["top_fraction"] = fraction
    return kept


REWARD_TRANSFORMS = {"raw": lambda r: r, "clipped": np.sign}


def rtg_rewards(rewards: np.ndarray, transform: str) -> np.ndarray:
    """The rewards a return-to-go is built from: raw, or clipped to their sign (DQN's clipping).
    DT uses the same transform on the data and on the rewards it receives when evaluated."""
    if transform not in REWARD_TRANSFORMS:
        raise DTBenchError(f"unknown rtg_rewards {transform!r}; known: raw, clipped")
    return REWARD_TRANSFORMS[transform](np.asarray(rewards)).astype(np.float32)
