"""Batched policies: the DT rollout (state embeddings reused exactly) and the random policy
(one seeded draw per step, inside the action space)."""

import gymnasium as gym
import numpy as np
import pytest
import torch

from dtbench.config import ModelConfig
from dtbench.models.dt import DecisionTransformer
from dtbench.policies import DTPolicy, RandomPolicy


def test_random_policy_discrete_is_uniform_and_seeded():
    space = gym.spaces.Discrete(4)
    a = RandomPolicy(space, seed=3).act(np.zeros((4000, 2)), np.ones(4000, bool))
    b = RandomPolicy(gym.spaces.Discrete(4), seed=3).act(np.zeros((4000, 2)), np.ones(4000, bool))
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.int64 and a.shape == (4000,)
    counts = np.bincount(a, minlength=4)
    assert counts.min() > 900 and counts.max() < 1100  # ~1000 each


def test_random_policy_box_stays_in_bounds():
    space = gym.spaces.Box(-2.0, np.array([1.0, 3.0]), dtype=np.float32)
    actions = RandomPolicy(space, seed=0).act(np.zeros((500, 5)), np.ones(500, bool))
    assert actions.shape == (500, 2) and actions.dtype == np.float32
    assert all(space.contains(a) for a in actions)
    assert actions[:, 1].max() > 2.5 and actions[:, 0].min() < -1.5  # spans the box


@pytest.mark.parametrize("encoder", ["linear", "nature_cnn"])
def test_dt_policy_encodes_each_state_once_and_matches_full_windows(encoder):
    """The rollout caches state embeddings; a plain re-encode of the last K states each step
    must choose the same actions (vector states and frame stacks alike)."""
    torch.manual_seed(0)
    k, n, steps = 4, 3, 9
    obs_shape = (5,) if encoder == "linear" else (4, 84, 84)
    discrete = encoder == "nature_cnn"
    cfg = ModelConfig(context_len=k, embed_dim=16, n_layer=1, n_head=1, dropout=0.0,
                      max_ep_len=50)
    model = DecisionTransformer(cfg, obs_shape, 3, discrete, encoder=encoder).eval()
    policy = DTPolicy(model, None, None, return_scale=10.0)
    policy.reset(n, target_return=5.0)
    rng = np.random.default_rng(0)
    history: list[tuple] = []  # (obs, rtg) per step, for the reference
    rtg = np.full(n, 5.0)
    actions_so_far = []
    for t in range(steps):
        obs = (rng.normal(size=(n, *obs_shape)).astype(np.float32) if not discrete
               else rng.integers(0, 256, size=(n, *obs_shape), dtype=np.uint8))
        live = np.ones(n, bool)
        chosen = policy.act(obs, live)
        history.append((obs, rtg.copy()))
        window = history[-k:]
        first = t + 1 - len(window)
        states = torch.as_tensor(np.stack([o for o, _ in window], 1))
        returns = torch.as_tensor(np.stack([r for _, r in window], 1) / 10.0).float()[..., None]
        past = actions_so_far[first:t] + [np.zeros_like(chosen)]
        acts = torch.as_tensor(np.stack(past, 1))
        timesteps = torch.arange(first, t + 1).repeat(n, 1)
        with torch.no_grad():
            pred = model(states, acts, returns, timesteps).action_preds[:, -1]
        expected = pred.argmax(-1).numpy() if discrete else pred.numpy()
        np.testing.assert_allclose(chosen, expected, rtol=1e-5, atol=1e-5)
        actions_so_far.append(chosen)
        rewards = rng.normal(size=n)
        policy.observe(rewards, live)
        rtg = rtg - rewards
