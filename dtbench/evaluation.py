"""The one evaluator shared by DT and every baseline.

N episodes step together: each step the policy is called once for all live episodes, finished
episodes are masked (never reset), and episode i is always reset with seed `seed + i`, so every
algorithm meets the same start states. The environments step in this process or in worker
processes (`dtbench.env_workers`), with the same results. `evaluate_together` runs several
policies' episodes (the seeds of a stacked group) in one lock-step, each as if alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    return evaluate_together([policy], make_env, n_episodes, target_return, seed, max_steps,
                             clip_actions, workers)[0]


def evaluate_together(
    policies: Sequence[BatchPolicy],
    make_env: Callable[[], gym.Env],
    n_episodes: int,
    target_return: float | None,
    seed: int,
    max_steps: int | None = None,
    clip_actions: bool = True,
    workers: int | None = None,
) -> list[EvalResult]:
    """Each policy's `n_episodes` episodes, all in one lock-step (the seeds of a stacked
    group: every environment steps in the same round, across the same workers). Policy p's
    episode i is reset with seed `seed + i`, and p sees only its own episodes, so each result
    equals `evaluate(p, ...)` alone."""
    members = len(policies)
    total = members * n_episodes
    envs = Envs(make_env, total, default_workers(total) if workers is None else workers)
    try:
        space = envs.action_space
        seeds = seed + np.arange(n_episodes)
        obs = envs.reset(np.tile(seeds, members))
        live = np.ones(total, dtype=bool)
        returns = np.zeros(total)
        lengths = np.zeros(total, dtype=np.int64)
        rows = [slice(p * n_episodes, (p + 1) * n_episodes) for p in range(members)]
        for policy in policies:
            policy.reset(n_episodes, target_return)
        last: list[np.ndarray] = [np.empty(0)] * members  # each member's latest actions
        step = 0
        while live.any() and (max_steps is None or step < max_steps):
            acting = live.copy()
            running = [p for p, r in enumerate(rows) if acting[r].any()]
            for p in running:  # a member whose episodes all ended is not called, as alone
                last[p] = policies[p].act(obs[rows[p]], acting[rows[p]])
            actions = np.concatenate(last)
            if clip_actions and isinstance(space, gym.spaces.Box):
                actions = np.clip(actions, space.low, space.high)
            obs, rewards, live = envs.step(obs, actions, acting)
            returns += rewards
            lengths += acting
            for p in running:
                policies[p].observe(rewards[rows[p]], acting[rows[p]])
            step += 1
    finally:
        envs.close()
    return [EvalResult(target_return, returns[r], lengths[r], seeds) for r in rows]
