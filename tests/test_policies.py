"""The random policy draws one batch per step, seeded, inside the action space."""

import gymnasium as gym
import numpy as np

from dtbench.policies import RandomPolicy


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
