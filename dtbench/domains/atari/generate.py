"""Local Atari data: behaviour policies of mixed quality, because the DQN-replay buckets are
not reachable here.

A game's `mixed` dataset holds episodes from several behaviour policies, one per epsilon in
the budget: the game's scripted RAM tracker (`behaviour.py`) whose actions are replaced by
uniform ones with probability epsilon (epsilon 1 = uniformly random play). Games without a
tracker get uniform play only. Each policy gets an equal share of the steps (whole episodes,
at least one each). Every frame is stored once (84x84 uint8, the newest frame of the env's
stack); the provenance records each policy's episode returns. Cached: made once.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from dtbench.data import minari_io
from dtbench.data.collect import collect_episodes
from dtbench.domains.atari.behaviour import TRACKERS, NoTracker, epsilon_mix
from dtbench.domains.atari.env import env_id, make_atari_env
from dtbench.domains.atari.ids import local_dataset_id
from dtbench.errors import DTBenchError


@dataclass(frozen=True)
class GenerationBudget:
    """How much data one game's `mixed` dataset gets."""

    steps: int  # transitions in all (split evenly across the behaviour policies)
    epsilons: tuple[float, ...]  # one behaviour policy per value: P(uniform action)
    max_episode_steps: int  # agent steps after which an episode is truncated
    sticky_actions: float = 0.0  # ALE repeat_action_probability while collecting


BUDGETS = {
    "smoke": GenerationBudget(steps=200, epsilons=(0.0, 1.0), max_episode_steps=60),
    "quick": GenerationBudget(steps=60_000, epsilons=(0.0, 0.1, 0.3, 0.6, 1.0),
                              max_episode_steps=5_000),
    "paper": GenerationBudget(steps=500_000, epsilons=(0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0),
                              max_episode_steps=27_000),
}


def generate(game: str, budget_name: str = "quick", seed: int = 0) -> dict[str, Any]:
    """Make the game's `mixed` dataset unless present; return its provenance."""
    if budget_name not in BUDGETS:
        raise DTBenchError(f"unknown generation budget {budget_name!r}; known: "
                           f"{', '.join(BUDGETS)}")
    dataset_id = local_dataset_id(game)
    if minari_io.is_complete(dataset_id):
        return minari_io.provenance(dataset_id)
    budget = BUDGETS[budget_name]
    epsilons = budget.epsilons if game in TRACKERS else (1.0,)
    env = make_atari_env(game, budget.sticky_actions, max_episode_steps=budget.max_episode_steps)
    rng = np.random.default_rng(seed)
    episodes, policies, t0 = [], [], time.perf_counter()
    for i, epsilon in enumerate(epsilons):
        tracker = TRACKERS[game]() if game in TRACKERS else NoTracker()
        act = epsilon_mix(tracker, epsilon, int(env.action_space.n), rng)
        mine = collect_episodes(env, lambda obs, act=act: act(env), seed + 1_000 * i,
                                min_steps=budget.steps // len(epsilons),
                                record=lambda obs: obs[-1],  # the newest frame of the stack
                                on_reset=lambda tracker=tracker: tracker.reset(env))
        returns = [float(ep["rewards"].sum()) for ep in mine]
        policies.append({"policy": f"{type(tracker).__name__} epsilon={epsilon}",
                         "epsilon": epsilon, "episodes": len(mine),
                         "steps": int(sum(len(ep["rewards"]) for ep in mine)),
                         "returns": returns, "return_mean": float(np.mean(returns))})
        episodes += mine
    env.close()
    returns = [float(ep["rewards"].sum()) for ep in episodes]
    provenance = {"game": game, "env_id": env_id(game), "budget": budget_name,
                  **asdict(budget), "seed": seed, "policies": policies,
                  "episodes": len(episodes),
                  "steps": int(sum(len(ep["rewards"]) for ep in episodes)),
                  "return_mean": float(np.mean(returns)), "return_max": float(np.max(returns)),
                  "seconds": round(time.perf_counter() - t0, 1),
                  "frames": "one 84x84 uint8 frame per step; stacks of 4 gathered when sampled"}
    minari_io.write_dataset(dataset_id, episodes, env_id(game),
                            algorithm_name="scripted RAM tracker + epsilon-random mix",
                            description=f"dtbench local Atari {game}: mixed-quality play",
                            provenance=provenance,
                            observation_space=gym.spaces.Box(0, 255, (84, 84), np.uint8))
    return provenance
