"""K-window sampler: end-anchored windows end at the drawn step, stay inside one episode and are
right-padded; official windows follow the official Gym sampler's distribution."""

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


def _official_windows(store: TrajectoryStore, k: int) -> dict[tuple[int, int, int], float]:
    """The official Gym `get_batch`, written out as a distribution: trajectory i with
    probability len_i / N, start si uniform in [0, len_i), the window s[si:si+k] left-padded
    to k. Returns P(episode, start within it, padding)."""
    lengths = np.diff(store.episode_starts)
    n = lengths.sum()
    probs = {}
    for i, length in enumerate(lengths):
        for si in range(length):
            pad = k - min(k, length - si)
            probs[(i, si, pad)] = (length / n) * (1 / length)
    return probs


def test_official_windows_follow_the_official_sampler_distribution():
    """Chi-square of the sampler's (episode, start, padding) frequencies against the official
    distribution computed independently above, and each window's contents laid out as the
    official code lays them (real steps last)."""
    from scipy.stats import chisquare

    store = TrajectoryStore.from_episodes(make_episodes([2, 7, 4, 1, 5]))
    k = 4
    sampler = WindowSampler(store, k, batch_size=20_000, return_scale=1.0, max_ep_len=10,
                            seed=3, windows="official")
    expected = _official_windows(store, k)
    counts = dict.fromkeys(expected, 0)
    rtg = torch.as_tensor(store.returns_to_go, dtype=torch.float32)
    for _ in range(5):
        batch = sampler.sample()
        mask = batch.mask.numpy()
        pad = k - mask.sum(1)
        first = batch.timesteps.numpy()[np.arange(len(pad)), pad]  # the start's timestep
        # the episode comes from the state values make_episodes encodes (100 * e + t)
        episode = (batch.states[np.arange(len(pad)), pad, 0].numpy() // 100).astype(int)
        for key in zip(episode, first, pad, strict=True):
            counts[tuple(int(v) for v in key)] += 1
        assert not mask[np.arange(len(pad)), :1][pad > 0].any()  # padding comes first
        # real steps: consecutive timesteps from the start, the store's returns-to-go
        starts = store.episode_starts[episode] + first
        for row in np.flatnonzero(pad == 0)[:50]:
            torch.testing.assert_close(batch.returns_to_go[row, :, 0],
                                       rtg[starts[row]:starts[row] + k])
    observed = np.array([counts[key] for key in expected])
    probs = np.array(list(expected.values()))
    assert observed.sum() == 100_000 and set(counts) == set(expected)
    assert chisquare(observed, probs * observed.sum()).pvalue > 1e-3


def test_official_and_end_anchored_windows_differ_only_in_how_they_are_drawn():
    """Both samplers' windows, fed to a DT, give finite losses; the official padding leaves
    the real tokens' predictions unchanged (causal attention, masked padding)."""
    from dtbench.config import ModelConfig
    from dtbench.models.dt import DecisionTransformer

    store = TrajectoryStore.from_episodes(make_episodes([2, 7, 4, 1, 5]))
    model = DecisionTransformer(ModelConfig(context_len=4, embed_dim=16, n_layer=1,
                                            dropout=0.0, max_ep_len=10), (3,), 2, False).eval()
    official = WindowSampler(store, 4, 8, 1.0, 10, windows="official")
    starts = np.array([0, 3, 8, 12])  # windows of 2, 4, 1 (episode of 1 step) and 2 steps
    batch = official.batch_from(starts)
    out = model(batch.states, batch.actions, batch.returns_to_go, batch.timesteps, batch.mask)
    assert torch.isfinite(model.action_loss(out, batch.actions, batch.mask))
    for row in range(len(starts)):  # the same steps on their own, unpadded
        real = batch.mask[row]
        alone = model(batch.states[row:row + 1, real], batch.actions[row:row + 1, real],
                      batch.returns_to_go[row:row + 1, real], batch.timesteps[row:row + 1, real])
        torch.testing.assert_close(out.action_preds[row, real], alone.action_preds[0],
                                   rtol=1e-5, atol=1e-5)


def _official_atari_starts(store: TrajectoryStore, k: int) -> dict[int, float]:
    """The official `StateActionReturnDataset.__getitem__`, written out for every index of
    its `__len__` (N - 3K): P(window start). `done_idxs` are the episodes' exclusive ends."""
    done_idxs = list(store.episode_starts[1:])
    n = store.num_steps
    starts: dict[int, float] = {}
    for idx in range(n - 3 * k):
        done_idx = idx + k
        for i in done_idxs:
            if i > idx:
                done_idx = min(int(i), done_idx)
                break
        starts[done_idx - k] = starts.get(done_idx - k, 0) + 1 / (n - 3 * k)
    return starts


def test_official_atari_windows_follow_the_official_dataset():
    from scipy.stats import chisquare

    store = TrajectoryStore.from_episodes(make_episodes([9, 4, 12, 7, 10], obs_dim=2))
    k = 3
    sampler = WindowSampler(store, k, batch_size=20_000, return_scale=1.0, max_ep_len=20,
                            seed=5, windows="official-atari")
    expected = _official_atari_starts(store, k)
    observed = dict.fromkeys(expected, 0)
    timesteps = torch.as_tensor(store.timesteps)
    for _ in range(5):
        batch = sampler.sample()
        assert batch.mask.all()  # every window is full
        values = batch.states[:, 0, 0].numpy()  # make_episodes: 100 * episode + t
        starts = store.episode_starts[(values // 100).astype(int)] + values % 100
        for s in starts.astype(int):
            observed[int(s)] += 1
        row = 0  # consecutive steps, the store's own timesteps
        first = int(starts[row])
        assert torch.equal(batch.timesteps[row], timesteps[first:first + k])
    assert set(observed) == set(expected)
    counts = np.array([observed[s] for s in expected])
    probs = np.array(list(expected.values()))
    assert chisquare(counts, probs * counts.sum()).pvalue > 1e-3
