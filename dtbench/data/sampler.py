"""K-window batch sampler: index arithmetic over the flat store, no per-sample Python.

A step t is drawn uniformly over all steps and its window is the (up to) K steps of t's episode
that end at t, so training contexts look exactly like evaluation contexts (the last K steps of
history). One refinement: a window that would start at its episode's first step and hold fewer
than K steps is pushed forward to end at step `start + K - 1` (or the episode's last step).
Attention is causal, so the predictions for the steps up to t are unchanged; the window just
also carries the steps after t instead of padding. Without this, with K >= the episode length
(Key-to-Door uses the whole episode) windows are half padding on average and step t of an
episode is trained on with weight (T - t) / T, so the end of the episode, where the door is,
is almost never seen. Windows that still hold fewer than K steps (short episodes) are
right-padded: real tokens never see the padding, and no attention row is ever fully masked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from dtbench.data.store import TrajectoryStore


@dataclass
class Batch:
    """One batch of context windows (B windows of K steps)."""

    states: torch.Tensor  # (B, K, *obs_shape), normalised floats (or raw uint8 frames)
    actions: torch.Tensor  # (B, K, act_dim) float or (B, K) long
    returns_to_go: torch.Tensor  # (B, K, 1), divided by the return scale
    timesteps: torch.Tensor  # (B, K) long, clamped to max_ep_len - 1
    mask: torch.Tensor  # (B, K) bool, True on real (unpadded) steps


class WindowSampler:
    """Samples `Batch`es from a store; all arrays live on `device` once."""

    def __init__(
        self,
        store: TrajectoryStore,
        context_len: int,
        batch_size: int,
        return_scale: float,
        max_ep_len: int,
        state_mean: np.ndarray | None = None,
        state_std: np.ndarray | None = None,
        device: torch.device | str = "cpu",
        seed: int = 0,
    ) -> None:
        self.context_len, self.batch_size, self.num_steps = context_len, batch_size, store.num_steps
        self.device = torch.device(device)
        self.rng = np.random.default_rng(seed)
        obs = store.observations
        if np.issubdtype(obs.dtype, np.floating) and state_mean is not None:
            obs = (obs - state_mean) / state_std  # state normalisation from dataset statistics
        as_tensor = lambda a, dtype=None: torch.as_tensor(a, dtype=dtype, device=self.device)  # noqa: E731
        self.obs = as_tensor(obs if obs.dtype == np.uint8 else obs.astype(np.float32))
        self.actions = as_tensor(store.actions, torch.long if store.discrete else torch.float32)
        self.rtg = as_tensor(store.returns_to_go / return_scale, torch.float32)
        self.timesteps = as_tensor(np.minimum(store.timesteps, max_ep_len - 1), torch.long)
        self.episode_start = as_tensor(store.episode_starts[store.episode_ids], torch.long)
        self.episode_last = as_tensor(store.episode_starts[store.episode_ids + 1] - 1, torch.long)
        self.offsets = torch.arange(context_len, device=self.device)
        # frame stacks (Atari): frames t-S+1..t of each step, gathered by index like the window
        self.stack_offsets = torch.arange(store.frame_stack - 1, -1, -1, device=self.device)

    def sample(self) -> Batch:
        drawn = torch.as_tensor(self.rng.integers(0, self.num_steps, size=self.batch_size),
                                device=self.device)
        return self.batch_at(self.filled_end(drawn))

    def filled_end(self, steps: torch.Tensor) -> torch.Tensor:
        """End of the fullest window that contains each step and ends at or after it."""
        first_full_end = self.episode_start[steps] + self.context_len - 1
        return torch.minimum(torch.maximum(steps, first_full_end), self.episode_last[steps])

    def stacks(self, steps: torch.Tensor) -> torch.Tensor:
        """Frame stacks (*steps.shape, S, H, W) at flat steps; zero frames before an episode's
        start, as in the DQN-replay data and the evaluation env."""
        rows = steps[..., None] - self.stack_offsets
        valid = rows >= self.episode_start[steps][..., None]
        frames = self.obs[torch.where(valid, rows, steps[..., None])]
        return frames * valid[..., None, None].to(frames.dtype)

    def batch_at(self, ends: torch.Tensor) -> Batch:
        """The windows ending at the given flat step indices (deterministic; used by tests)."""
        ends = ends.to(self.device, torch.long)
        lengths = torch.clamp(ends - self.episode_start[ends] + 1, max=self.context_len)
        mask = self.offsets[None, :] < lengths[:, None]  # (B, K)
        idx = (ends - lengths + 1)[:, None] + self.offsets[None, :]
        idx = torch.where(mask, idx, ends[:, None])  # any valid row; zeroed below

        def masked(g: torch.Tensor) -> torch.Tensor:
            return g * mask.view(*mask.shape, *([1] * (g.dim() - 2))).to(g.dtype)

        def gather(x: torch.Tensor) -> torch.Tensor:
            return masked(x[idx])

        return Batch(
            states=gather(self.obs) if len(self.stack_offsets) == 1 else masked(self.stacks(idx)),
            actions=gather(self.actions),
            returns_to_go=gather(self.rtg).unsqueeze(-1),
            timesteps=gather(self.timesteps),
            mask=mask,
        )
