"""K-window sampler: windows end at the drawn step, stay inside one episode, right-padded."""

import numpy as np
import torch

from dtbench.data.sampler import WindowSampler
from dtbench.data.store import TrajectoryStore
from tests.conftest import make_episodes


def _reference_window(store, end, k, scale):
    """Per-sample loop building the same window, the slow obvious way."""
    start = store.episode_starts[store.episode_ids[end]]
    first = max(start, end - k + 1)
    rows = list(range(first, end + 1))
    pad = k - len(rows)
    obs = np.concatenate([store.observations[rows], np.zeros((pad, store.obs_shape[0]))])
    act = np.concatenate([store.actions[rows], np.zeros((pad, *store.actions.shape[1:]))])
    rtg = np.concatenate([store.returns_to_go[rows] / scale, np.zeros(pad)])
    ts = np.concatenate([store.timesteps[rows], np.zeros(pad, int)])
    mask = np.arange(k) < len(rows)
    return obs, act, rtg, ts, mask


def test_batch_matches_per_sample_reference_for_every_end_step():
    store = TrajectoryStore.from_episodes(make_episodes([3, 7, 1, 5]))
    k, scale = 4, 10.0
    sampler = WindowSampler(store, k, batch_size=8, return_scale=scale, max_ep_len=100)
    batch = sampler.batch_at(torch.arange(store.num_steps))
    for end in range(store.num_steps):
        obs, act, rtg, ts, mask = _reference_window(store, end, k, scale)
        np.testing.assert_allclose(batch.states[end].numpy(), obs, rtol=1e-6)
        np.testing.assert_allclose(batch.actions[end].numpy(), act, rtol=1e-6)
        np.testing.assert_allclose(batch.returns_to_go[end, :, 0].numpy(), rtg, rtol=1e-6)
        np.testing.assert_array_equal(batch.timesteps[end].numpy(), ts)
        np.testing.assert_array_equal(batch.mask[end].numpy(), mask)


def test_state_normalisation_and_timestep_clamp():
    store = TrajectoryStore.from_episodes(make_episodes([6]))
    mean, std = store.state_stats()
    sampler = WindowSampler(store, 6, 2, 1.0, max_ep_len=3, state_mean=mean, state_std=std)
    batch = sampler.batch_at(torch.tensor([5]))
    expected = (store.observations - mean) / std
    np.testing.assert_allclose(batch.states[0].numpy(), expected, rtol=1e-5)
    assert batch.timesteps[0].tolist() == [0, 1, 2, 2, 2, 2]


def test_sampling_is_seeded_and_covers_all_steps():
    store = TrajectoryStore.from_episodes(make_episodes([5, 5], discrete=True))
    a = WindowSampler(store, 3, 64, 1.0, 100, seed=7).sample()
    b = WindowSampler(store, 3, 64, 1.0, 100, seed=7).sample()
    assert torch.equal(a.states, b.states) and a.actions.dtype == torch.long
    batch = WindowSampler(store, 3, 512, 1.0, 100, seed=1).sample()
    assert (batch.mask.sum(1) == 3).all()  # windows near an episode start are filled forward
    first_obs = batch.states[:, 0, 0].tolist()
    assert set(first_obs) == set(store.observations[[0, 1, 2, 5, 6, 7], 0].tolist())


def test_windows_are_filled_forward_but_always_contain_the_drawn_step():
    store = TrajectoryStore.from_episodes(make_episodes([2, 6, 9]))
    k = 4
    sampler = WindowSampler(store, k, 1, 1.0, 100)
    steps = torch.arange(store.num_steps)
    ends = sampler.filled_end(steps)
    for t, end in zip(steps.tolist(), ends.tolist(), strict=True):
        e = int(store.episode_ids[t])
        first, last = store.episode_starts[e], store.episode_starts[e + 1] - 1
        assert t <= end <= last and end - k + 1 <= t  # t is inside its window
        assert end == max(t, min(first + k - 1, last))  # full unless the episode is short
    masks = sampler.batch_at(ends).mask.sum(1)
    expected = np.minimum(store.episode_lengths[store.episode_ids], k)
    np.testing.assert_array_equal(masks.numpy(), expected)
