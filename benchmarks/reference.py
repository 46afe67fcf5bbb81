"""Reference loops the benchmark compares dtbench against: the way the official DT code (and
the HuggingFace example built on it) samples batches and evaluates, one sample and one episode
at a time. They build exactly what dtbench builds (tests assert identical batches), so the
timing difference is the cost of the per-sample / per-episode Python, nothing else.
"""

from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym
import numpy as np
import torch

from dtbench.data.sampler import Batch
from dtbench.data.store import TrajectoryStore
from dtbench.models.dt import DecisionTransformer


def discount_cumsum(x: np.ndarray, gamma: float = 1.0) -> np.ndarray:
    """The official code's return-to-go: a reverse Python loop over the rest of the episode."""
    out = np.zeros_like(x)
    out[-1] = x[-1]
    for t in reversed(range(x.shape[0] - 1)):
        out[t] = x[t] + gamma * out[t + 1]
    return out


def prestacked_frames(store: TrajectoryStore) -> np.ndarray:
    """(N, S, H, W): every step's frame stack stored in full, as the official Atari code keeps
    its observations (S times the frames dtbench stores), zeros before an episode's start."""
    s = store.frame_stack
    out = np.zeros((store.num_steps, s, *store.observations.shape[1:]), dtype=np.uint8)
    for e in range(store.num_episodes):
        lo, hi = store.episode_starts[e], store.episode_starts[e + 1]
        for t in range(lo, hi):
            for j in range(s):
                src = t - (s - 1 - j)
                if src >= lo:
                    out[t, j] = store.observations[src]
    return out


def reference_batch(store: TrajectoryStore, ends: np.ndarray, context_len: int,
                    return_scale: float, max_ep_len: int, state_mean: np.ndarray | None = None,
                    state_std: np.ndarray | None = None,
                    stacked: np.ndarray | None = None) -> Batch:
    """The windows ending at `ends`, built one sample at a time as the official `get_batch`
    does: find the trajectory, slice its arrays, compute its returns-to-go from the window's
    start with `discount_cumsum`, normalise the states, pad to K (on the right, as dtbench
    does; the official code pads on the left) and concatenate."""
    states, actions, rtgs, timesteps, masks = [], [], [], [], []
    frames = stacked if stacked is not None else store.observations
    for end in np.asarray(ends):
        episode = int(np.searchsorted(store.episode_starts, end, side="right")) - 1
        first, last = store.episode_starts[episode], store.episode_starts[episode + 1]
        start = max(first, end - context_len + 1)
        n = end - start + 1
        s = frames[start:end + 1].astype(np.float32 if stacked is None else np.uint8)
        if stacked is None and state_mean is not None:
            s = (s - state_mean) / state_std
        rtg = discount_cumsum(store.rewards[start:last].astype(np.float32))[:n] / return_scale
        pad = context_len - n
        states.append(np.concatenate([s, np.zeros((pad, *s.shape[1:]), s.dtype)]))
        actions.append(np.concatenate([store.actions[start:end + 1],
                                       np.zeros((pad, *store.actions.shape[1:]),
                                                store.actions.dtype)]))
        rtgs.append(np.concatenate([rtg, np.zeros(pad, np.float32)]))
        timesteps.append(np.concatenate([np.minimum(np.arange(start - first, end - first + 1),
                                                    max_ep_len - 1), np.zeros(pad, np.int64)]))
        masks.append(np.concatenate([np.ones(n, bool), np.zeros(pad, bool)]))
    return Batch(states=torch.from_numpy(np.stack(states)),
                 actions=torch.from_numpy(np.stack(actions)),
                 returns_to_go=torch.from_numpy(np.stack(rtgs).astype(np.float32))[..., None],
                 timesteps=torch.from_numpy(np.stack(timesteps)),
                 mask=torch.from_numpy(np.stack(masks)))


@torch.inference_mode()
def evaluate_one_at_a_time(model: DecisionTransformer, make_env: Callable[[], gym.Env],
                           n_episodes: int, target: float, return_scale: float, seed: int,
                           max_steps: int, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """The official `evaluate_episode_rtg` loop: one episode after another, the whole history
    re-encoded and the model called with a batch of one every step. Returns each episode's
    (length, return)."""
    episodes = []
    k = model.cfg.context_len
    for i in range(n_episodes):
        env = make_env()
        obs, _ = env.reset(seed=seed + i)
        states = torch.as_tensor((obs - mean) / std, dtype=torch.float32)[None]
        actions = torch.zeros((0, model.act_dim))
        rtg = torch.tensor([[target / return_scale]])
        timesteps = torch.zeros((1,), dtype=torch.long)
        length, total = 0, 0.0
        for t in range(max_steps):
            actions = torch.cat([actions, torch.zeros((1, model.act_dim))])
            out = model(states[None, -k:], actions[None, -k:], rtg[None, -k:],
                        timesteps[None, -k:])
            action = out.action_preds[0, -1]
            actions[-1] = action
            obs, reward, terminated, truncated, _ = env.step(action.numpy())
            length, total = length + 1, total + float(reward)
            if terminated or truncated:
                break
            states = torch.cat([states, torch.as_tensor((obs - mean) / std,
                                                        dtype=torch.float32)[None]])
            rtg = torch.cat([rtg, rtg[-1:] - reward / return_scale])
            timesteps = torch.cat([timesteps, torch.tensor([t + 1])])
        env.close()
        episodes.append((length, total))
    return np.array(episodes)
