"""Batched policies the shared evaluator steps: the Decision Transformer, the paper's Gym BC
and the uniform random policy."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch

from dtbench.data.state_best import BestReturnFromStart
from dtbench.data.transforms import rtg_rewards as transform_rewards
from dtbench.models.dt import DecisionTransformer
from dtbench.models.mlp_bc import MLPBC


class DTPolicy:
    """Return-conditioned DT rollout for N lock-stepped episodes.

    The last K steps of every episode sit in ring buffers; each step the model runs once on the
    live episodes; each state is encoded once, when it arrives, and its embedding reused (the
    encoder sees one step at a time, so this is exact), and only the read token goes through
    the last layer (`DecisionTransformer.predict_last_action`). The return-to-go starts at the
    target and drops by each reward received, through the same reward transform (raw or
    clipped) as the training returns-to-go, divided by the return scale; in `delayed` mode
    (sparse rewards) it is never decremented, as in the paper's delayed setting. With `cap`
    each episode starts at min(target, the best return-to-go the data shows from its first
    state).
    """

    def __init__(
        self,
        model: DecisionTransformer,
        state_mean: np.ndarray | None,
        state_std: np.ndarray | None,
        return_scale: float,
        greedy: bool = True,
        delayed: bool = False,
        seed: int = 0,
        rtg_rewards: str = "raw",
        cap: BestReturnFromStart | None = None,
        last_token_only: bool = True,
    ) -> None:
        self.model = model.eval()
        self.last_token_only = last_token_only  # False: the full forward pass (tests compare)
        self.device = next(model.parameters()).device
        self.k, self.max_ep_len = model.cfg.context_len, model.cfg.max_ep_len
        self.mean, self.std = state_mean, state_std
        self.return_scale, self.greedy, self.delayed = return_scale, greedy, delayed
        self.generator = torch.Generator(device=self.device).manual_seed(seed)
        self.rtg_rewards = rtg_rewards  # the reward transform the training RTGs were built from
        self.cap = cap

    def reset(self, n_episodes: int, target_return: float | None) -> None:
        if target_return is None and self.model.per_step == 3:
            raise ValueError("the Decision Transformer needs a target return")
        target_return = 0.0 if target_return is None else target_return  # (s, a) tokens: unused
        self.t = 0
        self.rtg = np.full(n_episodes, float(target_return))
        # embeddings of the last K states: each state is encoded once, when it arrives
        self.state_emb = torch.zeros((n_episodes, self.k, self.model.cfg.embed_dim),
                                     device=self.device)
        a_shape = () if self.model.discrete else (self.model.act_dim,)
        a_dtype = torch.long if self.model.discrete else torch.float32
        self.actions = torch.zeros((n_episodes, self.k, *a_shape), dtype=a_dtype,
                                   device=self.device)
        self.returns = torch.zeros((n_episodes, self.k, 1), device=self.device)
        self.timesteps = torch.zeros((n_episodes, self.k), dtype=torch.long, device=self.device)

    @torch.inference_mode()
    def act(self, obs: np.ndarray, live: np.ndarray) -> np.ndarray:
        if self.t == 0 and self.cap is not None:  # raw observations, before normalising
            self.rtg = self.cap.cap(obs, self.rtg)
        if np.issubdtype(obs.dtype, np.floating) and self.mean is not None:
            obs = ((obs - self.mean) / self.std).astype(np.float32)
        rows = torch.as_tensor(np.flatnonzero(live), device=self.device)
        slot = self.t % self.k
        new = torch.as_tensor(obs[live], device=self.device)[:, None]  # (n_live, 1, *obs)
        self.state_emb[rows, slot] = self.model.embed_state(new)[:, 0]
        self.returns[:, slot, 0] = torch.as_tensor(self.rtg / self.return_scale, device=self.device)
        self.timesteps[:, slot] = min(self.t, self.max_ep_len - 1)
        self.actions[:, slot] = 0  # a_t is not seen when predicting a_t (causal)
        length = min(self.t + 1, self.k)
        order = (torch.arange(length, device=self.device) + self.t + 1 - length) % self.k
        pick = lambda x: x[rows][:, order]  # noqa: E731 - chronological window of live rows
        timesteps = pick(self.timesteps)
        if self.model.global_positions:  # the official Atari evaluation gives the window the
            timesteps = timesteps[:, -1:].expand_as(timesteps)  # current step (training: its first)
        window = (pick(self.actions), pick(self.returns), timesteps)
        if self.last_token_only:  # the same action, computed for the one token that is read
            pred = self.model.predict_last_action(*window, pick(self.state_emb))
        else:
            pred = self.model(None, *window, state_embeddings=pick(self.state_emb)
                              ).action_preds[:, -1]
        if self.model.discrete:
            if self.greedy:
                chosen = pred.argmax(-1)
            else:
                chosen = torch.multinomial(pred.softmax(-1), 1, generator=self.generator)[:, 0]
        else:
            chosen = pred
        self.actions[rows, slot] = chosen
        actions = np.zeros((len(obs), *self.actions.shape[2:]), dtype=self._np_action_dtype)
        actions[live] = chosen.cpu().numpy()
        return actions

    def observe(self, rewards: np.ndarray, live: np.ndarray) -> None:
        if not self.delayed:
            self.rtg = self.rtg - transform_rewards(rewards, self.rtg_rewards)
        self.t += 1

    @property
    def _np_action_dtype(self) -> type:
        return np.int64 if self.model.discrete else np.float32


class RandomPolicy:
    """Uniformly random actions from the environment's action space (seeded)."""

    def __init__(self, action_space: gym.Space, seed: int = 0) -> None:
        self.space = action_space
        self.space.seed(seed)

    def reset(self, n_episodes: int, target_return: float | None) -> None:
        self.n = n_episodes

    def act(self, obs: np.ndarray, live: np.ndarray) -> np.ndarray:
        """One vectorised draw for all episodes (discrete and bounded Box spaces)."""
        n, space, rng = len(obs), self.space, self.space.np_random
        if isinstance(space, gym.spaces.Discrete):
            return rng.integers(space.start, space.start + space.n, size=n, dtype=np.int64)
        if isinstance(space, gym.spaces.Box) and space.is_bounded():
            return rng.uniform(space.low, space.high, size=(n, *space.shape)).astype(space.dtype)
        return np.stack([space.sample() for _ in range(n)])  # other spaces: gymnasium's sampler

    def observe(self, rewards: np.ndarray, live: np.ndarray) -> None:
        pass


class MLPBCPolicy:
    """The paper's Gym BC for N lock-stepped episodes: the last K normalised states of each
    episode, zero-padded at the front before step K, through the MLP."""

    def __init__(self, model: MLPBC, state_mean: np.ndarray, state_std: np.ndarray) -> None:
        self.model = model.eval()
        self.device = next(model.parameters()).device
        self.k = model.cfg.context_len
        self.mean, self.std = state_mean, state_std

    def reset(self, n_episodes: int, target_return: float | None) -> None:
        self.states = torch.zeros((n_episodes, self.k, self.model.state_dim), device=self.device)

    @torch.no_grad()
    def act(self, obs: np.ndarray, live: np.ndarray) -> np.ndarray:
        state = torch.as_tensor((obs - self.mean) / self.std, dtype=torch.float32,
                                device=self.device)
        self.states = torch.cat([self.states[:, 1:], state[:, None]], dim=1)
        actions = np.zeros((len(obs), self.model.act_dim), dtype=np.float32)
        if live.any():
            idx = torch.as_tensor(np.flatnonzero(live), device=self.device)
            out = self.model(self.states.index_select(0, idx)).action_preds[:, 0]
            actions[live] = out.cpu().numpy()
        return actions

    def observe(self, rewards: np.ndarray, live: np.ndarray) -> None:
        pass
