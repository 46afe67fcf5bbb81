"""Roll a policy in one gymnasium env into Minari-style episode dicts (T+1 observations).

One env stepped by hand, never a gymnasium 1.0 vector env: those auto-reset on the step after
an episode ends, and that step must not be recorded as a transition.
"""

from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym
import numpy as np


def collect_episodes(
    env: gym.Env,
    act: Callable[[np.ndarray], np.ndarray],
    seed: int,
    n_episodes: int | None = None,
    min_steps: int | None = None,
    record: Callable[[np.ndarray], np.ndarray] | None = None,
    on_reset: Callable[[], None] | None = None,
) -> list[dict[str, np.ndarray]]:
    """Whole episodes until `n_episodes` or at least `min_steps` transitions; episode i resets
    with `seed + i`. `act` maps one observation to one action (clipped to a Box space).
    `record` picks what is stored of each observation (Atari: the newest frame of the stack,
    so every frame is stored once); `on_reset` runs after each reset (scripted policies)."""
    if (n_episodes is None) == (min_steps is None):
        raise ValueError("give exactly one of n_episodes and min_steps")
    box = isinstance(env.action_space, gym.spaces.Box)
    obs_dtype = env.observation_space.dtype
    obs_dtype = np.float32 if np.issubdtype(obs_dtype, np.floating) else obs_dtype
    episodes: list[dict[str, np.ndarray]] = []
    total = 0
    while (len(episodes) < n_episodes) if n_episodes is not None else (total < min_steps):
        o = env.reset(seed=seed + len(episodes))[0]
        if on_reset is not None:
            on_reset()
        kept = [o if record is None else record(o)]
        acts, rews, terms, truncs = [], [], [], []
        done = False
        while not done:
            a = act(o)
            if box:
                a = np.clip(a, env.action_space.low, env.action_space.high)
            o, r, term, trunc, _ = env.step(a)
            kept.append(o if record is None else record(o))
            acts.append(a)
            rews.append(r)
            terms.append(term)
            truncs.append(trunc)
            done = term or trunc
        episodes.append({
            "observations": np.asarray(kept, obs_dtype),
            "actions": np.asarray(acts, np.float32 if box else np.int64),
            "rewards": np.asarray(rews, np.float32),
            "terminations": np.asarray(terms, bool),
            "truncations": np.asarray(truncs, bool),
        })
        total += len(rews)
    return episodes
