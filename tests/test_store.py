"""Trajectory store: alignment, returns-to-go, timesteps, transforms."""

import numpy as np
import pytest

from dtbench.data.store import TrajectoryStore
from dtbench.data.transforms import delayed_rewards, top_fraction
from dtbench.errors import DTBenchError
from tests.conftest import make_episodes


def test_minari_n_plus_one_observations_are_aligned_with_actions():
    eps = make_episodes([3, 5, 2])
    store = TrajectoryStore.from_episodes(eps)
    assert store.num_steps == 10 and store.num_episodes == 3
    # observation t of episode e is 100 e + t: the final observation (t = T) is dropped
    expected = np.concatenate([100 * e + np.arange(t) for e, t in enumerate([3, 5, 2])])
    np.testing.assert_array_equal(store.observations[:, 0], expected)
    np.testing.assert_array_equal(store.actions, np.concatenate([ep["actions"] for ep in eps]))


def test_wrong_observation_count_is_one_clear_error():
    eps = make_episodes([3])
    eps[0]["observations"] = eps[0]["observations"][:2]
    with pytest.raises(DTBenchError, match="2 observations for 3 actions"):
        TrajectoryStore.from_episodes(eps)


def test_returns_to_go_include_current_reward_and_restart_each_episode():
    eps = make_episodes([4, 1, 6])
    store = TrajectoryStore.from_episodes(eps)
    expected = np.concatenate([np.cumsum(ep["rewards"][::-1])[::-1] for ep in eps])
    np.testing.assert_allclose(store.returns_to_go, expected, rtol=1e-6)
    np.testing.assert_array_equal(store.timesteps, [0, 1, 2, 3, 0, 0, 1, 2, 3, 4, 5])
    np.testing.assert_allclose(store.episode_returns, [ep["rewards"].sum() for ep in eps],
                               rtol=1e-6)


def test_terminated_and_truncated_stay_distinct():
    store = TrajectoryStore.from_episodes(make_episodes([2, 3]))
    np.testing.assert_array_equal(store.terminated, [False, True, False, False, False])
    np.testing.assert_array_equal(store.truncated, [False, False, False, False, True])


def test_delayed_rewards_preserve_sum_and_put_it_on_the_last_step():
    store = TrajectoryStore.from_episodes(make_episodes([4, 2, 5]))
    sparse = delayed_rewards(store)
    np.testing.assert_allclose(sparse.episode_returns, store.episode_returns, rtol=1e-6)
    last = store.episode_starts[1:] - 1
    assert np.count_nonzero(sparse.rewards) == 3 and np.all(sparse.rewards[last] != 0)
    # the first return-to-go of each episode is unchanged
    np.testing.assert_allclose(sparse.returns_to_go[store.episode_starts[:-1]],
                               store.returns_to_go[store.episode_starts[:-1]], rtol=1e-6)


def test_top_fraction_keeps_best_episodes_until_fraction_of_timesteps():
    eps = make_episodes([10, 10, 10, 10])
    for e, value in enumerate([1.0, 4.0, 2.0, 3.0]):
        eps[e]["rewards"] = np.full(10, value, np.float32)
    store = TrajectoryStore.from_episodes(eps)
    kept = top_fraction(store, 0.5)  # 20 of 40 steps: the two best episodes
    assert sorted(kept.episode_returns) == [30.0, 40.0]
    assert top_fraction(store, 0.25).episode_returns.tolist() == [40.0]
    assert top_fraction(store, 0.01).num_episodes == 1  # never empty
    assert top_fraction(store, 1.0).num_steps == 40
    kept_obs = kept.observations[:, 0]  # episodes 1 and 3, whole and in order
    np.testing.assert_array_equal(kept_obs, np.concatenate([100 + np.arange(10),
                                                            300 + np.arange(10)]))
    with pytest.raises(DTBenchError):
        top_fraction(store, 0.0)
