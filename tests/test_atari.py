"""Atari: the DQN-replay reader on files in dopamine's exact format, frames stored once with
stacks gathered by index, the real preprocessed ALE env, scripted behaviour, normalisation,
reward streams, and smoke runs of DT and the discrete baselines on locally made data."""

import gzip

import numpy as np
import pytest
import torch

from dtbench import registry
from dtbench.contract import RunSpec
from dtbench.data.dqn_replay import checkpoint_file, sample_dataset
from dtbench.data.sampler import WindowSampler
from dtbench.data.store import TrajectoryStore
from dtbench.data.transforms import rtg_rewards
from dtbench.domains.atari import normalize
from dtbench.domains.atari.behaviour import BreakoutTracker, NoTracker, epsilon_mix
from dtbench.domains.atari.env import make_atari_env
from dtbench.errors import DTBenchError
from dtbench.runs import run


def _write_dopamine(directory, ckpt, lengths, seed=0, tail=5):
    """One checkpoint as dopamine writes it: 3 zero transitions before every episode, then
    its steps, a terminal on the last; `tail` slots of an unfinished episode at the end.
    Returns the episodes written (frames, actions, rewards)."""
    rng = np.random.default_rng(seed)
    obs, act, rew, term, episodes = [], [], [], [], []
    for i, t in enumerate([*lengths, tail]):
        obs += [np.zeros((3, 84, 84), np.uint8)]
        act += [np.zeros(3, np.int32)]
        rew += [np.zeros(3, np.float32)]
        term += [np.zeros(3, np.uint8)]
        frames = rng.integers(1, 256, size=(t, 84, 84), dtype=np.uint8)
        a = rng.integers(0, 6, size=t).astype(np.int32)
        r = rng.choice([-1.0, 0.0, 1.0, 4.0], size=t).astype(np.float32)
        d = np.zeros(t, np.uint8)
        if i < len(lengths):
            d[-1] = 1
            episodes.append((frames, a, r))
        obs.append(frames)
        act.append(a)
        rew.append(r)
        term.append(d)
    arrays = {"observation": np.concatenate(obs), "action": np.concatenate(act),
              "reward": np.concatenate(rew), "terminal": np.concatenate(term)}
    directory.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        with gzip.open(checkpoint_file(directory, name, ckpt), "wb") as f:
            np.save(f, array, allow_pickle=False)
    return episodes


def _episodes(store):
    return [(store.observations[a:b], store.actions[a:b], store.rewards[a:b])
            for a, b in zip(store.episode_starts[:-1], store.episode_starts[1:], strict=True)]


def test_dqn_replay_keeps_dopamines_padding_as_steps_as_the_official_code(tmp_path):
    written = {48: _write_dopamine(tmp_path, 48, [7, 5, 9, 6], seed=1),
               49: _write_dopamine(tmp_path, 49, [8, 4, 6, 5], seed=2)}
    store = sample_dataset(tmp_path, num_steps=10_000, num_buffers=2, trajectories_per_buffer=1)
    assert store.frame_stack == 4 and store.obs_shape == (4, 84, 84)
    # every frame once (pre-stacked would be 4x), plus 3 lead frames per episode
    assert store.bytes_per_step == 84 * 84
    got = _episodes(store)
    # each visit reads 2 episodes (the counter's 1 + the official loop's extra one); the
    # unfinished tail of each checkpoint never becomes an episode
    assert len(got) == 8 and store.terminated.sum() == 8
    expected = [ep for eps in written.values() for ep in eps]
    for frames, actions, rewards in got:
        # the official create_dataset reads every slot: 3 padding steps (zero frame, action 0,
        # reward 0) open each episode
        assert not frames[:3].any() and not actions[:3].any() and not rewards[:3].any()
        match = [e for e in expected if len(e[0]) == len(frames) - 3
                 and np.array_equal(e[0], frames[3:])]
        assert len(match) == 1, "a stored episode must be one written episode after its padding"
        np.testing.assert_array_equal(actions[3:], match[0][1])
        np.testing.assert_array_equal(rewards[3:], match[0][2])  # raw rewards (4.0 kept)
    # timesteps restart at 0 in every episode (the official code's off-by-one is not copied)
    np.testing.assert_array_equal(store.timesteps[store.episode_starts[:-1]], 0)


def test_dqn_replay_uses_only_the_first_slots_and_drops_a_visit_past_them(tmp_path):
    _write_dopamine(tmp_path, 49, [7, 5, 9, 6], seed=1)
    # slots: 3 pad + 7 | 3 + 5 | 3 + 9 | 3 + 6 ...: a 2-episode visit ends at slot 17, the next
    # would end at slot 38 > 30, so it is dropped and nothing more is read from the checkpoint
    store = sample_dataset(tmp_path, num_steps=10_000, num_buffers=1, trajectories_per_buffer=1,
                           max_slots=30)
    np.testing.assert_array_equal(store.episode_lengths, [10, 8])


def test_dqn_replay_samples_the_checkpoints_present_and_lists_the_missing(tmp_path, capsys):
    """As the official FixedReplayBuffer: the checkpoints on disk are the ones used."""
    _write_dopamine(tmp_path, 49, [7, 5, 9, 6], seed=1)
    _write_dopamine(tmp_path, 47, [8, 4, 6, 5], seed=2)
    store = sample_dataset(tmp_path, num_steps=10_000, num_buffers=3, trajectories_per_buffer=1)
    # every episode of the two checkpoints there (two visits of two episodes each)
    assert sorted(store.episode_lengths.tolist()) == sorted(3 + t for t in
                                                           [7, 5, 9, 6, 8, 4, 6, 5])
    assert "sampling 2 of 3 checkpoints; missing: 48" in capsys.readouterr().err


class _DopamineBuffer:
    """What dopamine's `OutOfGraphReplayBuffer` does to write and read a checkpoint, written
    out independently of dtbench: `add` puts `stack - 1` zero transitions before each episode
    (also when the previous slot, circularly, ends one); slots are used circularly; `get_range`
    takes indices modulo the capacity the buffer was *built* with, which on loading need not be
    the stored arrays' length (the official code builds it with 100k and loads 1M slots)."""

    def __init__(self, capacity, stack=4):
        self.capacity, self.stack, self.add_count = capacity, stack, 0
        self.store = {"observation": np.zeros((capacity, 84, 84), np.uint8),
                      "action": np.zeros(capacity, np.int32),
                      "reward": np.zeros(capacity, np.float32),
                      "terminal": np.zeros(capacity, np.uint8)}

    def add(self, frame, action, reward, terminal):
        cursor = self.add_count % self.capacity
        if self.add_count == 0 or self.store["terminal"][cursor - 1] == 1:
            for _ in range(self.stack - 1):
                self._add(np.zeros((84, 84), np.uint8), 0, 0.0, 0)
        self._add(frame, action, reward, terminal)

    def _add(self, *values):
        cursor = self.add_count % self.capacity
        for name, value in zip(self.store, values, strict=True):
            self.store[name][cursor] = value
        self.add_count += 1

    def save(self, directory, ckpt):
        directory.mkdir(parents=True, exist_ok=True)
        for name, array in self.store.items():
            with gzip.open(checkpoint_file(directory, name, ckpt), "wb") as f:
                np.save(f, array, allow_pickle=False)

    @staticmethod
    def state(store, index, capacity, stack=4):
        """`get_observation_stack(index)` of a buffer built with `capacity`: oldest first."""
        return store["observation"][[(index - stack + 1 + j) % capacity for j in range(stack)]]


def _official_create_dataset(store, capacity, num_steps, trajectories_per_buffer):
    """The official `create_dataset.py` loop for one checkpoint (`num_buffers=1`), reading
    states with dopamine's stacks; stops when a visit runs past the slots (with one buffer the
    official loop would retry it for ever)."""
    obss, actions, rewards, done_idxs, i = [], [], [], [], 0
    while len(obss) < num_steps:
        start, to_load, done = len(obss), trajectories_per_buffer, False
        while not done:
            obss.append(_DopamineBuffer.state(store, i, capacity))
            actions.append(store["action"][i])
            rewards.append(store["reward"][i])
            if store["terminal"][i]:
                done_idxs.append(len(obss))
                done = to_load == 0
                to_load -= 1
            i += 1
            if i >= capacity:
                del obss[start:], actions[start:], rewards[start:]
                done_idxs = [d for d in done_idxs if d <= start]
                return obss, actions, rewards, done_idxs
    return obss, actions, rewards, done_idxs


@pytest.mark.parametrize("num_steps", [60, 10_000])
def test_dqn_replay_equals_the_official_create_dataset_on_a_dopamine_written_buffer(
        tmp_path, monkeypatch, num_steps):
    """A circular buffer written as dopamine writes one (it has wrapped, so slot 0 is in the
    middle of an episode), read by the official loop with its capacity below the stored slots:
    every step's 4-frame stack (padding steps showing the previous episode's last frames, slots
    0-2 wrapping to the last usable slots), action, reward and episode end is dtbench's."""
    monkeypatch.setenv("DTBENCH_CACHE_DIR", str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    buffer = _DopamineBuffer(capacity=160)
    while buffer.add_count < 400:  # 2.5 times round
        t = int(rng.integers(4, 15))
        for k in range(t):
            buffer.add(rng.integers(1, 256, (84, 84), dtype=np.uint8), int(rng.integers(1, 6)),
                       float(rng.choice([0.0, 1.0])), int(k == t - 1))
    assert buffer.store["terminal"][0] == 0 and buffer.store["observation"][0].any()
    buffer.save(tmp_path / "logs", 49)
    usable = 120  # the official code's replay_capacity (100k of 1M slots)
    obss, actions, rewards, done_idxs = _official_create_dataset(buffer.store, usable,
                                                                num_steps, 2)
    store = sample_dataset(tmp_path / "logs", num_steps=num_steps, num_buffers=1,
                           trajectories_per_buffer=2, max_slots=usable)
    assert store.num_steps == len(obss) and len(obss) > 0
    np.testing.assert_array_equal(store.episode_starts[1:], done_idxs)
    np.testing.assert_array_equal(store.actions, actions)
    np.testing.assert_array_equal(store.rewards, rewards)
    sampler = WindowSampler(store, context_len=1, batch_size=1, return_scale=1.0,
                            max_ep_len=1000)
    states = sampler.batch_at(np.arange(store.num_steps)).states[:, 0].numpy()
    np.testing.assert_array_equal(states, np.stack(obss))
    # the cases the official rule is about are in this buffer: slot 0's stack wraps to slots
    # 117-119, and padding steps show the previous episode's frames
    assert np.array_equal(states[0][:3], buffer.store["observation"][usable - 3:usable])
    padding = np.flatnonzero(~store.observations.reshape(store.num_steps, -1).any(axis=1))
    assert len(padding) and all(states[i][:3].any() for i in padding[::3])
    # the wrapped frames are read once, then come from the cache (an unreadable entry is remade)
    entries = list((tmp_path / "cache").glob("dqn-replay-wrap-120/*.npy"))
    assert len(entries) == 1
    entries[0].write_bytes(b"not an array")
    again = sample_dataset(tmp_path / "logs", num_steps=num_steps, num_buffers=1,
                           trajectories_per_buffer=2, max_slots=usable)
    np.testing.assert_array_equal(again.lead_frames, store.lead_frames)
    # official windows of K steps see the same stacks (those that start at or after step 0)
    idx = np.arange(store.num_steps - 15)
    ends = np.minimum(idx + 5, store.episode_starts[1:][store.episode_ids[idx]])
    windows = WindowSampler(store, context_len=5, batch_size=1, return_scale=1.0,
                            max_ep_len=1000).batch_atari(idx[ends >= 5])
    for b, end in enumerate(ends[ends >= 5]):
        np.testing.assert_array_equal(windows.states[b].numpy(), np.stack(obss[end - 5:end]))


def test_dqn_replay_missing_and_corrupt_files_say_what_to_do(tmp_path):
    domain, task = registry.resolve("atari/pong")
    with pytest.raises(DTBenchError, match=r"no DQN-replay checkpoint files in .*; download "
                                           r"it with `dtbench data download atari/pong -d "
                                           r"dqn-replay` .*gsutil"):
        task.datasets["dqn-replay"].load(task.datasets["dqn-replay"].how_to_get)
    _write_dopamine(tmp_path, 49, [7, 5])
    path = checkpoint_file(tmp_path, "observation", 49)
    path.write_bytes(path.read_bytes()[:200])  # truncated download
    with pytest.raises(DTBenchError, match="corrupt or truncated - download it again"):
        sample_dataset(tmp_path, num_buffers=1, trajectories_per_buffer=0)


def _frame_store():
    rng = np.random.default_rng(0)
    episodes = []
    for t in (2, 6, 3):
        episodes.append({"observations": rng.integers(1, 256, (t + 1, 84, 84), dtype=np.uint8),
                         "actions": rng.integers(0, 4, t), "rewards": rng.normal(size=t),
                         "terminations": np.eye(t, dtype=bool)[-1],
                         "truncations": np.zeros(t, bool)})
    return TrajectoryStore.from_episodes(episodes, frame_stack=4)


def _stack_reference(store, t):
    """The state at step t, one frame at a time: zeros before its episode's start."""
    start = store.episode_starts[store.episode_ids[t]]
    return np.stack([store.observations[i] if i >= start else np.zeros((84, 84), np.uint8)
                     for i in range(t - 3, t + 1)])


def test_frame_stacks_are_gathered_by_index_with_zeros_before_an_episode_start():
    store = _frame_store()
    sampler = WindowSampler(store, context_len=3, batch_size=5, return_scale=1.0,
                            max_ep_len=100)
    ends = torch.arange(store.num_steps)
    batch = sampler.batch_at(ends)
    assert batch.states.shape == (store.num_steps, 3, 4, 84, 84)
    assert batch.states.dtype == torch.uint8  # frames stay uint8 until the encoder
    for b, end in enumerate(ends.tolist()):
        real = batch.mask[b].nonzero().flatten()
        first = end - len(real) + 1
        want = np.stack([_stack_reference(store, t) for t in range(first, end + 1)])
        np.testing.assert_array_equal(batch.states[b, real].numpy(), want)
        assert not batch.states[b, ~batch.mask[b]].any()


def test_env_is_the_papers_preprocessing_with_zero_padded_stacks_and_sticky_setting():
    env = make_atari_env("pong", sticky_actions=0.25)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8
    assert not obs[:3].any() and obs[3].any()  # zero frames before the episode's first
    assert env.unwrapped.ale.getFloat("repeat_action_probability") == pytest.approx(0.25)
    assert make_atari_env("pong").unwrapped.ale.getFloat("repeat_action_probability") == 0.0
    assert env.unwrapped.get_action_meanings()[2:4] == ["RIGHT", "LEFT"]


def test_breakout_tracker_beats_random_play():
    def play(policy_factory, epsilon):
        env = make_atari_env("breakout", max_episode_steps=1_500)
        tracker = policy_factory()
        act = epsilon_mix(tracker, epsilon, 4, np.random.default_rng(0))
        env.reset(seed=3)
        tracker.reset(env)
        total, done = 0.0, False
        while not done:
            _, r, term, trunc, _ = env.step(act(env))
            total, done = total + r, term or trunc
        return total

    assert play(BreakoutTracker, 0.0) > play(NoTracker, 1.0) + 10


def test_gamer_normalisation_reproduces_the_papers_table():
    # paper Table 12 raw DT scores -> Table 1 normalised scores
    np.testing.assert_allclose(normalize("breakout", [76.9]), [267.5], atol=0.05)
    np.testing.assert_allclose(normalize("qbert", [2215.8]), [15.4], atol=0.05)
    np.testing.assert_allclose(normalize("seaquest", [1129.3]), [2.5], atol=0.05)
    np.testing.assert_allclose(normalize("pong", [17.1]), [106.1], atol=0.3)


def test_clipped_return_to_go_rewards_are_signs_and_unknown_is_rejected():
    np.testing.assert_array_equal(rtg_rewards(np.array([4.0, 0.0, -2.0]), "clipped"),
                                  [1.0, 0.0, -1.0])
    np.testing.assert_array_equal(rtg_rewards(np.array([4.0, -2.0]), "raw"), [4.0, -2.0])
    with pytest.raises(DTBenchError, match="known: raw, clipped"):
        rtg_rewards(np.zeros(2), "log")


@pytest.mark.parametrize("algo", ["dt", "cql"])
def test_smoke_runs_on_locally_made_pong_data(algo, isolated_minari, tmp_path):
    spec = RunSpec("atari", "pong", "mixed", algo, seed=0, profile="smoke")
    domain, task = registry.resolve("atari/pong")
    task.datasets["mixed"].make("smoke")
    result = run([spec], results_root=tmp_path / "results", progress=False)[0]
    (target,) = result["targets"]
    assert target["episodes"] == 2 and target["length_mean"] == 50  # the smoke step cap
    assert target["target_return"] == (20.0 if algo == "dt" else None)
    np.testing.assert_allclose(target["score_mean"], normalize("pong", [target["return_mean"]]))


def test_clipped_rtg_feeds_training_and_evaluation_the_same_way(isolated_minari, tmp_path):
    """With eval.rtg_rewards=clipped, training returns-to-go come from sign(reward) and the
    rollout's return-to-go drops by sign(reward); the score stays the raw return."""
    from dtbench.policies import DTPolicy

    store = _frame_store()
    clipped = store.with_rewards(rtg_rewards(store.rewards, "clipped"))
    sampler = WindowSampler(clipped, context_len=3, batch_size=2, return_scale=1.0,
                            max_ep_len=100)
    batch = sampler.batch_at(torch.tensor([store.episode_starts[1] + 2]))
    start = store.episode_starts[1]
    want = np.cumsum(np.sign(store.rewards[start:store.episode_starts[2]])[::-1])[::-1][:3]
    np.testing.assert_allclose(batch.returns_to_go[0, :, 0].numpy(), want, rtol=1e-6)
    from dtbench.config import ModelConfig
    from dtbench.models.dt import DecisionTransformer

    model = DecisionTransformer(ModelConfig(context_len=3, embed_dim=8, n_layer=1, n_head=1,
                                            dropout=0.0, max_ep_len=10), (4, 84, 84), 4, True,
                                encoder="nature_cnn")
    policy = DTPolicy(model, None, None, return_scale=1.0, rtg_rewards="clipped")
    policy.reset(2, target_return=5.0)
    policy.observe(np.array([4.0, -3.0]), np.ones(2, bool))
    np.testing.assert_array_equal(policy.rtg, [4.0, 6.0])
