"""The one evaluator shared by DT and every baseline.

N episodes step together: each step the policy is called once for all live episodes, finished
episodes are masked (never reset), and episode i is always reset with seed `seed + i`, so every
algorithm meets the same start states. The environments step in this process or in worker
processes (`dtbench.env_workers`), with the same results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import gymnasium as gym
import numpy as np

from dtbench.env_workers import Envs, default_workers


class BatchPolicy(Protocol):
    """What the evaluator steps. `live` marks the episodes still running."""

    def reset(self, n_episodes: int, target_return: float | None) -> None: ...

    def act(self, obs: np.ndarray, live: np.ndarray) -> np.ndarray:
        """obs (n, *obs_shape) -> actions (n, ...); rows of finished episodes are ignored."""
        ...

    def observe(self, rewards: np.ndarray, live: np.ndarray) -> None:
        """Rewards of the step just taken (zero for finished episodes)."""
        ...


@dataclass
class EvalResult:
    target_return: float | None  # None for policies that do not condition on a return
    returns: np.ndarray  # (n,) raw undiscounted episode returns
    lengths: np.ndarray  # (n,) steps per episode
    seeds: np.ndarray  # (n,) reset seed of each episode


def evaluate(
    policy: BatchPolicy,
    make_env: Callable[[], gym.Env],
    n_episodes: int,
    target_return: float | None,
    seed: int,
    max_steps: int | None = None,
    clip_actions: bool = True,
    workers: int | None = None,
) -> EvalResult:
    """Run `n_episodes` episodes in lock-step and return their raw returns. The environments
    step in `workers` processes (default: `env_workers.default_workers`), with the same
    results as in this process."""
    envs = Envs(make_env, n_episodes,
                default_workers(n_episodes) if workers is None else workers)
    try:
        space = envs.action_space
        seeds = seed + np.arange(n_episodes)
        obs = envs.reset(seeds)
        live = np.ones(n_episodes, dtype=bool)
        returns = np.zeros(n_episodes)
        lengths = np.zeros(n_episodes, dtype=np.int64)
        policy.reset(n_episodes, target_return)
        step = 0
        while live.any() and (max_steps is None or step < max_steps):
            acting = live.copy()
            actions = policy.act(obs, acting)
            if clip_actions and isinstance(space, gym.spaces.Box):
                actions = np.clip(actions, space.low, space.high)
            obs, rewards, live = envs.step(obs, actions, acting)
            returns += rewards
            lengths += acting
            policy.observe(rewards, acting)
            step += 1
    finally:
        envs.close()
    return EvalResult(target_return, returns, lengths, seeds)
