"""K-window sampler: windows end at the drawn step, stay inside one episode, right-padded."""

import numpy as np
import pytest
import torch

from benchmarks.reference import prestacked_frames, reference_batch
from dtbench.data.sampler import WindowSampler
from dtbench.data.store import TrajectoryStore
from tests.conftest import make_episodes


@pytest.mark.parametrize("normalise", [False, True])
def test_batch_matches_per_sample_reference_for_every_end_step(normalise):
    """The benchmark's per-sample loop (the official code's way) builds the same batch."""
    store = TrajectoryStore.from_episodes(make_episodes([3, 7, 1, 5]))
    k, scale, max_len = 4, 10.0, 5
    mean, std = store.state_stats() if normalise else (None, None)
    sampler = WindowSampler(store, k, batch_size=8, return_scale=scale, max_ep_len=max_len,
                            state_mean=mean, state_std=std)
    ends = np.arange(store.num_steps)
    ours = sampler.batch_at(torch.as_tensor(ends))
    theirs = reference_batch(store, ends, k, scale, max_len, mean, std)
    for field in ("states", "actions", "returns_to_go"):
        torch.testing.assert_close(getattr(ours, field), getattr(theirs, field).float(),
                                   rtol=1e-5, atol=1e-5)
    assert torch.equal(ours.timesteps, theirs.timesteps) and torch.equal(ours.mask, theirs.mask)


def test_frame_stack_batches_match_the_prestacked_reference():
    """Atari: stacks gathered by index equal the official layout (every stack stored)."""
    rng = np.random.default_rng(0)
    episodes = make_episodes([6, 2, 9], discrete=True)
    for ep in episodes:
        ep["observations"] = rng.integers(0, 255, (len(ep["rewards"]) + 1, 5, 5), np.uint8)
    store = TrajectoryStore.from_episodes(episodes, frame_stack=4)
    ends = np.arange(store.num_steps)
    ours = WindowSampler(store, 3, 8, 1.0, 100).batch_at(torch.as_tensor(ends))
    stacked = prestacked_frames(store)
    assert stacked.nbytes == 4 * store.observations.nbytes
    theirs = reference_batch(store, ends, 3, 1.0, 100, stacked=stacked)
    assert torch.equal(ours.states, theirs.states) and torch.equal(ours.actions, theirs.actions)


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
